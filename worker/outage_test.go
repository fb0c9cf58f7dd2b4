package worker

import (
	"context"
	"fmt"
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
	t.Parallel()
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

// TestSlotMoveLoggedOnce: while a resharding moves a campaign's slot, every
// script of the campaign is refused (TRYAGAIN while its keys are split
// between the two masters, ASK once they have all gone to the new one, on
// the node client a claim's WAIT needs) and each loop tried again every
// 250 ms, each failure a WARN line: 40 a second from two workers, for as
// long as the move lasts. Like an outage, a loop says it once at WARN,
// naming the resharding, its repeats at DEBUG, and its end at INFO. The
// errors come from a real Redis Cluster with a slot half-moved.
func TestSlotMoveLoggedOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: -1})
	cc := cl.ClusterClient()
	keys := []string{"{c}:a", "{c}:b"}
	for _, k := range keys {
		if err := cc.Set(ctx, k, "1", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	m, err := cl.StartMigration(ctx, "{c}")
	if err != nil {
		t.Fatal(err)
	}
	if k, err := m.Step(ctx, 1); err != nil || k != 1 {
		t.Fatalf("move one key: %d, %v", k, err)
	}
	tryAgain := m.Src.Client().MGet(ctx, keys...).Err()
	if !redis.IsTryAgainError(tryAgain) {
		t.Fatalf("MGET of a half-moved slot's keys: %v, want TRYAGAIN", tryAgain)
	}
	if k, err := m.Step(ctx, 1); err != nil || k != 1 {
		t.Fatalf("move the other key: %d, %v", k, err)
	}
	ask := m.Src.Client().MGet(ctx, keys...).Err()
	if _, ok := redis.IsAskError(ask); !ok {
		t.Fatalf("MGET of a moved slot's keys: %v, want ASK", ask)
	}

	var logs syncbuf.Buffer
	w, err := New(Config{Redis: redistest.Start(t).Client(), SMTP: send.Config{Host: "127.0.0.1", Port: 25}, Env: "test",
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{tryAgain, tryAgain, ask, ask, tryAgain} {
		w.outage.warn("dispatch", fmt.Errorf("advance c: %w", err), "campaign", "c")
	}
	out := logs.String()
	if n := strings.Count(out, "level=WARN"); n != 1 || !strings.Contains(out, "dispatch: the Redis Cluster is moving a campaign's slot (a resharding)") {
		t.Fatalf("%d WARN lines for 5 scripts refused during a resharding, want 1 naming the resharding:\n%s", n, out)
	}
	w.outage.answered("dispatch")
	out = logs.String()
	if !strings.Contains(out, `msg="the Redis Cluster's slot move is over"`) || !strings.Contains(out, "errors_held_back=4") {
		t.Fatalf("want one INFO line saying the slot move is over, with 4 errors held back:\n%s", out)
	}
}
