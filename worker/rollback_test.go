package worker

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestRollbackCountsTheJournalBeforeRedis: the journal count rollback
// compares with Redis's is the one taken before Redis was read. Messages
// the other connections journal between the two reads are not messages
// Redis forgot (a 1,000,000-recipient bench paused itself for state loss
// when the journal was counted after Redis: 74 over at 5,500 msg/s), while
// a Redis that really lost writes is still caught.
func TestRollbackCountsTheJournalBeforeRedis(t *testing.T) {
	j, err := journal.Open(journal.Config{Dir: t.TempDir(), Worker: "w1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	w := &Worker{cfg: Config{Concurrency: 8, ClaimWindow: 4, WorkerID: "w1", Host: "h"}, journal: j}
	cs := &campaignState{name: "c", run: "r1"}
	sent := func(n int) {
		for range n {
			if err := j.Append(journal.Entry{Campaign: "c", Run: "r1", ID: "x", Email: "x@example.com", Outcome: "sent"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	sent(1000)
	if got := w.journaled(cs); got != 1000 {
		t.Fatalf("journaled = %d, want 1000", got)
	}
	mine := w.journaled(cs)
	redis := int64(1000) // Redis read now: it has every outcome journaled so far
	sent(200)            // the other connections go on sending meanwhile
	if why := w.rollback(cs, mine, redis, "by this worker"); why != "" {
		t.Errorf("messages journaled after Redis was read count as lost: %s", why)
	}
	if why := w.rollback(cs, w.journaled(cs), redis, "by this worker"); !strings.Contains(why, "state loss suspected") {
		t.Errorf("Redis 200 behind the journal (slack 64) not caught: %q", why)
	}
	if why := w.rollback(cs, w.journaled(cs), 1200-64, "by this worker"); why != "" {
		t.Errorf("outcomes within one window per connection (64) count as lost: %s", why)
	}
	if why := w.rollback(nil, w.journaled(nil), 0, "by this worker"); why != "" {
		t.Errorf("no campaign state: %s", why)
	}
}

// TestJournalRefusal: a worker refuses a staging that neither continues
// nor excludes a run its journal delivered in, including a run whose
// journal it cannot fully read (a cut last line may be a delivery); a run
// excluded by this worker's journal file, or the run being sent, is fine.
func TestJournalRefusal(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Open(journal.Config{Dir: dir, Worker: "w1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	if err := j.Append(journal.Entry{Campaign: "c", Run: "r1", ID: "x", Email: "x@example.com", Outcome: "sent"}); err != nil {
		t.Fatal(err)
	}
	if err := j.Sync(); err != nil {
		t.Fatal(err)
	}
	w := &Worker{cfg: Config{WorkerID: "w1", Host: "h"}, journal: j}
	tests := []struct {
		run      string
		excluded []string
		staged   int
		want     string
	}{
		{"r1", nil, 3, ""},
		{"r2", []string{"r1.w1"}, 3, ""},
		{"r2", []string{"none"}, 3, "state loss suspected"},
		{"r2", []string{"r1.w9"}, 3, "state loss suspected"},
		// Nobody staged (every row excluded as delivered: a recovery
		// that closes the campaign, as send again after tidings free
		// does): it can mail nobody, so nothing is refused. Refused, it
		// was paused as state loss when this worker loaded it before
		// send's own tick marked it done (TestFreeThenSendAgainMailsNobodyTwice
		// on a loaded machine).
		{"r2", []string{"none"}, 0, ""},
	}
	for _, tt := range tests {
		action, got := w.journalRefusal("c", &store.Meta{Run: tt.run, ExcludedRuns: tt.excluded, Staged: tt.staged})
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("run %s excluding %v: refusal %q, want %q", tt.run, tt.excluded, got, tt.want)
		}
		// A pause for state loss is one resume refuses (store.Resume).
		if got != "" && action != "state-loss" {
			t.Errorf("run %s excluding %v: paused as %q, want state-loss", tt.run, tt.excluded, action)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "c", "r0.w1.jsonl"), []byte(`{"campaign":"c","run":"r0","outc`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, got := w.journalRefusal("c", &store.Meta{Run: "r1", Staged: 3}); !strings.Contains(got, "run r0") {
		t.Errorf("a journal cut mid-line passes: refusal %q", got)
	}
}

// TestForgetPrunes: a campaign no longer active takes with it what the
// worker kept per campaign (its load lock, its state with its tasks seen
// abandoned), so a long-running worker does not grow with every campaign it
// ever ran.
func TestForgetPrunes(t *testing.T) {
	a := &campaignState{name: "a", orphans: map[string]time.Time{taskID("a", "s1", 0, 0): {}}}
	b := &campaignState{name: "b", orphans: map[string]time.Time{taskID("b", "s1", 3, 1): {}}}
	w := &Worker{campaigns: map[string]*campaignState{"a": a, "b": b}}
	w.loading.Store("a", &sync.Mutex{})
	w.loading.Store("b", &sync.Mutex{})
	w.loading.Store("refused", &sync.Mutex{}) // loaded, refused, never cached
	w.forget(map[string]store.Probe{"a": {}})
	_, aLock := w.loading.Load("a")
	_, bLock := w.loading.Load("b")
	_, refusedLock := w.loading.Load("refused")
	if len(w.campaigns) != 1 || w.campaigns["a"] != a || !aLock || bLock || refusedLock {
		t.Errorf("after forgetting b: campaigns %v, load locks of a %v, b %v, refused %v; want a's only", w.campaigns, aLock, bLock, refusedLock)
	}
	if _, ok := w.campaigns["a"].orphans[taskID("a", "s1", 0, 0)]; !ok {
		t.Error("an active campaign's abandoned task was forgotten")
	}
}

// TestFinishedCampaignIsForgotten: a campaign that is cancelled (or done)
// leaves the worker's cache, and the control loop stops reading it. That
// loop probes every cached campaign too (to notice one Redis lost), so
// forgetting the campaigns it did not probe forgot none: a worker kept the
// state (engine, templates, snapshot) of every campaign it ever ran, and
// read each of them from Redis every ControlInterval, for as long as it ran.
func TestFinishedCampaignIsForgotten(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client()
	st := store.New(rdb)
	sum := stageTest(t, st, "f", 1, 0, false)
	w, err := New(Config{Redis: rdb, SMTP: send.Config{Host: "127.0.0.1", Port: 25}, Env: "test"})
	if err != nil {
		t.Fatal(err)
	}
	w.st = st
	w.campaigns["f"] = &campaignState{name: "f", stage: sum.Stage, run: sum.Run}
	pass := func() { // the control loop's read, then the dispatch loop's forget
		w.refreshStates(ctx)
		w.forget(w.states)
	}
	if pass(); w.campaigns["f"] == nil {
		t.Fatal("a running campaign was forgotten")
	}
	if _, _, err := st.Cancel(ctx, "f", store.Actor{Who: "t"}, "test"); err != nil {
		t.Fatal(err)
	}
	if pass(); w.campaigns["f"] != nil {
		t.Error("a cancelled campaign is still cached")
	}
	if w.refreshStates(ctx); w.states["f"].State != "" {
		t.Errorf("a cancelled campaign is still read at every control interval: %+v", w.states["f"])
	}
}

// swapOnProbe is a go-redis hook that runs swap before the first pipeline
// with an HMGET it sees: store.Probe's.
type swapOnProbe struct {
	once sync.Once
	swap func()
}

func (h *swapOnProbe) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *swapOnProbe) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *swapOnProbe) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if slices.ContainsFunc(cmds, func(c redis.Cmder) bool { return c.Name() == "hmget" }) {
			h.once.Do(h.swap)
		}
		return next(ctx, cmds)
	}
}

// TestRollbackCheckUsesTheStateItCounted: the control loop compares the
// journal count it took for the campaign state it had cached with what
// Redis says of that same staging. A staging anew (a new run, its sent
// count back to 0) loaded by a chunk or the dispatch loop while the control
// loop reads Redis must not be compared with the count of the earlier run:
// that paused the new staging for state loss (which resume refuses)
// although Redis had lost nothing.
func TestRollbackCheckUsesTheStateItCounted(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client()
	st := store.New(rdb)
	sum := stageTest(t, st, "c", 1, 0, false)
	j, err := journal.Open(journal.Config{Dir: t.TempDir(), Worker: "w1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	for range 1000 { // the earlier run's deliveries
		if err := j.Append(journal.Entry{Campaign: "c", Run: "r-old", ID: "x", Email: "x@example.com", Outcome: "sent"}); err != nil {
			t.Fatal(err)
		}
	}
	w, err := New(Config{Redis: rdb, SMTP: send.Config{Host: "127.0.0.1", Port: 25}, Env: "test", WorkerID: "w1", Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	w.journal = j
	w.campaigns["c"] = &campaignState{name: "c", stage: "s-old", run: "r-old"}
	hooked := redis.NewClient(rdb.Options())
	t.Cleanup(func() { _ = hooked.Close() })
	hooked.AddHook(&swapOnProbe{swap: func() {
		w.mu.Lock()
		w.campaigns["c"] = &campaignState{name: "c", stage: sum.Stage, run: sum.Run} // the new staging, loaded meanwhile
		w.mu.Unlock()
	}})
	w.st = store.New(hooked)
	w.refreshStates(ctx)
	if ctl, err := st.Control(ctx, "c"); err != nil || ctl.State != store.StateRunning {
		t.Errorf("after the control loop's read: %+v, %v; want the new staging running", ctl, err)
	}
}

// TestUnclaimJournalsOnlyHeldClaims: a window stopped early gives back
// every claim from the stop on, but journals as unclaimed only those the
// window held (journaled as claimed). Recipient x was answered SKIP (an
// earlier claim of it, by this worker id before a crash, is in doubt): an
// unclaimed line for x would resolve that earlier claim, and a recovery
// would send x again.
func TestUnclaimJournalsOnlyHeldClaims(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Open(journal.Config{Dir: dir, Worker: "w1", Always: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	claimedLine := func(id string) journal.Entry {
		return journal.Entry{Campaign: "c", Run: "r1", ID: id, Email: id + "@example.com", Outcome: journal.OutcomeClaimed}
	}
	// Before the crash: x claimed, maybe sent, no outcome. This window:
	// a, x (SKIP), b held; a sent; stopped before b.
	if err := j.Append(claimedLine("x")); err != nil {
		t.Fatal(err)
	}
	if err := j.Append(claimedLine("a"), claimedLine("b")); err != nil {
		t.Fatal(err)
	}
	if err := j.Append(journal.Entry{Campaign: "c", Run: "r1", ID: "a", Email: "a@example.com", Outcome: "sent"}); err != nil {
		t.Fatal(err)
	}
	r := &run{w: &Worker{cfg: Config{WorkerID: "w1"}, journal: j, log: slog.New(slog.DiscardHandler)}, cs: &campaignState{name: "c", run: "r1"}}
	claims := []store.Claim{{ID: "a", Token: "t1"}, {ID: "x", Token: "t2"}, {ID: "b", Token: "t3"}}
	r.unclaim(claims, 1, []int{0, 2}) // stopped before the second message: x and b given back
	if n := len(r.recs); n != 2 {
		t.Errorf("%d claims given back to Redis, want 2 (x and b)", n)
	}
	var got []string
	if err := journal.Read(dir, "c", func(e journal.Entry) error { got = append(got, e.ID+":"+e.Outcome); return nil }); err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(got, " "); s != "a:sent x:in-doubt" {
		t.Errorf("journal reads %q, want a sent and x still in doubt", s)
	}
}

// TestUnclaimWithABrokenJournal: a window stopped early whose unclaimed
// lines cannot be written (the journal broke) leaves its held claims in
// doubt in Redis too, recorded with their tokens, never sent; only a claim
// the window did not hold is given back. Given back in Redis, a claim the
// journal still holds would read to the journal check as one Redis lost.
func TestUnclaimWithABrokenJournal(t *testing.T) {
	j, err := journal.Open(journal.Config{Dir: t.TempDir(), Worker: "w1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil { // closed: every append fails
		t.Fatal(err)
	}
	r := &run{w: &Worker{cfg: Config{WorkerID: "w1"}, journal: j, log: slog.New(slog.DiscardHandler)}, cs: &campaignState{name: "c", run: "r1"}}
	claims := []store.Claim{{ID: "a", Token: "t1"}, {ID: "x", Token: "t2"}, {ID: "b", Token: "t3"}, {ID: "c", Token: "t4"}}
	r.unclaim(claims, 1, []int{0, 2, 3}) // a sent; x answered SKIP; b and c held, unsent
	var got []string
	for _, rec := range r.recs {
		got = append(got, rec.ID+":"+string(rec.Kind)+":"+rec.Token)
	}
	if s, want := strings.Join(got, " "), "x:unclaim:t2 b:in-doubt:t3 c:in-doubt:t4"; s != want {
		t.Errorf("records %q, want %q", s, want)
	}
}

// TestWatchRedisAsksUntilAWholeCheck: once Redis came back as another
// process (a check is owed), the control loop asks for the journal check
// on every pass until one went through whole (a Redis still loading its
// data answers INFO but fails the check's reads), and no more after that.
func TestWatchRedisAsksUntilAWholeCheck(t *testing.T) {
	ctx := context.Background()
	w := &Worker{cfg: Config{Redis: redistest.Start(t).Client()}, log: slog.New(slog.DiscardHandler), recheck: make(chan struct{}, 1)}
	asked := func() bool {
		w.watchRedis(ctx)
		select {
		case <-w.recheck:
			return true
		default:
			return false
		}
	}
	if asked() {
		t.Fatal("asked for a check with nothing owed")
	}
	w.checksOwed.Add(1) // another run_id answered (TestJournalCheckAfterRedisRestart)
	if !asked() || !asked() || !asked() {
		t.Fatal("a check owed and not yet done was not asked for again")
	}
	w.checksDone.Store(w.checksOwed.Load()) // a whole check went through
	if asked() {
		t.Fatal("asked again after the owed check went through")
	}
}
