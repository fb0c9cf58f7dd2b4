package worker_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestCampaignMovesOnAtItsChunksEnd: the worker's dispatch tick is an
// hour, so no tick can be what moves the campaign forward after its start
// (which wakes the dispatch loop itself). The chunk whose end completes its
// batch's first pass wakes the dispatch loop: the next batch is released,
// and the campaign is marked done once every recipient has an outcome, at
// once, not at the next tick (250 ms by default: on average an eighth of
// a second between the last message and "done", and between two batches).
// So does the end of a retry's pass that gives the last recipient its
// outcome (its batch's first pass was complete long before).
func TestCampaignMovesOnAtItsChunksEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		o        opts
		released int  // batches released by the end
		temp     bool // recipient 3's first attempt fails temporarily (451): retried
	}{
		{name: "one batch: done", o: opts{n: 30, size: 30, chunk: 10}, released: 1},
		{name: "three batches: released in turn, then done", o: opts{n: 30, size: 10, chunk: 5}, released: 3},
		{name: "a retry ends last: done", o: opts{n: 30, size: 30, chunk: 10}, released: 1, temp: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var failed atomic.Bool
			e := newEnv(t, func(rcpt string) error {
				var i int
				if _, err := fmtSscanf(rcpt, &i); err != nil || i != 3 || !tc.temp || failed.Swap(true) {
					return nil
				}
				return smtpReject(451, "4.3.0 mailbox temporarily unavailable")
			})
			e.stage(t, tc.o)
			var logs syncbuf.Buffer
			e.startWorker(t, wopts{id: "w1", tick: time.Hour, logs: &logs})
			var st *store.Status
			wait.For(t, 30*time.Second, "the campaign done with its dispatch tick an hour away", func() bool {
				return e.state(t) == store.StateDone
			}, func() string {
				st, _ = e.st.Status(context.Background(), e.name)
				return fmt.Sprintf("state %s, counts %v", e.state(t), st.Counts)
			}, logs.String)
			st = e.checkReconcile(t)
			if st.Counts[store.OutcomeSent] != int64(tc.o.n) {
				t.Errorf("sent %d, want %d (counts %v)", st.Counts[store.OutcomeSent], tc.o.n, st.Counts)
			}
			if got := strings.Count(logs.String(), `msg="batch released"`); got != tc.released {
				t.Errorf("%d batches released, want %d", got, tc.released)
			}
			if got := len(e.received()); got != tc.o.n {
				t.Errorf("the relay received %d recipients, want %d", got, tc.o.n)
			}
		})
	}
}
