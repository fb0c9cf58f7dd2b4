package worker_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
			!strings.Contains(all, "srem tidings:{one-trip}:fresh") || len(trip) != 4 {
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
// a Redis restored or failed over while the chunk's check waits. With
// settled, it first waits until every worker in the registry has said it
// is alive for a window (store.Alive: its claims wait no longer for the
// others' word), and Redis comes back within the window: the workers'
// word goes on without a gap, as after a quick restart or a failover to a
// replica. Without, the registry is lost with the chunk: the workers wait
// a window before they claim.
type lossAfterChunkRead struct {
	t   *testing.T
	rdb *redis.Client // not hooked
	r   interface {
		Restart(context.Context, bool) error
	}
	chunk   string
	settled bool
	once    sync.Once
	fired   atomic.Bool
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

// registry is the workers' registry of environment "test" (store.Alive).
var registry = store.WorkersKey("test")

func (h *lossAfterChunkRead) lose() {
	ctx := context.Background()
	var first map[string]string // worker id -> its first word (settled)
	if h.settled {
		// In the worker's goroutine: a hang is reported by the test's wait,
		// not here.
		for first == nil {
			first = h.settledWorkers(ctx)
			time.Sleep(wait.Interval)
		}
	} else if err := h.rdb.Del(ctx, registry).Err(); err != nil {
		h.t.Error(err)
	}
	if err := h.rdb.Del(ctx, h.chunk).Err(); err != nil {
		h.t.Error(err)
	}
	if err := h.rdb.Save(ctx).Err(); err != nil {
		h.t.Error(err)
	}
	if err := h.r.Restart(ctx, false); err != nil {
		h.t.Error(err)
	}
	if h.settled {
		// Back within the window, however long a loaded machine took to
		// start redis-server: each worker's last word is as of now, its
		// first as before.
		now, err := h.rdb.Time(ctx).Result()
		if err != nil {
			h.t.Error(err)
		}
		for id, f := range first {
			if err := h.rdb.HSet(ctx, registry, id, f+" "+strconv.FormatInt(now.UnixMilli(), 10)).Err(); err != nil {
				h.t.Error(err)
			}
		}
	}
	h.fired.Store(true)
}

// settledWorkers returns the first word (Redis's ms) of each worker in the
// registry once all have said they are alive for a window; nil before.
func (h *lossAfterChunkRead) settledWorkers(ctx context.Context) map[string]string {
	now, err := h.rdb.Time(ctx).Result()
	reg, rerr := h.rdb.HGetAll(ctx, registry).Result()
	if err != nil || rerr != nil || len(reg) == 0 {
		return nil
	}
	first := map[string]string{}
	for id, v := range reg {
		var f, seen int64
		if _, err := fmt.Sscanf(v, "%d %d", &f, &seen); err != nil || now.UnixMilli()-f < store.CheckInWindow.Milliseconds() {
			return nil
		}
		first[id] = strconv.FormatInt(f, 10)
	}
	return first
}

// TestChunkReadBeforeAStateChangeIsReadAgain: a chunk's recipients are
// read with its campaign's control before its check (Store.StartChunk);
// when Redis comes back as another process while the check waits (here:
// restarted without the chunk, right after the chunk was read), the check
// passes for the new state, and the chunk must be read again in it: the
// recipients read from the Redis before are not the new state's, and the
// chunk Redis lost pauses the campaign for state loss, as a chunk read
// after the check finds it. Nobody is sent anything. Both when the worker
// must wait a window for the others' word after the change (its word was
// lost with the chunk) and when it need not (it had said it is alive for
// a window, and Redis came back within one): then the first pass of the
// check, on the state read with the chunk, must not let it claim in the
// new one.
func TestChunkReadBeforeAStateChangeIsReadAgain(t *testing.T) {
	t.Parallel()
	for _, settled := range []bool{false, true} {
		t.Run(map[bool]string{false: "unsettled", true: "settled"}[settled], func(t *testing.T) {
			t.Parallel()
			e, r := persistentEnv(t)
			e.stage(t, opts{name: "reread", n: 20, size: 20, chunk: 20})
			h := &lossAfterChunkRead{t: t, rdb: r.Client(), r: r, chunk: "tidings:{reread}:chunk:0", settled: settled}
			hooked := redis.NewClient(e.rdb.Options())
			t.Cleanup(func() { _ = hooked.Close() })
			hooked.AddHook(h)
			e.startWorker(t, wopts{rdb: hooked, journal: t.TempDir()})
			// The hook kills Redis and starts it again while the test reads: a
			// read that fails meanwhile (refused; a loaded machine can take longer
			// to start redis-server than go-redis's dial and command retries
			// cover) is "not yet", not the test's failure (e.state fails it). A
			// Redis that never comes back fails the wait, and the hook (Restart).
			wait.For(t, 2*time.Minute, "the campaign paused (or done)", func() bool {
				p, err := e.st.Probe(context.Background(), e.name)
				return err == nil && (p.State == store.StatePaused || p.State == store.StateDone)
			})
			if !h.fired.Load() {
				t.Fatal("the chunk was never read in the pipeline the hook waits for (Store.StartChunk): the test shows nothing")
			}
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
		})
	}
}

// TestFirstPassReadsNoLedger: a chunk nobody had begun in its staging
// (store.ChunkStart.Fresh) is walked without reading its recipients'
// ledger entries (HMGET of the chunk's ids; a chunk of 200 costs Redis ~1 µs
// a message: docs/benchmarks.md). Everyone is sent once.
func TestFirstPassReadsNoLedger(t *testing.T) {
	t.Parallel()
	const n, chunk = 60, 10
	e := newEnv(t, nil)
	e.stage(t, opts{name: "first-pass", n: n, chunk: chunk})
	h := hookedWorker(t, e)
	e.waitState(t, 60*time.Second, store.StateDone)
	if got := e.smtp.Count(); got != n {
		t.Fatalf("the server received %d messages, want %d", got, n)
	}
	if reads := h.ledgerReads(e.name); reads != 0 {
		t.Errorf("%d reads of a chunk's ledger entries, want none: no chunk had begun", reads)
	}
}

// TestWronglyFreshChunkSendsNobodyTwice: a chunk called fresh whose
// recipients the ledger already holds (claimed by a worker that does not
// take chunks out of the fresh set, as one built before the set existed
// did) is walked without reading the entries, and still sends nobody
// twice: the claim (lua/step.lua) reads each recipient's entry and claims
// none that was sent or that another worker's claim holds. So no check-in
// bookkeeping is needed to keep such workers from making chunks fresh.
func TestWronglyFreshChunkSendsNobodyTwice(t *testing.T) {
	t.Parallel()
	const n, chunk = 60, 10
	ctx := context.Background()
	e := newEnv(t, nil)
	e.stage(t, opts{name: "wrongly-fresh", n: n, chunk: chunk})
	ctl, err := e.st.Control(ctx, e.name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Tick(ctx, e.name, store.TickParams{Stage: ctl.Stage}, time.Now()); err != nil { // releases batch 0
		t.Fatal(err)
	}
	recs, err := e.st.Chunk(ctx, e.name, 0) // leaves the chunk fresh
	if err != nil {
		t.Fatal(err)
	}
	// The other worker: three recipients sent, a fourth claimed and in
	// flight (its message may be out: nobody may send it again).
	l, p := e.st.Ledger(e.name, ctl.Stage), store.Policy{MaxAttempts: 3}
	var cls []store.Claim
	for _, r := range recs[:4] {
		cls = append(cls, store.Claim{ID: r.ID, Lang: r.Lang, Token: "other-worker/1"})
	}
	if res, err := l.Step(ctx, nil, cls, p, time.Now()); err != nil || len(res.Claims) != 4 {
		t.Fatalf("the other worker's claims: %+v, %v", res, err)
	}
	var sent []store.Record
	for _, c := range cls[:3] {
		sent = append(sent, store.Record{ID: c.ID, Lang: c.Lang, Kind: store.KindSent, Token: c.Token})
	}
	if _, err := l.Step(ctx, sent, nil, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	h := hookedWorker(t, e)
	e.waitState(t, 60*time.Second, store.StateDone)
	if reads := h.ledgerReads(e.name); reads != 0 {
		t.Errorf("%d reads of a chunk's ledger entries, want none: the chunk was still fresh, and this test is of what its claims do", reads)
	}
	got := e.received()
	for _, r := range recs[:4] {
		if got[r.Email] != 0 {
			t.Errorf("%s received %d messages from this worker; the other worker had it (sent or in flight)", r.Email, got[r.Email])
		}
	}
	if total := e.smtp.Count(); total != n-4 {
		t.Errorf("the server received %d messages, want %d: everyone the other worker did not have, once", total, n-4)
	}
	for a, k := range got {
		if k != 1 {
			t.Errorf("%s received %d messages, want 1", a, k)
		}
	}
}

// hookedWorker starts a worker for e whose Redis client records its round
// trips.
func hookedWorker(t *testing.T, e *env) *roundTrips {
	hooked := redis.NewClient(e.rdb.Options())
	t.Cleanup(func() { _ = hooked.Close() })
	h := &roundTrips{}
	hooked.AddHook(h)
	e.startWorker(t, wopts{rdb: hooked})
	return h
}

// ledgerReads counts the reads of campaign c's ledger entries (HMGET) in
// the round trips h recorded.
func (h *roundTrips) ledgerReads(c string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	reads := 0
	for _, trip := range h.trip {
		for _, cmd := range trip {
			if strings.HasPrefix(cmd, "hmget tidings:{"+c+"}:ledger ") {
				reads++
			}
		}
	}
	return reads
}
