package worker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestChainedMessageGivenBackOnPauseOrCancel: the worker writes the
// window's next message's MAIL, RCPT and DATA with this message's data
// (one write a message, send.Conn.SendThen). The relay holds the first
// message's final reply; meanwhile on-call pauses (or cancels) the
// campaign, and the worker reads it. When the relay then answers, the
// next message, whose commands the relay has, must not go: the
// connection is closed without its data (no final dot, so the relay
// delivers nothing of it) and its claim is given back, pending after a
// pause, cancelled after a cancel, never in doubt; only the held message
// was sent, and the counts reconcile with what the relay received.
func TestChainedMessageGivenBackOnPauseOrCancel(t *testing.T) {
	t.Parallel()
	actor := store.Actor{Who: "tester", Host: "testhost", Env: "test"}
	for _, tc := range []struct {
		name   string
		act    func(context.Context, *store.Store, string) error
		state  store.State
		unsent string // the outcome of the window's other recipients
	}{
		{"pause", func(ctx context.Context, st *store.Store, c string) error {
			_, err := st.Pause(ctx, c, actor, "errors at 2 a.m.")
			return err
		}, store.StatePaused, store.OutcomePending},
		{"cancel", func(ctx context.Context, st *store.Store, c string) error {
			_, _, err := st.Cancel(ctx, c, actor, "wrong template")
			return err
		}, store.StateCancelled, store.OutcomeCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, rcpts, held, releaseAll := newChainEnv(t)
			e.stage(t, opts{n: 20})

			var logs syncbuf.Buffer
			relay := wopts{}.smtpConfig(e)
			relay.Timeout = time.Minute // the relay holds the reply longer than 5 s on a loaded machine
			e.startWorker(t, wopts{id: "w1", concurrency: 1, logs: &logs, smtp: &relay})
			var slow string
			select {
			case slow = <-held:
			case <-time.After(30 * time.Second):
				t.Fatal("no message reached the relay within 30 s")
			}
			if err := tc.act(context.Background(), e.st, e.name); err != nil {
				t.Fatal(err)
			}
			read := "campaign " + string(tc.state)
			wait.For(t, 30*time.Second, "the worker to read the "+string(tc.state), func() bool {
				return strings.Contains(logs.String(), read)
			}, logs.String)
			releaseAll()

			wait.For(t, 30*time.Second, "the held message recorded and the chunk ended", func() bool {
				st, err := e.st.Status(context.Background(), e.name)
				return err == nil && st.Counts[store.OutcomeSent] >= 1 && e.claimed(t) == 0 && e.active(t) == 0
			}, logs.String)
			seen := rcpts()
			if len(seen) < 2 || seen[0] != slow {
				t.Fatalf("the relay had RCPT TO for %v; want the held message's and the next one's (chained with its data)", seen)
			}
			if got := e.received(); len(got) != 1 || got[slow] != 1 {
				t.Fatalf("the relay delivered %v; want only %s (the chained message %s must not arrive)", got, slow, seen[1])
			}
			if len(seen) != 2 {
				t.Fatalf("the relay had RCPT TO for %v; want only the held message's and the next one's", seen)
			}
			// Closed without the chained message's data: not kept for reuse.
			wait.For(t, 30*time.Second, "the relay to see the connection closed", func() bool { return e.smtp.Open() == 0 })
			st := e.checkReconcile(t)
			want := map[string]int64{store.OutcomeSent: 1, tc.unsent: int64(e.staged - 1)}
			for _, o := range store.Outcomes {
				if st.Counts[o] != want[o] {
					t.Errorf("%s: %d recipients, want %d (counts %v)", o, st.Counts[o], want[o], st.Counts)
				}
			}
			err := e.st.Report(context.Background(), e.name, func(r store.Row) error {
				if r.Email == seen[1] && r.Outcome != tc.unsent {
					t.Errorf("the chained recipient %s: %s, want %s (given back, never sent)", seen[1], r.Outcome, tc.unsent)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if s := e.state(t); s != tc.state {
				t.Errorf("state %s, want %s", s, tc.state)
			}
		})
	}
}
