package worker_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestWindowStopsWhenItsTokenStepFindsItPaused: a chunk whose rate tokens
// ran out of time mid-window records its outcomes so far before it takes
// new ones (ready), and that ledger step answers with the campaign's
// state: when the auto-pause has tripped (on this step's outcomes, or on
// another chunk's a moment before), nothing more of the window is sent,
// even though the worker's cached state (read every control interval)
// still says running. Before, ready ignored that answer, took new tokens
// and sent the rest of the window after the auto-pause.
//
// Two chunks of 8 on one worker, rate 400/s (windows of up to 16, tokens
// spent within 50 ms or dropped), auto-pause at an error rate over 50 %
// after 3 attempts. Chunk B's first recipient is held at RCPT; chunk A's
// recipients are then refused (550), and its third refusal pauses the
// campaign. The held recipient is accepted once the pause took effect and
// its window's tokens are older than their 50 ms (its transaction began
// before the pause: it finishes, as the README promises); after it, the
// SMTP server sees no RCPT. The worker's control loop reads states once, at
// start (interval an hour): what stops chunk B is the step's answer alone,
// as it must within any control interval. Every row is accounted for:
// three failed, one sent, the others pending, none claimed.
func TestWindowStopsWhenItsTokenStepFindsItPaused(t *testing.T) {
	t.Parallel()
	const chunk = 8
	held := email(chunk, testLangs[chunk%len(testLangs)]) // chunk B's first recipient
	var (
		heldAt   atomic.Int64 // unix ns its RCPT came
		atHeld   = make(chan struct{})
		release  = make(chan struct{})
		onceHeld sync.Once
		onceRel  sync.Once
		paused   atomic.Bool
		mu       sync.Mutex
		after    []string // RCPTs the server saw once the pause was seen
	)
	e := newEnv(t, func(rcpt string) error {
		if paused.Load() {
			mu.Lock()
			after = append(after, rcpt)
			mu.Unlock()
		}
		if rcpt == held {
			onceHeld.Do(func() { heldAt.Store(time.Now().UnixNano()); close(atHeld) })
			<-release
			return nil
		}
		if i, err := strconv.Atoi(rcpt[1:6]); err == nil && i < chunk { // chunk A
			<-atHeld
			return smtpcapture.Reject(550, "5.1.1 no such user")
		}
		return nil
	})
	t.Cleanup(func() { onceHeld.Do(func() { close(atHeld) }); onceRel.Do(func() { close(release) }) })
	e.stage(t, opts{n: 2 * chunk, chunk: chunk, rate: "400/s", errorRate: 0.5, window: 200, minAtt: 3})
	e.startWorker(t, wopts{concurrency: 2, control: time.Hour})

	e.waitState(t, time.Minute, store.StatePaused)
	paused.Store(true)
	st, err := e.st.Status(context.Background(), e.name)
	if err != nil {
		t.Fatal(err)
	}
	if st.Action != "auto-pause" {
		t.Fatalf("paused by %s (%s), want the auto-pause", st.Action, st.Reason)
	}
	// The held recipient's window took its tokens before its RCPT: make
	// them older than the 50 ms they may be spent in (so that ready
	// records and asks for new ones before the next recipient).
	time.Sleep(time.Until(time.Unix(0, heldAt.Load()).Add(100 * time.Millisecond)))
	onceRel.Do(func() { close(release) })

	wait.For(t, time.Minute, "the held recipient recorded, no claim left", func() bool {
		es, err := e.st.Entries(context.Background(), e.name, []string{fmt.Sprintf("id%05d", chunk)})
		return err == nil && es[0].Final() && e.claimed(t) == 0
	})
	mu.Lock()
	if len(after) > 0 {
		t.Errorf("the SMTP server saw RCPT TO for %v after the auto-pause took effect, want none: the window went on after its ledger step said paused", after)
	}
	mu.Unlock()
	if got := e.received(); len(got) != 1 || got[held] != 1 {
		t.Errorf("the SMTP server accepted messages for %v, want only the one for %s (its transaction began before the pause)", got, held)
	}
	st = e.checkReconcile(t)
	want := map[string]int64{store.OutcomeFailed: 3, store.OutcomeSent: 1, store.OutcomePending: int64(e.staged) - 4}
	for o, n := range want {
		if st.Counts[o] != n {
			t.Errorf("%d %s, want %d (counts %v)", st.Counts[o], o, n, st.Counts)
		}
	}
}
