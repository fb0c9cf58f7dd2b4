package worker_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// BenchmarkBlackholeAutoPause measures how long the auto-pause takes with
// the campaign defaults (auto_pause window 200, min_attempts 20, error
// rate 5 %, retry 5 attempts 30 s apart, batches of 500, chunks of 200)
// against a relay that accepts connections and never answers, one worker
// of concurrency 4, for a campaign with one chunk in flight (150
// recipients) and one with three (1,000: a first batch of 500), at SMTP
// timeouts of 1 s and 2 s. It reports the time in timeouts
// (timeouts/pause: the default 30 s timeout times it is the figure to
// expect) and when status's ETA first waited for an outcome. Run with
// -benchtime 1x: each run is one campaign (docs/benchmarks.md).
func BenchmarkBlackholeAutoPause(b *testing.B) {
	for _, n := range []int{150, 1000} {
		for _, timeout := range []time.Duration{time.Second, 2 * time.Second} {
			b.Run(fmt.Sprintf("recipients=%d/timeout=%s", n, timeout), func(b *testing.B) {
				for b.Loop() {
					e := newEnv(b, nil)
					e.stage(b, opts{n: n, size: 500, errorRate: 0.05, window: 200, minAtt: 20, maxAttempt: 5, backoff: "30s"})
					bh := startBlackhole(b)
					start := time.Now()
					e.startWorker(b, wopts{concurrency: 4, smtp: bh.smtp(timeout)})
					var noOutcome time.Duration
					wait.For(b, 5*time.Minute, "auto-pause", func() bool {
						st, err := e.st.Status(b.Context(), e.name)
						if err != nil {
							b.Fatal(err)
						}
						if noOutcome == 0 && st.ETAWaitsFor == store.ETAWaitsForOutcome {
							noOutcome = time.Since(start)
						}
						return st.State == store.StatePaused
					})
					took := time.Since(start)
					_, most, accepted := bh.counts()
					b.ReportMetric(float64(took)/float64(timeout), "timeouts/pause")
					b.ReportMetric(noOutcome.Seconds(), "s-to-eta-waits")
					b.ReportMetric(float64(most), "conns-at-once")
					b.ReportMetric(float64(accepted), "conns")
				}
			})
		}
	}
}
