package worker_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestPauseAndCancelStopTheWindowAtOnce: one worker, one SMTP connection,
// a claimed window of 16 whose first message the relay holds. The
// operator pauses (or cancels) meanwhile. The worker's control interval
// is an hour, so no poll can be what tells it: the announcement of the
// change (store.ControlChannel) must. Once it has read the change, the
// relay answers the held message, and no other message of the window may
// reach the relay; its claims are given back (pending after a pause,
// cancelled after a cancel), nothing is left claimed or in doubt, and the
// counts reconcile with what the relay received.
//
// The last case is a worker whose Redis user may not subscribe (an ACL):
// it says so, and polling alone (every 50 ms here) stops the window the
// same way.
func TestPauseAndCancelStopTheWindowAtOnce(t *testing.T) {
	t.Parallel()
	actor := store.Actor{Who: "tester", Host: "testhost", Env: "test"}
	pause := func(ctx context.Context, st *store.Store, c string) error {
		_, err := st.Pause(ctx, c, actor, "errors at 2 a.m.")
		return err
	}
	cancel := func(ctx context.Context, st *store.Store, c string) error {
		_, _, err := st.Cancel(ctx, c, actor, "wrong template")
		return err
	}
	for _, tc := range []struct {
		name    string
		act     func(context.Context, *store.Store, string) error
		state   store.State
		unsent  string        // the outcome of the window's other recipients
		control time.Duration // the worker's control interval
		refused bool          // the worker's Redis user may not SUBSCRIBE
	}{
		{name: "cancel", act: cancel, state: store.StateCancelled, unsent: store.OutcomeCancelled, control: time.Hour},
		{name: "pause", act: pause, state: store.StatePaused, unsent: store.OutcomePending, control: time.Hour},
		{name: "pause, subscription refused: polling", act: pause, state: store.StatePaused, unsent: store.OutcomePending, control: 50 * time.Millisecond, refused: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fault, inFlight, free := holdFirst(t)
			e := newEnv(t, fault)
			e.stage(t, opts{n: 20})
			ctx := context.Background()

			var logs syncbuf.Buffer
			// The relay may hold the message longer than the test waits.
			relay := wopts{}.smtpConfig(e)
			relay.Timeout = time.Minute
			wo := wopts{id: "w1", concurrency: 1, control: tc.control, logs: &logs, smtp: &relay}
			if tc.refused {
				wo.rdb = noSubscribe(t, e.rdb)
			}
			e.startWorker(t, wo)
			var held string
			select {
			case held = <-inFlight:
			case <-time.After(30 * time.Second):
				t.Fatal("no message reached the relay within 30 s")
			}
			if tc.refused {
				wait.For(t, 30*time.Second, "the worker to say it cannot subscribe", func() bool {
					return strings.Contains(logs.String(), "allow this worker's Redis user to subscribe")
				}, logs.String)
			} else {
				wait.For(t, 30*time.Second, "the worker's subscription", func() bool {
					return strings.Contains(logs.String(), "control changes reach this worker as they are announced")
				}, logs.String)
			}
			if err := tc.act(ctx, e.st, e.name); err != nil {
				t.Fatal(err)
			}
			// The worker reads the change (and logs it) at once: announced
			// (or polled, when it may not subscribe). Without the
			// announcement it reads it in an hour; the relay is released
			// after 10 s all the same, to show what it then sends.
			read := "campaign " + string(tc.state)
			for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), read) && time.Now().Before(deadline); {
				time.Sleep(wait.Interval)
			}
			if !strings.Contains(logs.String(), read) {
				t.Errorf("the worker did not read the %s while the window's first message was held (its control interval is %s)", tc.state, tc.control)
			}
			free()

			// The window stops: the held message's outcome is recorded with
			// the claims given back, and the chunk's task ends.
			var st *store.Status
			wait.For(t, 30*time.Second, "the held message recorded and the chunk ended", func() bool {
				var err error
				st, err = e.st.Status(ctx, e.name)
				return err == nil && st.Counts[store.OutcomeSent] >= 1 && e.claimed(t) == 0 && e.active(t) == 0
			}, func() string {
				return fmt.Sprintf("counts %v, claimed %d, chunk tasks active %d, messages received %d", st.Counts, e.claimed(t), e.active(t), len(e.smtp.Messages()))
			}, logs.String)
			got := e.received()
			if len(got) != 1 || got[held] != 1 {
				t.Errorf("after the campaign was %s, the relay received %d messages (%v); want only the one it held, %s", tc.state, len(e.smtp.Messages()), got, held)
			}
			st = e.checkReconcile(t)
			want := map[string]int64{store.OutcomeSent: 1, tc.unsent: int64(e.staged - 1)}
			for _, o := range store.Outcomes {
				if st.Counts[o] != want[o] {
					t.Errorf("%s: %d recipients, want %d (counts %v)", o, st.Counts[o], want[o], st.Counts)
				}
			}
			if s := e.state(t); s != tc.state {
				t.Errorf("state %s, want %s", s, tc.state)
			}
		})
	}
}

// noSubscribe returns a client of rdb's database as a Redis user that may
// do anything but subscribe (an ACL a cautious operator might write).
func noSubscribe(t *testing.T, rdb *redis.Client) *redis.Client {
	t.Helper()
	ctx := context.Background()
	if err := rdb.Do(ctx, "ACL", "SETUSER", "tidings-nosub", "on", ">nosub", "~*", "&*", "+@all", "-subscribe", "-psubscribe", "-ssubscribe").Err(); err != nil {
		if strings.Contains(err.Error(), "unknown command") && os.Getenv("CI") != "true" {
			// The embedded Redis (no redis-server installed) has no ACL;
			// under CI=true the test has a real redis-server or fails.
			t.Skipf("needs redis-server for an ACL user (the embedded Redis has no ACL: %v); it runs under CI=true", err)
		}
		t.Fatal(err)
	}
	opt := *rdb.Options()
	opt.Username, opt.Password = "tidings-nosub", "nosub"
	c := redis.NewClient(&opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}
