package worker

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
)

// TestOutageLoggedOnce: while Redis is unreachable the control loop's
// reads fail every tick; the log says so once at WARN (the repeats at
// DEBUG), and once, at INFO, when that loop reaches Redis again, with how
// many failures it held back. Another loop's success does not end it. An
// error Redis answers with is not an outage and is logged each time.
func TestOutageLoggedOnce(t *testing.T) {
	var logs syncbuf.Buffer
	rdb := redistest.Start(t).Client()
	w, err := New(Config{Redis: rdb, SMTP: send.Config{Host: "127.0.0.1", Port: 25}, Env: "test",
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	ctx := context.Background()
	w.st = store.New(down)
	for range 5 {
		w.refreshStates(ctx)
	}
	out := logs.String()
	if n := strings.Count(out, "level=WARN"); n != 1 || !strings.Contains(out, "read active campaigns: Redis is unreachable") {
		t.Fatalf("%d WARN lines for 5 failed reads, want 1 saying Redis is unreachable:\n%s", n, out)
	}
	// A minute on, the outage is said again at WARN, with how long and how
	// many errors were held back (the clock of its last WARN set back
	// rather than waiting a minute).
	w.outage.mu.Lock()
	s := w.outage.sites["read active campaigns"]
	s.warned = s.warned.Add(-outageRepeat)
	s.since = s.since.Add(-outageRepeat)
	w.outage.mu.Unlock()
	w.refreshStates(ctx)
	w.refreshStates(ctx)
	out = logs.String()
	if n := strings.Count(out, "level=WARN"); n != 2 || !strings.Contains(out, "read active campaigns: Redis is still unreachable") ||
		!strings.Contains(out, "unreachable_for=1m") || !strings.Contains(out, "errors_held_back=5") {
		t.Fatalf("%d WARN lines after a minute and 7 failed reads, want a second saying Redis is still unreachable for 1m with 5 held back:\n%s", n, out)
	}
	w.outage.answered("dispatch") // another loop
	if strings.Contains(logs.String(), "Redis answers again") {
		t.Fatalf("another loop's success ended the outage:\n%s", logs.String())
	}
	w.st = store.New(rdb)
	w.refreshStates(ctx)
	w.refreshStates(ctx)
	out = logs.String()
	if n := strings.Count(out, `msg="Redis answers again" worker=`); n != 1 || !strings.Contains(out, `loop="read active campaigns"`) || !strings.Contains(out, "errors_held_back=6") {
		t.Fatalf("want one line saying Redis answers again, with 6 errors held back:\n%s", out)
	}
	// An error reply is logged every time.
	w.outage.warn("dispatch", redis.ErrClosed)
	w.outage.warn("dispatch", redis.ErrClosed)
	if n := strings.Count(logs.String(), `level=WARN msg=dispatch`); n != 2 {
		t.Errorf("%d WARN lines for two errors that are not an outage, want 2:\n%s", n, logs.String())
	}
}
