package worker

import (
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestMetricNames: MetricNames lists the worker's metrics, those built
// from options and those its own collectors describe, each once; descName
// reads a Desc's name as client_golang writes it, and fails, naming what
// to update, on a Desc it cannot read (the library changed its String).
func TestMetricNames(t *testing.T) {
	t.Parallel()
	names, err := MetricNames()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tidings_messages_total", "tidings_worker_up", "tidings_queue_tasks", "tidings_replica_acks_held", "tidings_journal_fsyncs_total"} {
		if !slices.Contains(names, want) {
			t.Errorf("MetricNames() = %v: no %s", names, want)
		}
	}
	for i, n := range names {
		if !strings.HasPrefix(n, "tidings_") || (i > 0 && names[i-1] >= n) {
			t.Errorf("MetricNames() = %v: %q is not a tidings_ name in order, once", names, n)
		}
	}
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
	if _, err := descName(prometheus.NewDesc("", "no name", nil, nil)); err == nil || !strings.Contains(err.Error(), "update worker.descName") {
		t.Errorf("descName of a desc without a name: %v; want an error naming worker.descName", err)
	}
}
