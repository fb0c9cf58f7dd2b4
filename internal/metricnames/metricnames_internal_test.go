package metricnames

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestDescName: descName reads a Desc's name as client_golang writes it,
// and fails, naming what to update, on a Desc it cannot read (the library
// changed its String).
func TestDescName(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		desc *prometheus.Desc
		want string
	}{
		{"a plain desc", prometheus.NewDesc("tidings_a", "help", nil, nil), "tidings_a"},
		{"labels", prometheus.NewDesc("tidings_b", `help "quoted"`, []string{"x"}, prometheus.Labels{"k": "v"}), "tidings_b"},
		{"a counter's", prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tidings", Name: "c_total", Help: "h"}).Desc(), "tidings_c_total"},
	} {
		got, err := descName(tt.desc)
		if err != nil || got != tt.want {
			t.Errorf("%s: descName(%s) = %q, %v; want %q", tt.name, tt.desc, got, err, tt.want)
		}
	}
	if _, err := descName(prometheus.NewDesc("", "no name", nil, nil)); err == nil || !strings.Contains(err.Error(), "update metricnames.descName") {
		t.Errorf("descName of a desc without a name: %v; want an error naming metricnames.descName", err)
	}
}

// TestOf: Of lists every collector's metrics, vectors with no label seen
// yet and histograms included, sorted and once each, and passes on the
// registration's error.
func TestOf(t *testing.T) {
	t.Parallel()
	names, err := Of(func(reg prometheus.Registerer) error {
		reg.MustRegister(
			prometheus.NewCounterVec(prometheus.CounterOpts{Name: "z_total", Help: "h"}, []string{"outcome"}),
			prometheus.NewHistogram(prometheus.HistogramOpts{Name: "a_seconds", Help: "h"}),
			prometheus.NewGauge(prometheus.GaugeOpts{Name: "m", Help: "h"}),
		)
		return reg.Register(prometheus.NewGauge(prometheus.GaugeOpts{Name: "m", Help: "h"}))
	})
	if want := []string{"a_seconds", "m", "z_total"}; err != nil || !slices.Equal(names, want) {
		t.Errorf("Of = %v, %v; want %v", names, err, want)
	}
	boom := errors.New("boom")
	if _, err := Of(func(prometheus.Registerer) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Of of a failed registration: %v; want it wrapped", err)
	}
}

// TestDescLabels: descLabels reads a Desc's constant and variable labels
// as client_golang writes them (none, one, several; a value or a help text
// that looks like a label list is not read), and LabelsOf gathers them by metric.
func TestDescLabels(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		desc *prometheus.Desc
		want []string
	}{
		{"none", prometheus.NewDesc("tidings_a", "help", nil, nil), nil},
		{"one, and constant ones", prometheus.NewDesc("tidings_b", "help", []string{"campaign"}, prometheus.Labels{"format": "1", "version": `devel (commit a, "x"=y, modified)`}), []string{"format", "version", "campaign"}},
		{"several, the help mimicking them", prometheus.NewDesc("tidings_c", "h, variableLabels: {x}}", []string{"campaign", "lang"}, nil), []string{"campaign", "lang"}},
	} {
		got, err := descLabels(tt.desc)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: descLabels(%s) = %q, %v; want %q", tt.name, tt.desc, got, err, tt.want)
		}
	}
	labels, err := LabelsOf(func(reg prometheus.Registerer) error {
		return reg.Register(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "z_total", Help: "h"}, []string{"outcome", "campaign"}))
	})
	if want := []string{"campaign", "outcome"}; err != nil || !slices.Equal(labels["z_total"], want) {
		t.Errorf("LabelsOf = %v, %v; want z_total: %v", labels, err, want)
	}
}
