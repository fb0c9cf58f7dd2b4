package worker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestChainedMessageGivenBackAtShutdown: the worker writes the window's
// next message's MAIL, RCPT and DATA with this message's data (one write
// a message). One worker, one connection; the relay holds the first
// message's final reply, the worker gets SIGTERM meanwhile and Run, past
// its shutdown timeout, gives back the claims not begun (Worker.fence),
// among them the next message's, whose commands the relay has. When the
// relay then answers, the chunk must not send that message's data: the
// connection is closed without it, no final dot, and the relay delivers
// nothing of it. The next worker sends it, and everyone else, exactly
// once; only the first message was in the relay's hands.
func TestChainedMessageGivenBackAtShutdown(t *testing.T) {
	t.Parallel()
	e, rcpts, held, releaseAll := newChainEnv(t)
	e.stage(t, opts{n: 20})

	slow := e.stopWhileHeld(t, t.TempDir(), held)
	// The relay answers the first message now; the chunk, fenced, must
	// close the connection without the next message's data.
	releaseAll()
	wait.For(t, 30*time.Second, "the relay to see the connection closed", func() bool { return e.smtp.Open() == 0 })
	seen := rcpts()
	if len(seen) != 2 || seen[0] != slow {
		t.Fatalf("the relay had RCPT TO for %v; want the held message's and the next one's (chained with its data)", seen)
	}
	next := seen[1]
	if got := e.received(); len(got) != 1 || got[slow] != 1 {
		t.Fatalf("the relay delivered %v; want only %s (the chained message %s must not arrive)", got, slow, next)
	}

	stop := e.startWorker(t, wopts{id: "w2", concurrency: 1})
	defer stop()
	wait.For(t, 30*time.Second, "the campaign done", func() bool { return e.state(t) == store.StateDone })
	got := e.received()
	for to, n := range got {
		if n != 1 {
			t.Errorf("%s received %d messages, want 1", to, n)
		}
	}
	if len(got) != 20 {
		t.Errorf("%d recipients received a message, want 20", len(got))
	}
	err := e.st.Report(context.Background(), e.name, func(r store.Row) error {
		if r.Email == next && r.Outcome != store.OutcomeSent {
			t.Errorf("the chained recipient %s: %s, want sent (given back, then sent by the next worker)", next, r.Outcome)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// newChainEnv is an env whose relay (a go-smtp capture server) holds the
// final reply of the first message it is sent until release is called;
// held says whose it is, and rcpts returns every RCPT TO it has had, in
// order: with one write a message, the next recipient's comes with the
// held message's data.
func newChainEnv(t *testing.T) (e *env, rcpts func() []string, held <-chan string, release func()) {
	t.Helper()
	var (
		mu    sync.Mutex
		seen  []string
		first sync.Once
		freed sync.Once
		hold  = make(chan struct{})
		in    = make(chan string, 1)
	)
	release = func() { freed.Do(func() { close(hold) }) }
	t.Cleanup(release)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, err := smtpcapture.Start(ctx, smtpcapture.Config{
		Fault: func(rcpt string) error {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, rcpt)
			return nil
		},
		// Drop is asked during the data: the first message's final reply
		// waits for the test.
		Drop: func(rcpt string) bool {
			holding := false
			first.Do(func() { holding = true })
			if holding {
				in <- rcpt
				<-hold
			}
			return false
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	rdb := startRedis(t)
	rcpts = func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
	return &env{rdb: rdb, st: store.New(rdb), smtp: srv, byLang: map[string]int{}}, rcpts, in, release
}
