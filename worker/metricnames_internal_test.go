package worker

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/buildinfo"
	"github.com/tidings-mail/tidings/internal/metricnames"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestMetricNames: the worker's registration lists its metrics, those
// built from options and those its own collectors describe, each once.
func TestMetricNames(t *testing.T) {
	t.Parallel()
	names, err := metricnames.Of(RegisterMetrics)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tidings_messages_total", "tidings_worker_up", "tidings_queue_tasks", "tidings_replica_acks_held", "tidings_journal_fsyncs_total", "tidings_journal_broken"} {
		if !slices.Contains(names, want) {
			t.Errorf("metricnames.Of(RegisterMetrics) = %v: no %s", names, want)
		}
	}
	for i, n := range names {
		if !strings.HasPrefix(n, "tidings_") || (i > 0 && names[i-1] >= n) {
			t.Errorf("metricnames.Of(RegisterMetrics) = %v: %q is not a tidings_ name in order, once", names, n)
		}
	}
}

// TestBuildInfo: a worker's tidings_worker_build_info is 1, labelled with
// its stored format and version, the labels TidingsWorkerBuildsMixed
// counts, and with its environment.
func TestBuildInfo(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	if _, err := newMetrics(reg, nil, "", "production"); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"environment": "production", "format": strconv.Itoa(store.StoredFormat), "version": buildinfo.String()}
	for _, mf := range mfs {
		if mf.GetName() != "tidings_worker_build_info" {
			continue
		}
		if len(mf.GetMetric()) != 1 {
			t.Fatalf("%d series of tidings_worker_build_info, want 1", len(mf.GetMetric()))
		}
		m := mf.GetMetric()[0]
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if !maps.Equal(got, want) || m.GetGauge().GetValue() != 1 {
			t.Errorf("tidings_worker_build_info%v = %v, want %v = 1", got, m.GetGauge().GetValue(), want)
		}
		return
	}
	t.Fatal("no tidings_worker_build_info")
}
