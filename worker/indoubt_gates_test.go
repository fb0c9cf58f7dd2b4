package worker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// newEnvWith is newEnv with a capture server of the given configuration.
func newEnvWith(t testing.TB, cfg smtpcapture.Config) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, err := smtpcapture.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	rdb := startRedis(t)
	return &env{rdb: rdb, st: store.New(rdb), smtp: srv, byLang: map[string]int{}}
}

// TestGatesStopARelayThatDropsEveryReply: a relay that takes each whole
// message and then drops the connection before its reply (a content
// filter that crashes, a proxy that times out) leaves every recipient it
// took in doubt, never sent again. An in-doubt outcome counts as an error
// of the batch gate and of the auto-pause window (PRODUCT.md, Gates), so
// either stops the campaign after a few recipients, with a reason that
// says they are in doubt (not failed, not retried), and the recent errors
// mark them so. Before, in doubt was neither: the canary and every batch
// went out and the campaign ended done with its whole list in doubt.
func TestGatesStopARelayThatDropsEveryReply(t *testing.T) {
	t.Parallel()
	const n = 240
	for _, tt := range []struct {
		name   string
		o      opts
		by     string // who paused it
		reason string // in its reason
	}{
		// A canary of 2 per language (12), then batches of 40; a gate of
		// 5%, the auto-pause at 50% of at least 20 attempts: the canary's
		// gate stops it.
		{"batch gate", opts{n: n, canary: 2, size: 40, maxFail: 0.05, errorRate: 0.5, window: 100, minAtt: 20},
			"batch-gate", "12 in doubt (no reply after the data: the relay may have delivered them; never sent again)"},
		// One batch, no gate (100%): the auto-pause window stops it.
		{"auto-pause", opts{n: n, size: n, maxFail: 1, errorRate: 0.5, window: 100, minAtt: 20},
			"auto-pause", "over the last 2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvWith(t, smtpcapture.Config{Drop: func(string) bool { return true }})
			e.stage(t, tt.o)
			e.startWorker(t, wopts{})
			wait.For(t, 60*time.Second, "the campaign to stop or finish", func() bool {
				s := e.state(t)
				return s == store.StatePaused || s == store.StateDone
			})
			// The other connections record what they had in flight when the
			// campaign stopped (in doubt: the relay took it) and give back
			// the rest of their windows after it: until then the relay holds
			// messages the ledger has as pending, and status and report,
			// read one after the other, can each see a different count.
			wait.For(t, 30*time.Second, "the claims in flight at the stop to end", func() bool { return e.claimed(t) == 0 })
			st := e.checkReconcile(t)
			doubt := st.Counts[store.OutcomeInDoubt]
			t.Logf("state %s by %s (%s), counts %v", st.State, st.By, st.Reason, st.Counts)
			if st.State != store.StatePaused || st.By != tt.by {
				t.Errorf("the campaign is %s by %q with %d of its %d recipients in doubt (the relay answered none of them), want paused by %s", st.State, st.By, doubt, n, tt.by)
			}
			if doubt == 0 || doubt > n/2 {
				t.Errorf("%d of %d recipients are in doubt, want some and at most half", doubt, n)
			}
			if !strings.Contains(st.Reason, tt.reason) || !strings.Contains(st.Reason, "last error: in doubt, no reply after the message was sent") {
				t.Errorf("reason %q, want it to contain %q and the last error, in doubt", st.Reason, tt.reason)
			}
			if len(st.Errors) == 0 || !st.Errors[0].InDoubt || st.Errors[0].Temporary {
				t.Errorf("recent errors %+v, want them in doubt (not temporary)", st.Errors)
			}
		})
	}
}
