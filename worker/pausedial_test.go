package worker_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// heldRelay is a TCP relay in front of the real SMTP capture server that
// holds every new connection after the first pass ones (no byte either
// way) until release: an SMTP relay slow to greet, as postscreen's greet
// delay or a loaded relay is.
type heldRelay struct {
	ln      net.Listener
	to      string
	held    atomic.Int32
	acked   atomic.Int32 // replies to a message's data passed to the worker
	release chan struct{}
	once    sync.Once

	mu     sync.Mutex
	pass   int        // connections still to pass through at once
	passed []net.Conn // the worker's side of those
}

func startHeldRelay(t *testing.T, to string, pass int) *heldRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &heldRelay{ln: ln, to: to, release: make(chan struct{}), pass: pass}
	t.Cleanup(func() { h.open(); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go h.serve(c)
		}
	}()
	return h
}

func (h *heldRelay) open() { h.once.Do(func() { close(h.release) }) }

// cut closes the connections passed through, as a relay that drops an
// idle connection does.
func (h *heldRelay) cut() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.passed {
		c.Close()
	}
}

func (h *heldRelay) serve(c net.Conn) {
	defer c.Close()
	h.mu.Lock()
	pass := h.pass > 0
	if pass {
		h.pass--
		h.passed = append(h.passed, c)
	}
	h.mu.Unlock()
	if !pass {
		h.held.Add(1)
		<-h.release
	}
	up, err := net.Dial("tcp", h.to)
	if err != nil {
		return
	}
	defer up.Close()
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	h.forward(c, up)
}

// forward copies the server's replies to the worker, counting the replies
// to a message's data (the final 250 line after a 354) once written to the
// worker's side: the server holds a message before it replies, so its
// count alone does not say the worker knows the message was sent, and a
// connection cut in between leaves it in doubt.
func (h *heldRelay) forward(c, up net.Conn) {
	r := bufio.NewReader(up)
	data := false
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			if _, err := c.Write(line); err != nil {
				return
			}
			switch {
			case bytes.HasPrefix(line, []byte("354")):
				data = true
			case data && bytes.HasPrefix(line, []byte("250 ")):
				data = false
				h.acked.Add(1)
			}
		}
		if err != nil {
			return
		}
	}
}

func (h *heldRelay) port() int { return h.ln.Addr().(*net.TCPAddr).Port }

// TestNoMessageAfterPauseWhileTheRelayGreets: on-call pauses a campaign
// while the only worker's connection to the SMTP relay has not been
// greeted yet: nothing has been handed to the SMTP server. The README
// promises "Pause: workers stop claiming; messages already handed to the
// SMTP server finish, and nothing else starts", across all workers within
// a second. The relay greets two seconds after the pause returned (the
// worker's control loop runs every 50 ms here): nothing may go out then.
// (A chunk used to claim its first window, then dial, and send the first
// message whatever the state had become meanwhile.) The held dial is the
// chunk's first, or (redial) the silent redial of a connection the relay
// dropped while the worker waited for the campaign's rate (Send redials a
// reused connection closed on MAIL FROM): the window's claim was made
// before that one, and is given back.
func TestNoMessageAfterPauseWhileTheRelayGreets(t *testing.T) {
	t.Parallel()
	messageAfterControl(t, pause)
}

// TestNoMessageAfterCancelWhileTheRelayGreets: the same with cancel, after
// which the recipient is cancelled, not in doubt: it never reached the
// server (a claim the redial held is in doubt until the worker gives it
// back unsent).
func TestNoMessageAfterCancelWhileTheRelayGreets(t *testing.T) {
	t.Parallel()
	messageAfterControl(t, cancelIt)
}

func pause(st *store.Store, c string, a store.Actor) error {
	_, err := st.Pause(context.Background(), c, a, "bounce rate climbing")
	return err
}

func cancelIt(st *store.Store, c string, a store.Actor) error {
	_, _, err := st.Cancel(context.Background(), c, a, "wrong recipients file")
	return err
}

// messageAfterControl runs act while the worker's dial is held by the
// relay, lets the relay greet 2 s later and checks that nothing more
// reaches the server, and that nobody is in doubt: once for the first
// dial of the chunk, once for a redial after the relay dropped the first
// connection.
func messageAfterControl(t *testing.T, act func(st *store.Store, c string, a store.Actor) error) {
	for _, redial := range []bool{false, true} {
		t.Run(fmt.Sprintf("redial=%v", redial), func(t *testing.T) {
			t.Parallel()
			messageAfterControlWhile(t, redial, act)
		})
	}
}

func messageAfterControlWhile(t *testing.T, redial bool, act func(st *store.Store, c string, a store.Actor) error) {
	e := newEnv(t, nil)
	o, pass := opts{n: 12}, 0
	if redial {
		// One message every 3 s: the first goes out on the first
		// connection, which the relay drops before the next.
		o.rate, pass = "1/3s", 1
	}
	relay := startHeldRelay(t, e.smtp.Addr(), pass)
	e.stage(t, o)
	var logs syncbuf.Buffer

	w, err := worker.New(worker.Config{
		Redis: e.rdb, Concurrency: 1,
		SMTP:            send.Config{Host: "127.0.0.1", Port: relay.port(), TLS: send.TLSNone, Timeout: 20 * time.Second},
		Env:             "test",
		ControlInterval: 50 * time.Millisecond, TickInterval: 50 * time.Millisecond, ReconcileInterval: 200 * time.Millisecond,
		ShutdownTimeout: 5 * time.Second,
		Logger:          slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // what the worker did, for a failure's diagnosis
		if t.Failed() {
			t.Logf("worker log:\n%s", logs.String())
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { relay.open(); cancel(); <-done })

	if redial {
		// Its reply, not only the message, must have reached the worker:
		// a cut between the two leaves it in doubt (seen under CI load).
		wait.For(t, time.Minute, "the first message's reply", func() bool { return relay.acked.Load() > 0 })
		relay.cut()
	}
	wait.For(t, time.Minute, "the worker to connect to the relay", func() bool { return relay.held.Load() > 0 })
	if err := act(e.st, e.name, store.Actor{Who: "oncall", Host: "h", Env: "test"}); err != nil {
		t.Fatal(err)
	}
	atPause := e.smtp.Count()
	time.Sleep(2 * time.Second) // well past "within a second" and 40 control intervals
	relay.open()
	// The worker gives back what it claimed and did not send: nobody is
	// claimed or in doubt (a cancel marks a claim in doubt until then).
	// From then on nothing more can reach the server: what the worker
	// sent, it recorded after the server's reply, and the pause or cancel
	// lets no claim be made. (Ten seconds without a new message stood for
	// this, and the record of the first message could still be on its way
	// after them on a loaded machine.)
	var st *store.Status
	wait.For(t, time.Minute, "every claim given back or recorded, nobody in doubt", func() bool {
		if e.claimed(t) > 0 { // first: status read after it holds its records
			return false
		}
		st, err = e.st.Status(context.Background(), e.name)
		return err == nil && st.Counts[string(store.KindInDoubt)] == 0
	})
	if got := e.smtp.Count(); got != atPause {
		t.Errorf("%d messages reached the SMTP server when the pause or cancel returned, %d after it (nothing in the server's hands when it returned; the relay greeted 2 s later): want none after it", atPause, got)
	}
	if st.Counts[string(store.KindSent)] != int64(atPause) {
		t.Errorf("%d recorded sent, %d messages reached the server", st.Counts[string(store.KindSent)], atPause)
	}
}
