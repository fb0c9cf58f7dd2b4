package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

func startRedis(t testing.TB) *redis.Client {
	t.Helper()
	return redistest.Start(t).Client()
}

var who = store.Actor{Who: "alice", Host: "box", Env: "test"}

func stage(t testing.TB, rdb redis.UniversalClient, name string, n, canary, size int, resume bool) *store.StageSummary {
	t.Helper()
	ctx := context.Background()
	sg, err := store.NewStager(ctx, rdb, store.StageConfig{Campaign: name, Definition: []byte(`{}`), Hash: "h", Env: "test",
		Who: "alice", Columns: []string{"posts"}, CanaryPerLocale: canary, BatchSize: size, ChunkSize: 7, ResumeExisting: resume})
	if err != nil {
		t.Fatal(err)
	}
	langs := []string{"de", "fr", "en"}
	for i := 0; i < n; i++ {
		l := langs[i%3]
		if err := sg.Add(ctx, store.Recipient{Line: i + 2, ID: fmt.Sprint("r", i), Email: fmt.Sprintf("r%d@x.example", i), Locale: l, Lang: l,
			Fields: map[string]string{"posts": fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sg.Reject(ctx, store.Reject{Line: n + 2, Email: "bad", Outcome: store.OutcomeInvalid, Field: "email", Reason: "not an address"}); err != nil {
		t.Fatal(err)
	}
	sum, err := sg.Finish(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestStageBatchesAndReport(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	sum := stage(t, rdb, "c1", 100, 2, 30, false)
	if sum.Staged != 100 || sum.Rejected != 1 {
		t.Fatalf("summary %+v", sum)
	}
	bs, err := st.Batches(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	// canary 6 (2 per language), then 94 in batches of 30: 30,30,30,4.
	want := []int{6, 30, 30, 30, 4}
	if len(bs) != len(want) || !bs[0].Canary {
		t.Fatalf("batches %+v", bs)
	}
	for i, b := range bs {
		if b.Size != want[i] {
			t.Errorf("batch %d size %d, want %d", i, b.Size, want[i])
		}
	}
	recs, err := st.Chunk(ctx, "c1", bs[1].First)
	if err != nil {
		t.Fatal(err)
	}
	if got := recs[0].FieldMap([]string{"posts"})["posts"]; got != "6" {
		t.Errorf("first regular recipient posts %q, want 6", got)
	}
	n := 0
	err = st.Report(ctx, "c1", func(r store.Row) error {
		n++
		if r.Batch >= 0 && r.Outcome != store.OutcomePending {
			t.Errorf("row %+v not pending", r)
		}
		return nil
	})
	if err != nil || n != 101 {
		t.Fatalf("report: %d rows, %v", n, err)
	}
	s, err := st.Status(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[store.OutcomePending] != 100 || s.Counts[store.OutcomeInvalid] != 1 || s.Total != 101 {
		t.Fatalf("counts %v", s.Counts)
	}
	if _, err := store.NewStager(ctx, rdb, store.StageConfig{Campaign: "c1"}); !errors.Is(err, store.ErrCampaignExists) {
		t.Fatalf("restaging: %v", err)
	}
}

func TestLedgerAtMostOnce(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	sum := stage(t, rdb, "c2", 9, 0, 9, false)
	l := st.Ledger("c2", sum.Epoch)
	p := store.Policy{MaxAttempts: 2, Backoff: time.Second}
	now := time.Now()
	claim := func(id string, retry bool) store.ClaimResult {
		t.Helper()
		r, err := l.Step(ctx, nil, &store.Claim{ID: id, Lang: "de", Chunk: 0, Retry: retry}, p, now)
		if err != nil {
			t.Fatal(err)
		}
		return r.Claim
	}
	record := func(id string, k store.Kind) {
		t.Helper()
		if _, err := l.Step(ctx, &store.Record{ID: id, Lang: "de", Kind: k, Code: "451 4.3.0", Response: "try later"}, nil, p, now); err != nil {
			t.Fatal(err)
		}
	}
	if c := claim("r0", false); c != store.ClaimOK {
		t.Fatalf("first claim %v", c)
	}
	record("r0", store.KindSent)
	if c := claim("r0", false); c != store.ClaimSkip {
		t.Fatalf("claim of a sent recipient %v, want skip", c)
	}
	// A crash between send and record: the next claim finds sending.
	claim("r1", false)
	if c := claim("r1", false); c != store.ClaimSkip {
		t.Fatalf("claim of a sending recipient %v, want skip (in-doubt)", c)
	}
	// Temporary failure: deferred, retried only by a retry pass, then failed.
	claim("r3", false)
	record("r3", store.KindTemp)
	if c := claim("r3", false); c != store.ClaimSkip {
		t.Fatalf("regular claim of a deferred recipient %v", c)
	}
	if c := claim("r3", true); c != store.ClaimOK {
		t.Fatalf("retry claim of a deferred recipient %v", c)
	}
	record("r3", store.KindTemp)
	if c := claim("r3", true); c != store.ClaimSkip {
		t.Fatalf("claim after max attempts %v", c)
	}
	// Retry re-queues the temporary failure only.
	n, err := st.Retry(ctx, "c2", who)
	if err != nil || n != 1 {
		t.Fatalf("retry: %d, %v", n, err)
	}
	// Stale generation and paused campaigns refuse claims.
	if r, _ := l.Step(ctx, nil, &store.Claim{ID: "r4", Lang: "de", Chunk: 0, Gen: 5}, p, now); r.Claim != store.ClaimStale {
		t.Fatalf("stale gen claim %v", r.Claim)
	}
	if err := st.Pause(ctx, "c2", who, "test"); err != nil {
		t.Fatal(err)
	}
	if c := claim("r4", false); c != store.ClaimStop {
		t.Fatalf("claim while paused %v", c)
	}
	s, err := st.Status(ctx, "c2")
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[store.OutcomeSent] != 1 || s.Counts[store.OutcomeInDoubt] != 1 || s.State != store.StatePaused || s.By != "alice@box" {
		t.Fatalf("status %+v", s)
	}
	// Cancel marks the rest and counts reconcile.
	if _, err := st.Cancel(ctx, "c2", who, "stop"); err != nil {
		t.Fatal(err)
	}
	s, _ = st.Status(ctx, "c2")
	if s.Counts[store.OutcomePending] != 0 || s.Counts[store.OutcomeCancelled] != 7 {
		t.Fatalf("after cancel %v", s.Counts)
	}
	err = st.Resume(ctx, "c2", who, "")
	if !errors.Is(err, store.ErrInvalidTransition) || !strings.Contains(err.Error(), "--resume-existing") {
		t.Fatalf("resume cancelled: %v", err)
	}
	// Resume existing keeps sent and in-doubt, re-sends the rest.
	sum = stage(t, rdb, "c2", 9, 0, 9, true)
	if sum.Kept != 2 {
		t.Fatalf("kept %d, want 2 (sent + in-doubt)", sum.Kept)
	}
	l = st.Ledger("c2", sum.Epoch)
	if c := claim("r0", false); c != store.ClaimSkip {
		t.Fatalf("sent recipient claimable after resume-existing: %v", c)
	}
	if c := claim("r5", false); c != store.ClaimOK {
		t.Fatalf("cancelled recipient not claimable after resume-existing: %v", c)
	}
}

// TestClaimRunAgain: a step whose answer was lost and that is re-sent with
// the same Claim (go-redis retries, the worker's step retries) gets its claim
// back; only another claimer treats the recipient as claimed before a crash.
func TestClaimRunAgain(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	ctx := context.Background()
	sum := stage(t, rdb, "c-again", 3, 0, 3, false)
	l := store.New(rdb).Ledger("c-again", sum.Epoch)
	p := store.Policy{MaxAttempts: 2, Backoff: time.Second}
	now := time.Now()
	same := &store.Claim{ID: "r0", Lang: "de", Chunk: 0, Token: "w1/1"}
	for i := range 2 {
		if r, err := l.Step(ctx, nil, same, p, now); err != nil || r.Claim != store.ClaimOK {
			t.Fatalf("claim %d of r2 with the same token: %v %v, want ok", i+1, r.Claim, err)
		}
	}
	if r, err := l.Step(ctx, nil, &store.Claim{ID: "r0", Lang: "de", Chunk: 0, Token: "w2/1"}, p, now); err != nil || r.Claim != store.ClaimSkip {
		t.Fatalf("claim of r2 by another claimer: %v %v, want skip (in-doubt)", r.Claim, err)
	}
}

func TestTransitions(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	stage(t, rdb, "c3", 3, 0, 3, false)
	tests := []struct {
		name    string
		do      func() error
		want    store.State
		wantErr string
	}{
		{"approve early", func() error { return st.Approve(ctx, "c3", who, "") }, store.StateRunning, ""},
		{"pause", func() error { return st.Pause(ctx, "c3", who, "why") }, store.StatePaused, ""},
		{"pause again", func() error { return st.Pause(ctx, "c3", who, "why") }, store.StatePaused, ""},
		{"resume", func() error { return st.Resume(ctx, "c3", who, "") }, store.StateRunning, ""},
		{"cancel", func() error { _, err := st.Cancel(ctx, "c3", who, ""); return err }, store.StateCancelled, ""},
		{"approve cancelled", func() error { return st.Approve(ctx, "c3", who, "") }, store.StateCancelled, "nothing to approve"},
		{"pause cancelled", func() error { return st.Pause(ctx, "c3", who, "") }, store.StateCancelled, "nothing to pause"},
	}
	for _, tt := range tests {
		err := tt.do()
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Fatalf("%s: error %v, want %q", tt.name, err, tt.wantErr)
		}
		c, err := st.Control(ctx, "c3")
		if err != nil {
			t.Fatal(err)
		}
		if c.State != tt.want {
			t.Fatalf("%s: state %s, want %s", tt.name, c.State, tt.want)
		}
	}
	s, _ := st.Status(ctx, "c3")
	if len(s.Audit) != 5 { // start, approve, pause, resume, cancel (a second pause is a no-op)
		t.Errorf("audit %+v", s.Audit)
	}
}

func BenchmarkStage(b *testing.B) {
	rdb := startRedis(b)
	b.ResetTimer()
	stage(b, rdb, "bench", b.N, 2, 500, false)
}

// TestHandOverIsNeverUnheld: work the dispatcher takes (an interrupted
// chunk, due retries) is held under it until the task that takes it over
// runs, so a dispatcher dying in between leaves an orphan to recover, and an
// outdated task cannot overwrite the holder of a newer generation.
func TestHandOverIsNeverUnheld(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	stage(t, rdb, "c-hand", 6, 0, 6, false)
	orphan := func(field string) store.Orphan {
		t.Helper()
		os, err := st.Orphans(ctx, "c-hand")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range os {
			if o.Field == field {
				return o
			}
		}
		t.Fatalf("no orphan %s among %+v", field, os)
		return store.Orphan{}
	}
	if ok, err := st.BeginChunk(ctx, "c-hand", 0, 0, "w1"); err != nil || !ok {
		t.Fatalf("begin: %v %v", ok, err)
	}
	if err := st.EndChunk(ctx, "c-hand", 0, 0, 0, "w1", false, 3); err != nil {
		t.Fatal(err)
	}
	gen, resume, err := st.TakeInterrupted(ctx, "c-hand", 0, "dispatcher")
	if err != nil || gen != 1 || resume != 3 {
		t.Fatalf("take: gen %d resume %d %v", gen, resume, err)
	}
	// The dispatcher (no heartbeat here) died before enqueueing: an orphan.
	if o := orphan("c0"); o.Worker != "dispatcher" || o.Chunk != 0 {
		t.Fatalf("orphan %+v", o)
	}
	if ok, err := st.BeginChunk(ctx, "c-hand", 0, 0, "old"); err != nil || ok {
		t.Fatalf("begin of an outdated generation: %v %v, want refused", ok, err)
	}
	if ok, err := st.BeginChunk(ctx, "c-hand", 0, 1, "w2"); err != nil || !ok {
		t.Fatalf("begin of the current generation: %v %v", ok, err)
	}
	if o := orphan("c0"); o.Worker != "w2" {
		t.Fatalf("holder %s, want w2", o.Worker)
	}

	// Due retries popped by a dispatcher that dies before enqueueing go
	// back to the retry queue when the orphan is reclaimed.
	if err := rdb.ZAdd(ctx, "tidings:{c-hand}:retry", redis.Z{Score: 1, Member: "0:4"}).Err(); err != nil {
		t.Fatal(err)
	}
	due, err := st.PopDueRetries(ctx, "c-hand", time.Now(), 10, "dispatcher")
	if err != nil || len(due[0]) != 1 {
		t.Fatalf("pop: %v %v", due, err)
	}
	o := orphan(store.HoldField("dispatcher"))
	if _, err := st.Reclaim(ctx, "c-hand", o, "w3"); err != nil {
		t.Fatal(err)
	}
	if n, err := rdb.ZCard(ctx, "tidings:{c-hand}:retry").Result(); err != nil || n != 1 {
		t.Fatalf("retry queue holds %d after reclaim (%v), want the member back", n, err)
	}
}

// TestTemporaryFailureAfterCancel: a send that was in flight at cancel and
// then fails temporarily is recorded cancelled, not queued for a retry that
// would leave it pending for ever; the counts still reconcile.
func TestTemporaryFailureAfterCancel(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	sum := stage(t, rdb, "c-late", 3, 0, 3, false)
	l := st.Ledger("c-late", sum.Epoch)
	p := store.Policy{MaxAttempts: 3, Backoff: time.Second}
	if r, err := l.Step(ctx, nil, &store.Claim{ID: "r0", Lang: "de", Token: "w/1"}, p, time.Now()); err != nil || r.Claim != store.ClaimOK {
		t.Fatalf("claim: %v %v", r, err)
	}
	if _, err := st.Cancel(ctx, "c-late", store.Actor{Who: "oncall"}, "stop"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Step(ctx, &store.Record{ID: "r0", Lang: "de", Kind: store.KindTemp, Code: "451", Response: "later"}, nil, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	s, err := st.Status(ctx, "c-late")
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[store.OutcomePending] != 0 || s.Retries != 0 || s.Counts[store.OutcomeInDoubt] != 0 || s.Counts[store.OutcomeCancelled] != 3 {
		t.Fatalf("counts %v, retries waiting %d: want 3 cancelled, nothing pending or waiting", s.Counts, s.Retries)
	}
}
