package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestCancelAgainSaysWhatIsInFlightNow: a second cancel of a campaign the
// first cancelled while r0 was being sent says what is true when it runs,
// not what was at the first cancel's moment: once r0's sender recorded
// it, nothing is being sent and the count is final; while r0 is still in
// the server's hands (its sender alive, no record yet), one still is.
// Once its sender is gone (killed: on-call cancels again at 2 a.m.),
// nobody sends r0 or will record it: it stays in doubt (as a worker's
// lua/doubted.lua pass counts it), so nothing is being sent now.
func TestCancelAgainSaysWhatIsInFlightNow(t *testing.T) {
	t.Parallel()
	const stale = "1 were being sent at that moment"
	for _, tt := range []struct {
		name     string
		recorded bool // r0's sender recorded it sent before the second cancel
		alive    bool // r0's sender says it is alive meanwhile, as a worker does
		want     []string
		not      []string
	}{
		{"r0 recorded since", true, true, []string{"2 unsent recipients recorded as cancelled in all", "none is being sent now"}, []string{stale, "not final", "see status"}},
		{"r0 still being sent", false, true, []string{"2 unsent recipients recorded as cancelled in all", "still being sent now: 1", "see status"}, []string{stale}},
		{"r0's sender gone", false, false, []string{"2 unsent recipients recorded as cancelled in all", "none is being sent now"}, []string{stale, "still being sent", "not final", "see status"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := store.New(startRedis(t))
			ctx := t.Context()
			l, p := claimR0(t, st, "c-again")
			if _, _, err := st.Cancel(ctx, "c-again", store.Actor{Who: "oncall"}, "stop"); err != nil {
				t.Fatal(err)
			}
			if tt.recorded {
				if _, err := l.Step(ctx, []store.Record{{ID: "r0", Lang: "de", Kind: store.KindSent, Token: "w/1"}}, nil, p, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			stop := func() {}
			if tt.alive {
				stop = sayAlive(t, st, "w")
			}
			got, already, err := st.Cancel(ctx, "c-again", store.Actor{Who: "oncall"}, "again")
			stop()
			if err != nil || already == nil {
				t.Fatalf("second cancel: %+v, %+v, %v; want the first cancel in force", got, already, err)
			}
			said := got.Answer("c-again", "Cancelled c-again: ", already, "see status")
			for _, w := range tt.want {
				if !strings.Contains(said, w) {
					t.Errorf("the second cancel says %q, want %q in it", said, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(said, n) {
					t.Errorf("the second cancel says %q, which holds %q: not true now", said, n)
				}
			}
		})
	}
}

// sayAlive has worker say it is alive in environment test, as a running
// worker does (five times a window), until the returned stop is called;
// it returns once the worker has said so once.
func sayAlive(t *testing.T, st *store.Store, worker string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	if err := st.SayAlive(ctx, "test", worker, store.CheckInWindow); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		tk := time.NewTicker(store.CheckInWindow / 5)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				_ = st.SayAlive(ctx, "test", worker, store.CheckInWindow)
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}
