package worker_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/store"
)

// roundTrips records every round trip a client makes to Redis: the
// commands of one request (a pipeline's, or one command), lower-cased.
type roundTrips struct {
	mu   sync.Mutex
	trip [][]string
}

func (h *roundTrips) add(cmds ...redis.Cmder) {
	var trip []string
	for _, c := range cmds {
		var args []string
		for _, a := range c.Args() {
			s, _ := a.(string)
			args = append(args, strings.ToLower(s))
		}
		trip = append(trip, strings.Join(args, " "))
	}
	h.mu.Lock()
	h.trip = append(h.trip, trip)
	h.mu.Unlock()
}

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.add(cmd)
		return next(ctx, cmd)
	}
}
func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.add(cmds...)
		return next(ctx, cmds)
	}
}

// TestChunkStartIsOneRoundTrip: a chunk reads its recipients, its
// campaign's control and the state key's run id (INFO) in one request to
// Redis, not three: a chunk's requests cost Redis more than most of what it
// does for them (docs/benchmarks.md, "What a chunk costs Redis"). Every
// chunk read is in a round trip with the control and INFO, and every chunk
// is still sent.
func TestChunkStartIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const n, chunk = 60, 10
	e.stage(t, opts{name: "one-trip", n: n, chunk: chunk})
	hooked := redis.NewClient(e.rdb.Options())
	t.Cleanup(func() { _ = hooked.Close() })
	h := &roundTrips{}
	hooked.AddHook(h)
	e.startWorker(t, wopts{rdb: hooked})
	e.waitState(t, 60*time.Second, store.StateDone)
	if got := e.smtp.Count(); got != n {
		t.Fatalf("the server received %d messages, want %d", got, n)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	reads := 0
	for _, trip := range h.trip {
		all := strings.Join(trip, "\n")
		if !strings.Contains(all, "mget tidings:{one-trip}:chunk:") {
			continue
		}
		reads++
		if !strings.Contains(all, "hgetall tidings:{one-trip}:control") || !strings.Contains(all, "info server") || len(trip) != 3 {
			t.Errorf("a chunk read in a round trip of its own, or with others: %q; want it with the control and INFO", trip)
		}
	}
	if reads < n/chunk {
		t.Errorf("%d chunk reads, want at least %d (one a chunk)", reads, n/chunk)
	}
}
