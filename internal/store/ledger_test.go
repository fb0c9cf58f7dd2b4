package store_test

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

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// redisCPU reads the CPU seconds redis-server has used (user + system).
func redisCPU(tb testing.TB, rdb *redis.Client) float64 {
	tb.Helper()
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var sum float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			sum += f
		}
	}
	return sum
}

// BenchmarkStep measures ledger steps on the hot path from 8 goroutines,
// as a worker with 8 SMTP connections makes them: each step records the
// outcomes of the goroutine's previous window of recipients and claims its
// next window. It reports Redis's CPU per message (redis-us/op) besides the
// client's time; ns/op and redis-us/op are per message.
func BenchmarkStep(b *testing.B) {
	for _, window := range []int{4, 8, 16} {
		b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) { benchmarkStep(b, window) })
	}
}

func benchmarkStep(b *testing.B, window int) {
	rdb := startRedis(b)
	st := store.New(rdb)
	ctx := context.Background()
	n := max(b.N, 10) + 8*window
	sum := stage(b, st, "bench", stageOpts{n: n, size: n})
	tick(b, st, "bench", sum, store.TickParams{})
	l := st.Ledger("bench", sum.Stage)
	p := store.Policy{MaxAttempts: 3, Window: 1000, ErrorRate: 0.5, MinAttempts: 20}
	langs := []string{"de", "fr", "en"}
	var next atomic.Int64
	var sent atomic.Int64
	cpu0 := redisCPU(b, rdb)
	b.ReportAllocs()
	b.SetParallelism(4) // 8 goroutines on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var recs []store.Record
		for {
			var cls []store.Claim
			for len(cls) < window && pb.Next() {
				i := int(next.Add(1) - 1)
				id := fmt.Sprint("r", i)
				cls = append(cls, store.Claim{ID: id, Lang: langs[i%3], Token: id})
			}
			if len(cls) == 0 && len(recs) == 0 {
				return
			}
			res, err := l.Step(ctx, recs, cls, p, time.Now())
			if err != nil {
				b.Error(err)
				return
			}
			recs = recs[:0]
			for j, a := range res.Claims {
				if a.Result != store.ClaimOK {
					b.Errorf("claim of %s: %v", cls[j].ID, a.Result)
					return
				}
				recs = append(recs, store.Record{ID: cls[j].ID, Lang: cls[j].Lang, Kind: store.KindSent, Code: "250", Response: "2.0.0 Ok: queued as 4XyZ"})
				sent.Add(1)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric((redisCPU(b, rdb)-cpu0)/float64(b.N)*1e6, "redis-us/op")
	s, err := st.Status(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	if s.Counts[store.OutcomeSent] != sent.Load() || sent.Load() != int64(b.N) {
		b.Fatalf("sent %d (claimed %d), want %d", s.Counts[store.OutcomeSent], sent.Load(), b.N)
	}
}

// TestStepConcurrent has several goroutines claim the same recipients
// through one Ledger (their steps share round trips): each recipient is
// claimed exactly once, and a recipient claimed but never recorded (a
// crash) is in doubt, never claimed again.
func TestStepConcurrent(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	const n = 300
	sum := stage(t, st, "conc", stageOpts{n: n, size: n})
	tick(t, st, "conc", sum, store.TickParams{})
	l := st.Ledger("conc", sum.Stage)
	p := store.Policy{Window: 100, ErrorRate: 0.5, MinAttempts: 10}
	var claimed [n]atomic.Int32
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			token := 0
			defer wg.Done()
			var prev []store.Record
			for i := 0; i < n; i++ {
				id := fmt.Sprint("r", i)
				token++
				res, err := l.Step(ctx, prev, []store.Claim{{ID: id, Lang: "de", Token: fmt.Sprint(g, "/", token)}}, p, time.Now())
				prev = nil
				if err != nil {
					t.Error(err)
					return
				}
				if first(res).Result == store.ClaimOK {
					claimed[i].Add(1)
					if i%10 != 9 { // every tenth is left "sending", as by a crash
						prev = []store.Record{{ID: id, Lang: "de", Kind: store.KindSent, Code: "250"}}
					}
				} else if first(res).Result != store.ClaimSkip {
					t.Errorf("claim of %s: %v", id, first(res).Result)
				}
			}
			if prev != nil {
				if _, err := l.Step(ctx, prev, nil, p, time.Now()); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	for i := range claimed {
		if c := claimed[i].Load(); c != 1 {
			t.Errorf("r%d claimed %d times", i, c)
		}
	}
	// Claim every recipient once more: the unrecorded ones become in doubt.
	for i := 0; i < n; i++ {
		if res, err := l.Step(ctx, nil, []store.Claim{{ID: fmt.Sprint("r", i), Lang: "de", Token: "again"}}, p, time.Now()); err != nil || first(res).Result != store.ClaimSkip {
			t.Fatalf("claim again r%d: %v %v", i, first(res).Result, err)
		}
	}
	s, err := st.Status(ctx, "conc")
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[store.OutcomeSent] != n*9/10 || s.Counts[store.OutcomeInDoubt] != n/10 || s.Counts[store.OutcomePending] != 0 {
		t.Fatalf("counts %v", s.Counts)
	}
}

// TestRecordOfAnotherClaim: a record comes again after another claim took
// the recipient (a step tried again, an outage's backlog flushed late): it
// changes nothing, and the later claim's own record applies. Otherwise a
// stale temporary failure would make the recipient due again after it was
// sent, and it would be sent twice.
func TestRecordOfAnotherClaim(t *testing.T) {
	st, _, l := released(t, "c-stale", 3, 5)
	ctx, pol := context.Background(), store.Policy{MaxAttempts: 3}
	claim, record := r0Steps(t, l, pol)
	if c := claim("A/1"); c != store.ClaimOK {
		t.Fatalf("A's claim: %v", c)
	}
	record(store.KindTemp, "A/1") // deferred: due after the backoff (0 here)
	if c := claim("B/1"); c != store.ClaimOK {
		t.Fatalf("B's claim: %v", c)
	}
	record(store.KindTemp, "A/1") // A's record again
	record(store.KindSent, "B/1")
	es, err := st.Entries(ctx, "c-stale", []string{"r0"})
	if err != nil {
		t.Fatal(err)
	}
	if es[0].State != store.OutcomeSent || es[0].Attempts != 2 {
		t.Fatalf("after B sent r0: %+v, want sent at attempt 2", es[0])
	}
	if c := claim("C/1"); c != store.ClaimSkip {
		t.Errorf("a third claim: %v, want skipped (r0 would be sent twice)", c)
	}
	s, err := st.Status(ctx, "c-stale")
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[store.OutcomeSent] != 1 || s.Retries != 0 {
		t.Errorf("counts %v, %d retries waiting; want r0 sent once, nothing deferred", s.Counts, s.Retries)
	}
}

// TestStaleRecordOverInDoubt: a record of an earlier claim that comes
// again after a later claim ended in doubt (the message may have been
// delivered) changes nothing: the recipient is never claimed again.
func TestStaleRecordOverInDoubt(t *testing.T) {
	st, _, l := released(t, "c-stale-doubt", 3, 5)
	ctx, pol := context.Background(), store.Policy{MaxAttempts: 3}
	claim, record := r0Steps(t, l, pol)
	claim("A/1")
	record(store.KindTemp, "A/1")
	claim("B/1")
	record(store.KindInDoubt, "B/1")
	record(store.KindTemp, "A/1") // A's record again, late
	if es, err := st.Entries(ctx, "c-stale-doubt", []string{"r0"}); err != nil || es[0].State != store.OutcomeInDoubt {
		t.Fatalf("after the stale record: %+v %v, want in doubt", es, err)
	}
	if c := claim("C/1"); c != store.ClaimSkip {
		t.Errorf("a later claim: %v, want skipped (r0 would be sent twice)", c)
	}
	record(store.KindSent, "B/1") // B's own late record still applies
	if es, _ := st.Entries(ctx, "c-stale-doubt", []string{"r0"}); es[0].State != store.OutcomeSent {
		t.Errorf("after B's record: %+v, want sent", es[0])
	}
}

// r0Steps returns steps of l for recipient r0 alone: a claim with a token
// (its answer), and a record of kind k for the claim with a token.
func r0Steps(t *testing.T, l *store.Ledger, pol store.Policy) (claim func(tok string) store.ClaimResult, record func(k store.Kind, tok string)) {
	ctx := context.Background()
	claim = func(tok string) store.ClaimResult {
		t.Helper()
		res, err := l.Step(ctx, nil, []store.Claim{{ID: "r0", Lang: "de", Token: tok}}, pol, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return first(res).Result
	}
	record = func(k store.Kind, tok string) {
		t.Helper()
		if _, err := l.Step(ctx, []store.Record{{ID: "r0", Lang: "de", Kind: k, Code: "451", Token: tok}}, nil, pol, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return claim, record
}

// TestStaleRecordOnlyStepAnswersNotRunning: a record-only step of a
// staging that was replaced writes nothing, and answers that its staging
// no longer runs (not the new staging's "running"): a worker's window of
// the old staging then stops instead of sending its remaining claims.
func TestStaleRecordOnlyStepAnswersNotRunning(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	c := "c-stale-state"
	sum := stage(t, st, c, stageOpts{n: 3, size: 3})
	tick(t, st, c, sum, store.TickParams{})
	l := st.Ledger(c, sum.Stage)
	p := store.Policy{MaxAttempts: 3, Window: 10, ErrorRate: 0.5, MinAttempts: 1}
	cls := []store.Claim{{ID: "r0", Lang: "de", Token: "w/1"}, {ID: "r1", Lang: "fr", Token: "w/2"}}
	if _, err := l.Step(ctx, nil, cls, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pause(ctx, c, who, "fix"); err != nil {
		t.Fatal(err)
	}
	stage(t, st, c, stageOpts{n: 3, size: 3, resume: true})
	if _, err := st.Resume(ctx, c, who, "go"); err != nil {
		t.Fatal(err)
	}
	res, err := l.Step(ctx, []store.Record{{ID: "r0", Lang: "de", Kind: store.KindFailed, Code: "550", Token: "w/1"}}, nil, p, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res.State == store.StateRunning {
		t.Errorf("stale step (nothing written) answered State %q: the old worker would send its remaining claim r1", res.State)
	}
}

// TestStepOperationsInOrder: the operations of one step run in order, each
// seeing what an earlier one wrote, as if each were its own call (the
// script reads the entries once and writes them once).
func TestStepOperationsInOrder(t *testing.T) {
	st, _, l := released(t, "c-order", 3, 3)
	ctx, pol := context.Background(), store.Policy{MaxAttempts: 3}
	now := time.Now()
	if _, err := l.Step(ctx, nil, []store.Claim{{ID: "r0", Lang: "de", Token: "a"}, {ID: "r1", Lang: "de", Token: "c"}}, pol, now); err != nil {
		t.Fatal(err)
	}
	res, err := l.Step(ctx,
		[]store.Record{
			{ID: "r0", Lang: "de", Kind: store.KindUnclaim, Token: "a"},                           // given back: pending again
			{ID: "r1", Lang: "de", Kind: store.KindSent, Code: "250", Response: "ok", Token: "c"}, // sent
		},
		[]store.Claim{
			{ID: "r0", Lang: "de", Token: "b"}, // claimed anew after the give-back
			{ID: "r1", Lang: "de", Token: "d"}, // sent just before: skipped
			{ID: "r2", Lang: "de", Token: "e"}, // claimed
			{ID: "r2", Lang: "de", Token: "f"}, // held by e, just claimed: in doubt, never sent
		}, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ClaimResult{store.ClaimOK, store.ClaimSkip, store.ClaimOK, store.ClaimSkip}
	for i, a := range res.Claims {
		if a.Result != want[i] {
			t.Errorf("claim %d: %v, want %v (answers %+v)", i, a.Result, want[i], res.Claims)
		}
	}
	es, err := st.Entries(ctx, "c-order", []string{"r0", "r1", "r2"})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range []struct{ state, resp string }{{"sending", "b"}, {store.OutcomeSent, "ok"}, {"in-doubt", "claimed before a crash; the SMTP server may have accepted it"}} {
		if es[i].State != w.state || es[i].Response != w.resp || es[i].Attempts != 1 {
			t.Errorf("r%d: %+v, want %s (%q) at attempt 1", i, es[i], w.state, w.resp)
		}
	}
	s, err := st.Status(ctx, "c-order")
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Counts; c[store.OutcomeSent] != 1 || c[store.OutcomeInDoubt] != 1 || c[store.OutcomePending] != 1 {
		t.Errorf("counts %v, want 1 sent, 1 in doubt, 1 pending (r0, claimed)", c)
	}
	if b := s.Batches[0]; b.Attempted != 2 || b.Sent != 1 || b.InDoubt != 1 {
		t.Errorf("batch 0 %+v, want 2 attempted (r1 sent, r2 in doubt), 1 sent, 1 in doubt", b.BatchProgress)
	}
	if _, err := l.Step(ctx, []store.Record{{ID: "r0", Lang: "de", Kind: "c", Token: "b"}}, nil, pol, now); err == nil {
		t.Error("a record of kind \"c\" (the script's claim marker) was accepted")
	}
}

// TestClaimOnlyStepAnswersSent: a step that only claims answers the
// campaign's sent count (the worker compares it with its journal before
// sending to anyone it claimed: after a restore from an older backup the
// ledger lets recipients already sent be claimed again); a step with
// neither claims nor sent records answers -1.
func TestClaimOnlyStepAnswersSent(t *testing.T) {
	t.Parallel()
	_, _, l := released(t, "c-sent", 4, 5)
	ctx, pol := context.Background(), store.Policy{MaxAttempts: 3}
	step := func(recs []store.Record, claims []store.Claim) int64 {
		t.Helper()
		res, err := l.Step(ctx, recs, claims, pol, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return res.Sent
	}
	if got := step(nil, []store.Claim{{ID: "r0", Lang: "de", Token: "A"}, {ID: "r1", Lang: "de", Token: "A"}}); got != 0 {
		t.Errorf("first claims: sent %d, want 0", got)
	}
	if got := step([]store.Record{{ID: "r0", Lang: "de", Kind: store.KindSent, Code: "250", Token: "A"}, {ID: "r1", Lang: "de", Kind: store.KindSent, Code: "250", Token: "A"}}, nil); got != 2 {
		t.Errorf("two sent recorded: sent %d, want 2", got)
	}
	if got := step(nil, []store.Claim{{ID: "r2", Lang: "de", Token: "B"}}); got != 2 {
		t.Errorf("a claim-only step: sent %d, want 2", got)
	}
	if got := step([]store.Record{{ID: "r2", Lang: "de", Kind: store.KindTemp, Code: "451", Token: "B"}}, nil); got != -1 {
		t.Errorf("a step with a temporary failure only: sent %d, want -1", got)
	}
}

// TestStepAnswersTheSendersCount: with Policy.Sender, a step answers what
// that sender recorded sent in the run, not the campaign's count: another
// worker's deliveries would hide what Redis forgot of this one's.
func TestStepAnswersTheSendersCount(t *testing.T) {
	t.Parallel()
	_, _, l := released(t, "c-sender", 6, 10)
	ctx := context.Background()
	step := func(sender string, recs []store.Record, claims []store.Claim) int64 {
		t.Helper()
		res, err := l.Step(ctx, recs, claims, store.Policy{MaxAttempts: 3, Sender: sender}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return res.Sent
	}
	sent := func(ids ...string) []store.Record {
		var out []store.Record
		for _, id := range ids {
			out = append(out, store.Record{ID: id, Lang: "de", Kind: store.KindSent, Code: "250", Token: "T" + id})
		}
		return out
	}
	claims := func(ids ...string) []store.Claim {
		var out []store.Claim
		for _, id := range ids {
			out = append(out, store.Claim{ID: id, Lang: "de", Token: "T" + id})
		}
		return out
	}
	if got := step("run1|A", nil, claims("r0", "r1", "r2")); got != 0 {
		t.Errorf("A's first claims: %d, want 0", got)
	}
	if got := step("run1|A", sent("r0", "r1", "r2"), claims("r3")); got != 3 {
		t.Errorf("A recorded 3 sent: %d, want 3", got)
	}
	if got := step("run1|B", nil, claims("r4")); got != 0 {
		t.Errorf("B's claim-only step: %d, want 0 (A's deliveries are not B's)", got)
	}
	if got := step("run1|B", sent("r4"), nil); got != 1 {
		t.Errorf("B recorded 1 sent: %d, want 1", got)
	}
	if got := step("run1|A", sent("r3"), nil); got != 4 {
		t.Errorf("A recorded a fourth: %d, want 4", got)
	}
	if got := step("", nil, claims("r5")); got != 5 {
		t.Errorf("without a sender: %d, want the campaign's 5", got)
	}
}

// TestRetriedClaimWritesAgain: a claim made again with its own token (its
// first answer was lost) writes its entry again, unchanged, so that the WAIT
// after the call, which counts the replicas holding this connection's
// writes, covers it even when the first claim went out on another
// connection (Redis 7.2 and later move a connection's replication offset
// only when it writes). Redis's count of changes tells the write.
func TestRetriedClaimWritesAgain(t *testing.T) {
	t.Parallel()
	r := redistest.StartServer(t, "../redistest/testdata/plain.conf") // its own server: the count is server-wide
	st := store.New(r.Client())
	sum := stage(t, st, "c-retry", stageOpts{n: 3, size: 5})
	tick(t, st, "c-retry", sum, store.TickParams{})
	l := st.Ledger("c-retry", sum.Stage)
	ctx, pol := context.Background(), store.Policy{MaxAttempts: 3}
	changes := func() int {
		t.Helper()
		info := r.Client().Info(ctx, "persistence").Val()
		for line := range strings.SplitSeq(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "rdb_changes_since_last_save:"); ok {
				n, err := strconv.Atoi(v)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
		}
		t.Fatalf("no rdb_changes_since_last_save in INFO persistence:\n%s", info)
		return 0
	}
	claim := func() store.ClaimResult {
		t.Helper()
		res, err := l.Step(ctx, nil, []store.Claim{{ID: "r0", Lang: "de", Token: "A"}}, pol, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return first(res).Result
	}
	if c := claim(); c != store.ClaimOK {
		t.Fatalf("claim: %v", c)
	}
	before := changes()
	if c := claim(); c != store.ClaimOK {
		t.Fatalf("the same claim again: %v, want OK", c)
	}
	if after := changes(); after <= before {
		t.Errorf("the claim made again wrote nothing (%d changes before, %d after)", before, after)
	}
}
