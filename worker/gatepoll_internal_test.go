package worker

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// aliveAsks counts the Alive calls (alive.lua asked for the list of
// workers alive) that Redis answered, and holds each while hold is set.
type aliveAsks struct {
	key  string
	n    atomic.Int32
	hold atomic.Pointer[chan struct{}]
}

func (h *aliveAsks) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *aliveAsks) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		args := cmd.Args()
		asks := len(args) > 3 && args[3] == h.key && args[len(args)-1] == "1" && strings.HasPrefix(strings.ToLower(cmd.Name()), "eval")
		if asks {
			if c := h.hold.Load(); c != nil {
				<-*c
			}
		}
		err := next(ctx, cmd)
		if asks && err == nil {
			h.n.Add(1)
		}
		return err
	}
}
func (h *aliveAsks) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestGatePollIsShared: the chunks of a campaign waiting for the other
// workers' journal checks share one poll of Redis per 100 ms (each ran
// alive.lua and checkin.lua, which read every worker's entry, every 100
// ms: 80 scripts a second per campaign for a worker of 8 connections, and
// a fleet's workers all wait at once after a failover); and a chunk never
// waits for another's poll.
func TestGatePollIsShared(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	plain := redistest.Start(t).Client()
	hooked := redis.NewClient(plain.Options())
	t.Cleanup(func() { _ = hooked.Close() })
	h := &aliveAsks{key: store.WorkersKey("gp")}
	hooked.AddHook(h)
	w := &Worker{cfg: Config{WorkerID: "wk", Env: "gp", Concurrency: 8, ClaimWindow: 1}.WithDefaults(), st: store.New(hooked),
		log: slog.New(slog.DiscardHandler)}
	cs := &campaignState{name: "gp-c"}
	for range 8 { // 8 chunks, one after another within microseconds
		if _, _, err := w.gatePoll(ctx, cs, "1000/r", "*"); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.n.Load(); n != 1 {
		t.Errorf("8 chunks asked Redis %d times within 100 ms, want once", n)
	}
	if _, _, err := w.gatePoll(ctx, cs, "2000/r", "*"); err != nil || h.n.Load() != 2 {
		t.Errorf("another state: %d polls, %v; want a poll of its own", h.n.Load(), err)
	}
	time.Sleep(gatePollEvery + 20*time.Millisecond)
	if _, _, err := w.gatePoll(ctx, cs, "2000/r", "*"); err != nil || h.n.Load() != 3 {
		t.Errorf("after the answer aged: %d polls, %v; want a poll again", h.n.Load(), err)
	}

	// One chunk's poll held in Redis: another does not wait for it.
	hold := make(chan struct{})
	h.hold.Store(&hold)
	time.Sleep(gatePollEvery + 20*time.Millisecond)
	first := make(chan error, 1)
	go func() { _, _, err := w.gatePoll(ctx, cs, "2000/r", "*"); first <- err }()
	for !cs.polling.Load() {
		time.Sleep(time.Millisecond)
	}
	settled, behind, err := w.gatePoll(ctx, cs, "3000/r", "*")
	if settled || len(behind) != 0 || err != nil {
		t.Errorf("while another chunk polls, a new state: %v, %v, %v; want not yet", settled, behind, err)
	}
	h.hold.Store(nil)
	close(hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if n := h.n.Load(); n != 4 {
		t.Errorf("%d polls, want 4: the chunk that found another polling asked nothing", n)
	}
}
