package worker

import (
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/metricnames"
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
