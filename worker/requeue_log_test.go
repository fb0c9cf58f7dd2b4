package worker_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestRetryRequeueIsNotWarnedOf: a chunk that a retry re-queued recipients of is run again by the reconciler as routine, not as a lost
// or abandoned task. Two workers' logs (slog, text) hold no WARN or ERROR record:
//
//   - while retries re-queue temporary failures of a running campaign, again and again, some chunks mid-pass;
//   - when retry --permanent re-queues the permanent failures of a campaign paused by them, and it is resumed
//     (the auto-pause itself is a WARN, and the only one).
//
// Checked because a misleading WARN was suspected there ("replacing a lost or abandoned chunk task"): none is
// logged, since a chunk task that ended is gone from asynq (no retention), and the reconciler enqueues the
// chunk's next task without a word.
func TestRetryRequeueIsNotWarnedOf(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tt := range []struct {
		name      string
		reply     func() error // the relay's answer to the failing recipients
		o         opts
		permanent bool
	}{
		{"retry while running", func() error { return smtpReject(451, "4.3.0 try again later") },
			opts{n: 200, size: 50, chunk: 10, rate: "100/s", errorRate: 0.9, maxFail: 0.9, maxAttempt: 1}, false},
		{"retry --permanent on a paused campaign, resumed", func() error { return smtpReject(554, "5.7.1 relay access denied") },
			opts{n: 40, size: 40, chunk: 5, errorRate: 0.5, window: 4, minAtt: 2, maxFail: 0.9, maxAttempt: 1}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var fixed atomic.Bool
			e := newEnv(t, func(rcpt string) error {
				var i int
				if _, err := fmtSscanf(rcpt, &i); err != nil || fixed.Load() || (!tt.permanent && i%10 != 3) {
					return nil
				}
				return tt.reply()
			})
			e.stage(t, tt.o)
			var logs syncbuf.Buffer
			e.startWorker(t, wopts{logs: &logs, id: "w1"})
			e.startWorker(t, wopts{logs: &logs, id: "w2"})
			scope := store.RetryScope{Permanent: tt.permanent}
			var requeued int
			if tt.permanent {
				e.waitState(t, 30*time.Second, store.StatePaused)
				// The messages in flight at the pause finish (and fail)
				// after it: retry re-queues the failures it finds, so it
				// waits for them, as on-call runs it once the campaign
				// has settled.
				ids := make([]string, tt.o.n)
				for i := range ids {
					ids[i] = fmt.Sprintf("id%05d", i)
				}
				wait.For(t, 30*time.Second, "the messages in flight at the pause to end", func() bool {
					es, err := e.st.Entries(ctx, e.name, ids)
					return err == nil && !slices.ContainsFunc(es, func(en store.Entry) bool { return en.State == "sending" })
				}, logs.String)
				fixed.Store(true)
				retried, err := e.st.Requeue(ctx, e.name, tester, scope)
				if err != nil {
					t.Fatal(err)
				}
				requeued += retried.N
				if _, err := e.st.Resume(ctx, e.name, tester, "relay fixed"); err != nil {
					t.Fatal(err)
				}
			} else {
				// Retries land while chunks run; the relay is fixed before
				// the last ones.
				for i := 0; i < 6; i++ {
					wait.For(t, 30*time.Second, "a new temporary failure", func() bool {
						st, err := e.st.Status(ctx, e.name)
						return err == nil && (st.Counts[store.OutcomeFailed] > 0 || st.State == store.StateDone)
					})
					if i == 4 {
						fixed.Store(true)
					}
					retried, err := e.st.Requeue(ctx, e.name, tester, scope)
					if err != nil {
						t.Fatal(err)
					}
					requeued += retried.N
				}
			}
			wait.For(t, 60*time.Second, "every recipient sent", func() bool {
				st, err := e.st.Status(ctx, e.name)
				return err == nil && st.State == store.StateDone && st.Counts[store.OutcomeSent] == int64(tt.o.n)
			}, logs.String)
			if requeued == 0 {
				t.Fatal("no retry re-queued anyone: the test tests nothing")
			}
			var warned []string
			for _, l := range strings.Split(logs.String(), "\n") {
				if (strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR")) && !strings.Contains(l, `msg="campaign paused automatically"`) {
					warned = append(warned, l)
				}
			}
			if len(warned) > 0 {
				t.Errorf("%d re-queued by retry: the workers warned of a routine requeue:\n%s", requeued, strings.Join(warned, "\n"))
			}
			if tt.permanent && strings.Count(logs.String(), "level=WARN") != 1 {
				t.Errorf("want the auto-pause's WARN once\n%s", logs.String())
			}
		})
	}
}
