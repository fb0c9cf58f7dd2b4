package worker

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/syncbuf"
)

// TestWorkerRefusesAClockFarFromRedis: asynq times its servers' liveness
// and its tasks' leases in each worker's own clock, so a worker whose
// clock is 10 minutes ahead of Redis's (its recoverer takes running
// chunks back from live workers) or 3 hours behind (a VM resumed from
// suspend: every other worker takes it for dead) does not start; Run says
// which way and by how much. Before the check, Run started both.
func TestWorkerRefusesAClockFarFromRedis(t *testing.T) {
	rdb := redistest.Start(t).Client()
	for _, tt := range []struct {
		skew time.Duration
		want string
	}{
		{10 * time.Minute, "this host's clock is 10m0s ahead of Redis's"},
		{-3 * time.Hour, "this host's clock is 3h0m0s behind Redis's"},
	} {
		var logs syncbuf.Buffer
		w, err := New(Config{Redis: rdb, SMTP: send.Config{Host: "127.0.0.1", Port: 25}, Env: "test",
			Logger: slog.New(slog.NewTextHandler(&logs, nil)), ShutdownTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		w.clock = func() time.Time { return time.Now().Add(tt.skew) }
		// Bounded so that a worker that starts (the check gone) ends.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = w.Run(ctx)
		cancel()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("skew %v: Run returned %v; want an error saying %q", tt.skew, err, tt.want)
		}
		if strings.Contains(logs.String(), "worker started") {
			t.Errorf("skew %v: the worker started:\n%s", tt.skew, logs.String())
		}
	}
	// Within MaxClockSkew, and right: no error.
	for _, skew := range []time.Duration{0, MaxClockSkew - time.Second, -(MaxClockSkew - time.Second)} {
		if err := checkClock(context.Background(), rdb, func() time.Time { return time.Now().Add(skew) }); err != nil {
			t.Errorf("skew %v: %v; want none", skew, err)
		}
	}
}

// TestWatchClockSaysOnceWhenTheClockIsStepped: a running worker whose
// clock NTP steps 10 minutes away from Redis's logs it once, as an error
// naming the offset, and once more when it agrees again.
func TestWatchClockSaysOnceWhenTheClockIsStepped(t *testing.T) {
	rdb := redistest.Start(t).Client()
	var logs syncbuf.Buffer
	w, err := New(Config{Redis: rdb, SMTP: send.Config{Host: "127.0.0.1", Port: 25}, Env: "test", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var skew time.Duration
	w.clock = func() time.Time { return time.Now().Add(skew) }
	ctx := context.Background()
	w.watchClock(ctx)
	if strings.Contains(logs.String(), "clock") {
		t.Fatalf("a right clock logged:\n%s", logs.String())
	}
	skew = 10 * time.Minute
	w.watchClock(ctx)
	w.watchClock(ctx)
	if n := strings.Count(logs.String(), "this host's clock is far from Redis's"); n != 1 || !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "offset=10m0") {
		t.Fatalf("a clock 10 minutes ahead logged %d errors; want one naming the offset:\n%s", n, logs.String())
	}
	skew = 0
	w.watchClock(ctx)
	w.watchClock(ctx)
	if n := strings.Count(logs.String(), "agrees with Redis's again"); n != 1 {
		t.Errorf("the clock set right again logged %d times; want once:\n%s", n, logs.String())
	}
}
