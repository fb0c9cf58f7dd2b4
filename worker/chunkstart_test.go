package worker_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
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
		if !strings.Contains(all, "hgetall tidings:{one-trip}:control") || !strings.Contains(all, "info server") ||
			!strings.Contains(all, "srem tidings:{one-trip}:fresh") || len(trip) != 6 {
			t.Errorf("a chunk read in a round trip of its own, or with others: %q; want it with the control, INFO and whether it is fresh (store.StartChunk)", trip)
		}
	}
	if reads < n/chunk {
		t.Errorf("%d chunk reads, want at least %d (one a chunk)", reads, n/chunk)
	}
}

// lossAfterChunkRead is a Redis hook: once the pipeline that reads chunk
// of its campaign has been answered, it makes Redis lose that chunk and
// come back as another process (restarted from a snapshot without it), as
// a Redis restored or failed over while the chunk's check waits.
type lossAfterChunkRead struct {
	t   *testing.T
	rdb *redis.Client // not hooked
	r   interface {
		Restart(context.Context, bool) error
	}
	chunk string
	once  sync.Once
}

func (h *lossAfterChunkRead) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *lossAfterChunkRead) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *lossAfterChunkRead) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			if len(c.Args()) == 2 && c.Args()[0] == "mget" && c.Args()[1] == h.chunk {
				h.once.Do(h.lose)
			}
		}
		return err
	}
}

func (h *lossAfterChunkRead) lose() {
	ctx := context.Background()
	if err := h.rdb.Del(ctx, h.chunk).Err(); err != nil {
		h.t.Error(err)
	}
	if err := h.rdb.Save(ctx).Err(); err != nil {
		h.t.Error(err)
	}
	if err := h.r.Restart(ctx, false); err != nil {
		h.t.Error(err)
	}
}

// TestChunkReadBeforeAStateChangeIsReadAgain: a chunk's recipients are
// read with its campaign's control before its check (Store.StartChunk);
// when Redis comes back as another process while the check waits (here:
// restarted without the chunk, right after the chunk was read), the check
// passes for the new state, and the chunk must be read again in it: the
// recipients read from the Redis before are not the new state's, and the
// chunk Redis lost pauses the campaign for state loss, as a chunk read
// after the check finds it. Nobody is sent anything.
func TestChunkReadBeforeAStateChangeIsReadAgain(t *testing.T) {
	t.Parallel()
	e, r := persistentEnv(t)
	e.stage(t, opts{name: "reread", n: 20, size: 20, chunk: 20})
	h := &lossAfterChunkRead{t: t, rdb: r.Client(), r: r, chunk: "tidings:{reread}:chunk:0"}
	hooked := redis.NewClient(e.rdb.Options())
	t.Cleanup(func() { _ = hooked.Close() })
	hooked.AddHook(h)
	e.startWorker(t, wopts{rdb: hooked, journal: t.TempDir()})
	wait.For(t, 30*time.Second, "the campaign paused (or done)", func() bool {
		s := e.state(t)
		return s == store.StatePaused || s == store.StateDone
	})
	st, err := e.st.Status(context.Background(), e.name)
	if err != nil {
		t.Fatal(err)
	}
	if st.Action != "state-loss" || !strings.Contains(st.Reason, "Redis lost chunk 0") {
		t.Errorf("paused as %q: %q; want state-loss naming chunk 0", st.Action, st.Reason)
	}
	if n := e.smtp.Count(); n != 0 {
		t.Errorf("%d messages sent from a chunk read in the Redis before; want none", n)
	}
}

// TestFirstPassReadsNoLedger: a chunk nobody had begun in its staging
// (store.ChunkStart.Fresh) is walked without reading its recipients'
// ledger entries (HMGET of the chunk's ids; a chunk of 200 costs Redis ~1 µs
// a message: docs/benchmarks.md); with a worker of an earlier version
// checked in for the campaign (a rolling upgrade: it claims without taking
// chunks out of the fresh set), every chunk reads them. Everyone is sent
// once either way.
func TestFirstPassReadsNoLedger(t *testing.T) {
	t.Parallel()
	const n, chunk = 60, 10
	for _, tt := range []struct {
		name  string
		older bool // a worker of an earlier version checked in
	}{
		{"a first staging, no other worker", false},
		{"a worker of an earlier version checked in (a rolling upgrade)", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			name := "first-pass"
			if tt.older {
				name = "older-worker"
			}
			e.stage(t, opts{name: name, n: n, chunk: chunk})
			if tt.older {
				// What checkin.lua of the version before writes: its id and
				// "<ms> <state checked>", nothing in aware.
				v := strconv.FormatInt(time.Now().UnixMilli(), 10) + " *"
				if err := e.rdb.HSet(context.Background(), "tidings:{"+name+"}:checkins", "older-worker", v).Err(); err != nil {
					t.Fatal(err)
				}
			}
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
				for _, c := range trip {
					if strings.HasPrefix(c, "hmget tidings:{"+name+"}:ledger ") {
						reads++
					}
				}
			}
			if tt.older && reads < n/chunk {
				t.Errorf("%d reads of a chunk's ledger entries, want one a chunk (%d): a worker of an earlier version may have claimed in them", reads, n/chunk)
			}
			if !tt.older && reads != 0 {
				t.Errorf("%d reads of a chunk's ledger entries, want none: no chunk had begun", reads)
			}
		})
	}
}
