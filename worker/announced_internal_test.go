package worker

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestRunsReadsThroughAnAnnouncedChange: the check before each message
// (Worker.runs) trusts the control loop's cache only while no control
// change was announced since the loop began its last read. Once a pause is
// announced (watchControl hears it), the check reads the campaign's state
// from Redis, and sees the pause, before the control loop has read it
// again (here it never runs); the loop's next read makes the cache fresh
// again, and the check trusts it.
func TestRunsReadsThroughAnAnnouncedChange(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	rdb := redistest.Start(t).Client()
	st := store.New(rdb)
	sum := stageTest(t, st, "an", 2, 0, false)
	var logs syncbuf.Buffer
	w, err := New(Config{Redis: rdb, SMTP: send.Config{Host: "127.0.0.1", Port: 25}, Env: "test", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	w.st = st
	cs := &campaignState{name: "an", stage: sum.Stage}
	w.refreshStates(ctx)
	if !w.runs(ctx, cs) {
		t.Fatal("a running campaign, as the control loop read it, does not run")
	}
	go w.watchControl(ctx)
	wait.For(t, 30*time.Second, "the subscription", func() bool {
		return strings.Contains(logs.String(), "control changes reach this worker as they are announced")
	}, logs.String)

	if _, err := st.Pause(ctx, "an", store.Actor{Who: "tester", Env: "test"}, "now"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 30*time.Second, "the pause announced to the worker", func() bool { return w.announced.Load() > 0 })
	if w.runs(ctx, cs) {
		t.Error("after the pause was announced, and before the control loop read it, the check still says the campaign runs")
	}
	if len(w.control) != 1 {
		t.Error("the announcement did not wake the control loop")
	}
	w.refreshStates(ctx)
	w.mu.Lock()
	fresh := w.statesAt == w.announced.Load()
	w.mu.Unlock()
	if !fresh || w.runs(ctx, cs) {
		t.Errorf("after the control loop read the pause: cache fresh %v, runs %v; want fresh, not running", fresh, w.runs(ctx, cs))
	}
}
