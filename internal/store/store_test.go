package store_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
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

type stageOpts struct {
	n, canary, size int
	resume          bool
	excluded        []string
	skipped         bool   // a row skipped as delivered in an earlier run (id s0)
	chunk           int    // recipients per chunk (0: 7)
	def             []byte // the campaign definition; {} when nil
}

func stage(t testing.TB, st *store.Store, name string, o stageOpts) *store.StageSummary {
	t.Helper()
	ctx := context.Background()
	if o.def == nil {
		o.def = []byte(`{}`)
	}
	sg, err := st.NewStager(ctx, store.StageConfig{Campaign: name, Definition: o.def, Hash: "h", Env: "test",
		Who: "alice", Columns: []string{"posts"}, Canary: o.canary > 0, ChunkSize: cmp.Or(o.chunk, 7),
		ResumeExisting: o.resume, ExcludedRuns: o.excluded})
	if err != nil {
		t.Fatal(err)
	}
	// The plan's layout: the first o.canary of every language in the canary
	// (batch 0), the others in batches of o.size in file order.
	langs := []string{"de", "fr", "en"}
	perLang := map[string]int{}
	first, regular := 0, 0
	if o.canary > 0 {
		first = 1
	}
	for i := 0; i < o.n; i++ {
		l := langs[i%3]
		batch, canary := 0, perLang[l] < o.canary
		if canary {
			perLang[l]++
		} else {
			batch = first + regular/o.size
			regular++
		}
		if err := sg.Add(ctx, store.Recipient{Line: i + 2, ID: fmt.Sprint("r", i), Email: fmt.Sprintf("r%d@x.example", i), Locale: l, Lang: l,
			Fields: map[string]string{"posts": fmt.Sprint(i)}}, batch, canary); err != nil {
			t.Fatal(err)
		}
	}
	if err := sg.Reject(ctx, store.Reject{Line: o.n + 2, Email: "bad", Outcome: store.OutcomeInvalid, Field: "email", Reason: "not an address"}); err != nil {
		t.Fatal(err)
	}
	if o.skipped {
		if err := sg.Reject(ctx, store.Reject{Line: o.n + 3, ID: "s0", Email: "s0@x.example", Outcome: store.OutcomeSkipped, Reason: "delivered in an earlier run"}); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := sg.Finish(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// tick runs store.Tick for a campaign staged with sum and returns its code.
// first is the answer to the first claim of a step (ClaimNone without
// one).
// released stages n recipients of campaign c in batches of size, releases
// the first batch, and returns the store, the staging and its ledger.
func released(t testing.TB, c string, n, size int) (*store.Store, *store.StageSummary, *store.Ledger) {
	t.Helper()
	st := store.New(startRedis(t))
	sum := stage(t, st, c, stageOpts{n: n, size: size})
	if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickReleased {
		t.Fatalf("first tick of %s: %+v, want batch 0 released", c, r)
	}
	return st, sum, st.Ledger(c, sum.Stage)
}

func first(r store.StepResult) store.ClaimAnswer {
	if len(r.Claims) == 0 {
		return store.ClaimAnswer{}
	}
	return r.Claims[0]
}

func tick(t testing.TB, st *store.Store, c string, sum *store.StageSummary, p store.TickParams) store.TickResult {
	t.Helper()
	p.Stage = sum.Stage
	res, err := st.Tick(context.Background(), c, p, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestStageBatchesAndReport(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	sum := stage(t, st, "c1", stageOpts{n: 100, canary: 2, size: 30})
	if sum.Staged != 100 || sum.Rejected != 1 || sum.Stage == "" || sum.Run == "" {
		t.Fatalf("summary %+v", sum)
	}
	meta, err := st.Meta(ctx, "c1", false)
	if err != nil {
		t.Fatal(err)
	}
	bs := meta.Batches
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
	if got := recs[0].FieldsInto(nil, []string{"posts"})["posts"]; got != "6" {
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
	if s.Counts[store.OutcomePending] != 100 || s.Counts[store.OutcomeInvalid] != 1 || s.Total != 101 || s.Stage != sum.Stage {
		t.Fatalf("status %+v", s)
	}
	if _, err := st.NewStager(ctx, store.StageConfig{Campaign: "c1"}); !errors.Is(err, store.ErrCampaignExists) {
		t.Fatalf("restaging: %v", err)
	}
}

func TestLedgerAtMostOnce(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	sum := stage(t, st, "c2", stageOpts{n: 9, size: 9})
	l := st.Ledger("c2", sum.Stage)
	p := store.Policy{MaxAttempts: 2}
	now := time.Now()
	token := 0
	claim := func(id string) store.ClaimResult {
		t.Helper()
		token++
		r, err := l.Step(ctx, nil, []store.Claim{{ID: id, Lang: "de", Batch: 0, Token: fmt.Sprint("t", token)}}, p, now)
		if err != nil {
			t.Fatal(err)
		}
		return first(r).Result
	}
	record := func(id string, k store.Kind) {
		t.Helper()
		if _, err := l.Step(ctx, []store.Record{{ID: id, Lang: "de", Kind: k, Code: "451 4.3.0", Response: "try later"}}, nil, p, now); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing is claimable before the first batch is released: the gates
	// fail closed.
	if c := claim("r0"); c != store.ClaimStop {
		t.Fatalf("claim before release %v, want stop", c)
	}
	if r := tick(t, st, "c2", sum, store.TickParams{}); r.Code != store.TickReleased || r.Batch != 0 {
		t.Fatalf("tick %+v, want batch 0 released", r)
	}
	if c := claim("r0"); c != store.ClaimOK {
		t.Fatalf("first claim %v", c)
	}
	record("r0", store.KindSent)
	if c := claim("r0"); c != store.ClaimSkip {
		t.Fatalf("claim of a sent recipient %v, want skip", c)
	}
	// A crash between send and record: the next claim finds sending.
	claim("r1")
	if c := claim("r1"); c != store.ClaimSkip {
		t.Fatalf("claim of a sending recipient %v, want skip (in-doubt)", c)
	}
	// Temporary failure: deferred and claimable again (the worker decides
	// when it is due), then failed after MaxAttempts.
	claim("r3")
	record("r3", store.KindTemp)
	if e, _ := st.Entries(ctx, "c2", []string{"r3"}); !e[0].Deferred() || e[0].Attempts != 1 {
		t.Fatalf("after a temporary failure: %+v, want deferred after 1 attempt", e[0])
	}
	if c := claim("r3"); c != store.ClaimOK {
		t.Fatalf("claim of a deferred recipient %v", c)
	}
	record("r3", store.KindTemp)
	if c := claim("r3"); c != store.ClaimSkip {
		t.Fatalf("claim after max attempts %v", c)
	}
	// Requeue gives the temporary failure one more attempt.
	retried, err := st.Requeue(ctx, "c2", who, store.RetryScope{})
	if err != nil || retried.N != 1 {
		t.Fatalf("retry: %d, %v", retried.N, err)
	}
	if c := claim("r3"); c != store.ClaimOK {
		t.Fatalf("claim after retry %v", c)
	}
	record("r3", store.KindSent)
	if _, err := st.Pause(ctx, "c2", who, "test"); err != nil {
		t.Fatal(err)
	}
	if c := claim("r4"); c != store.ClaimStop {
		t.Fatalf("claim while paused %v", c)
	}
	s, err := st.Status(ctx, "c2")
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[store.OutcomeSent] != 2 || s.Counts[store.OutcomeInDoubt] != 1 || s.State != store.StatePaused || s.By != "alice@box" {
		t.Fatalf("status %+v", s)
	}
	// Cancel marks the rest and counts reconcile.
	if _, _, err := st.Cancel(ctx, "c2", who, "stop"); err != nil {
		t.Fatal(err)
	}
	s, _ = st.Status(ctx, "c2")
	if s.Counts[store.OutcomePending] != 0 || s.Counts[store.OutcomeCancelled] != 6 {
		t.Fatalf("after cancel %v", s.Counts)
	}
	_, err = st.Resume(ctx, "c2", who, "")
	var te *store.TransitionError
	if !errors.As(err, &te) || te.State != store.StateCancelled || te.Action != "resume" {
		t.Fatalf("resume cancelled: %v", err)
	}
	// Resume existing keeps sent and in-doubt and the run, re-sends the rest.
	again := stage(t, st, "c2", stageOpts{n: 9, size: 9, resume: true})
	if again.Kept != 3 || again.Run != sum.Run || again.Stage == sum.Stage {
		t.Fatalf("resume-existing %+v (first %+v): want 3 kept (2 sent + 1 in doubt), same run, new stage", again, sum)
	}
	// Tasks of the earlier staging are stale.
	if r, _ := l.Step(ctx, nil, []store.Claim{{ID: "r5", Lang: "de", Token: "old"}}, p, now); first(r).Result != store.ClaimStale {
		t.Fatalf("claim of an earlier staging %v, want stale", first(r).Result)
	}
	l = st.Ledger("c2", again.Stage)
	tick(t, st, "c2", again, store.TickParams{})
	if c := claim("r0"); c != store.ClaimSkip {
		t.Fatalf("sent recipient claimable after resume-existing: %v", c)
	}
	if c := claim("r5"); c != store.ClaimOK {
		t.Fatalf("cancelled recipient not claimable after resume-existing: %v", c)
	}
}

// TestClaimRunAgain: a step whose answer was lost and that is re-sent with
// the same Claim (go-redis retries, the worker's step retries) gets its claim
// back; only another claimer treats the recipient as claimed before a crash.
func TestClaimRunAgain(t *testing.T) {
	t.Parallel()
	st, _, l := released(t, "c-again", 3, 3)
	ctx := context.Background()
	p := store.Policy{MaxAttempts: 2}
	now := time.Now()
	same := &store.Claim{ID: "r0", Lang: "de", Token: "w1/1"}
	for i := range 2 {
		if r, err := l.Step(ctx, nil, []store.Claim{*same}, p, now); err != nil || first(r).Result != store.ClaimOK {
			t.Fatalf("claim %d of r0 with the same token: %v %v, want ok", i+1, first(r).Result, err)
		}
	}
	if r, err := l.Step(ctx, nil, []store.Claim{{ID: "r0", Lang: "de", Token: "w2/1"}}, p, now); err != nil || first(r).Result != store.ClaimSkip {
		t.Fatalf("claim of r0 by another claimer: %v %v, want skip (in-doubt)", first(r).Result, err)
	}
	// A late record of the first claimer replaces in-doubt with the truth.
	if _, err := l.Step(ctx, []store.Record{{ID: "r0", Lang: "de", Kind: store.KindSent, Code: "250"}}, nil, p, now); err != nil {
		t.Fatal(err)
	}
	s, _ := st.Status(ctx, "c-again")
	if s.Counts[store.OutcomeSent] != 1 || s.Counts[store.OutcomeInDoubt] != 0 {
		t.Fatalf("after the late record: %v", s.Counts)
	}
}

// TestUnclaim: a claim given back (not sent) makes the recipient pending
// again, claimable by anyone, not in doubt; only its own token gives it back.
func TestUnclaim(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	sum := stage(t, st, "c-unclaim", stageOpts{n: 3, size: 3})
	tick(t, st, "c-unclaim", sum, store.TickParams{})
	l := st.Ledger("c-unclaim", sum.Stage)
	p := store.Policy{MaxAttempts: 2}
	now := time.Now()
	if r, err := l.Step(ctx, nil, []store.Claim{{ID: "r1", Lang: "fr", Token: "a"}}, p, now); err != nil || first(r).Result != store.ClaimOK {
		t.Fatalf("claim: %v %v", r, err)
	}
	if _, err := l.Step(ctx, []store.Record{{ID: "r1", Lang: "fr", Kind: store.KindUnclaim, Token: "not-mine"}}, nil, p, now); err != nil {
		t.Fatal(err)
	}
	if e, _ := st.Entries(ctx, "c-unclaim", []string{"r1"}); e[0].State != "sending" {
		t.Fatalf("a foreign token gave the claim back: %+v", e[0])
	}
	if _, err := l.Step(ctx, []store.Record{{ID: "r1", Lang: "fr", Kind: store.KindUnclaim, Token: "a"}}, nil, p, now); err != nil {
		t.Fatal(err)
	}
	if r, err := l.Step(ctx, nil, []store.Claim{{ID: "r1", Lang: "fr", Token: "b"}}, p, now); err != nil || first(r).Result != store.ClaimOK || first(r).Attempt != 1 {
		t.Fatalf("claim after giving it back: %+v %v, want ok at attempt 1", r, err)
	}
	// In doubt with no claim's token (its reply was lost: it may have been
	// delivered), then cancelled: a give-back without a token holds no
	// claim and changes nothing; it stays in doubt.
	if _, err := l.Step(ctx, []store.Record{{ID: "r1", Lang: "fr", Kind: store.KindInDoubt}}, nil, p, now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Cancel(ctx, "c-unclaim", who, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Step(ctx, []store.Record{{ID: "r1", Lang: "fr", Kind: store.KindUnclaim}}, nil, p, now); err != nil {
		t.Fatal(err)
	}
	if e, _ := st.Entries(ctx, "c-unclaim", []string{"r1"}); e[0].State != store.OutcomeInDoubt {
		t.Fatalf("a give-back without a token changed an entry in doubt: %+v", e[0])
	}
}

func TestTransitions(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	stage(t, st, "c3", stageOpts{n: 3, canary: 1, size: 3})
	cancel := func() error { _, _, err := st.Cancel(ctx, "c3", who, "wrong file"); return err }
	// again does an action a second time: it changes nothing, records
	// nothing, and returns the control in force, whose Already says so.
	again := func(action, want string, do func() (*store.Control, error)) func() error {
		return func() error {
			already, err := do()
			if err == nil && (already == nil || !strings.Contains(already.Already(action), want) || !strings.Contains(already.Already(action), "nothing changed")) {
				return fmt.Errorf("%s again returned %+v, want the control in force (%q, nothing changed)", action, already, want)
			}
			return err
		}
	}
	tests := []struct {
		name    string
		do      func() error
		want    store.State
		wantErr store.State // the state named by a *TransitionError
	}{
		{"approve before the canary is done", func() error {
			// Nobody has seen a canary still being sent: refused, and
			// nothing is recorded as approved.
			_, err := st.Approve(ctx, "c3", "", false, who, "")
			if te := (*store.TransitionError)(nil); !errors.As(err, &te) || te.PausedFor != store.CanaryRunning {
				return fmt.Errorf("approve of a canary not done: %v, want refused as %s", err, store.CanaryRunning)
			}
			if s, err := st.Status(ctx, "c3"); err != nil || s.Approved {
				return fmt.Errorf("a refused approval approved it: %+v, %w", s, err)
			}
			return nil
		}, store.StateRunning, ""},
		{"approve in advance", func() error { _, err := st.Approve(ctx, "c3", "", true, who, ""); return err }, store.StateRunning, ""},
		{"approve again", again("approve", "nothing changed, and this reason is not recorded", func() (*store.Control, error) { return st.Approve(ctx, "c3", "", true, who, "again") }), store.StateRunning, ""},
		{"approve again, no reason given", func() error {
			// No reason was given, so none is said to be left unrecorded.
			already, err := st.Approve(ctx, "c3", "", true, who, "")
			if err == nil && (already == nil || !strings.HasPrefix(already.Already("approve"), "already approved") || strings.Contains(already.Already("approve"), "reason")) {
				return fmt.Errorf("approve again without a reason returned %+v, want the approval in force, saying no reason was left unrecorded", already)
			}
			return err
		}, store.StateRunning, ""},
		{"pause", func() error {
			if already, err := st.Pause(ctx, "c3", who, "why"); err != nil || already != nil {
				return fmt.Errorf("a first pause: %+v, %w; want no pause in force", already, err)
			}
			return nil
		}, store.StatePaused, ""},
		{"pause again", func() error {
			// Nothing changes and nothing is recorded: the pause in force
			// is returned, to be told to whoever paused again.
			already, err := st.Pause(ctx, "c3", who, "other reason")
			if err == nil && (already == nil || already.Reason != "why" || already.By != who.String() ||
				!strings.Contains(already.Already("pause"), "already paused by "+who.String()) || !strings.Contains(already.Already("pause"), "(why): nothing changed, and this reason is not recorded")) {
				return fmt.Errorf("a second pause returned %+v, want the first pause (why)", already)
			}
			return err
		}, store.StatePaused, ""},
		{"resume", func() error { _, err := st.Resume(ctx, "c3", who, ""); return err }, store.StateRunning, ""},
		{"resume again", again("resume", "already running (resume by "+who.String(), func() (*store.Control, error) { return st.Resume(ctx, "c3", who, "") }), store.StateRunning, ""},
		{"cancel", cancel, store.StateCancelled, ""},
		{"cancel again", again("cancel", "already cancelled by "+who.String(), func() (*store.Control, error) {
			n, already, err := st.Cancel(ctx, "c3", who, "other reason")
			if n.Recipients != 0 || n.InFlight != 0 || n.Total != 3 || already != nil && already.Reason != "wrong file" {
				return nil, fmt.Errorf("a second cancel cancelled %+v more and returned %+v, want 0 (of the 3 the first recorded) and the first cancel (wrong file)", n, already)
			}
			return already, err
		}), store.StateCancelled, ""},
		{"approve cancelled", func() error { _, err := st.Approve(ctx, "c3", "", false, who, ""); return err }, store.StateCancelled, store.StateCancelled},
		{"pause cancelled", func() error { _, err := st.Pause(ctx, "c3", who, ""); return err }, store.StateCancelled, store.StateCancelled},
	}
	for _, tt := range tests {
		err := tt.do()
		var te *store.TransitionError
		switch {
		case tt.wantErr == "" && err != nil:
			t.Fatalf("%s: %v", tt.name, err)
		case tt.wantErr != "" && (!errors.As(err, &te) || te.State != tt.wantErr):
			t.Fatalf("%s: error %v, want a transition error naming %s", tt.name, err, tt.wantErr)
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
	if len(s.Audit) != 5 { // start, approve, pause, resume, cancel (a second approve, pause, resume or cancel is a no-op)
		t.Errorf("audit %+v", s.Audit)
	}
	active, _ := st.Active(ctx)
	if len(active) != 0 {
		t.Errorf("a cancelled campaign is still active: %v", active)
	}
	if _, err := st.Pause(ctx, "nosuch", who, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("pause of an unknown campaign: %v", err)
	}
}

// TestTickGates: the canary runs first; with approval required the campaign
// waits, and nothing of the next batch can be claimed until approve; a
// batch failing above the gate pauses the campaign; done comes when every
// recipient has an outcome.
func TestTickGates(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	sum := stage(t, st, "c-gate", stageOpts{n: 12, canary: 1, size: 5}) // canary 3 (1 chunk), then 5, 4
	p := store.TickParams{ApproveAfterCanary: true, MaxFailureRate: 0.5, Actor: store.Actor{Who: "worker"}}
	l := st.Ledger("c-gate", sum.Stage)
	pol := store.Policy{MaxAttempts: 1}
	meta, _ := st.Meta(ctx, "c-gate", false)
	bs := meta.Batches
	sendBatch := func(b int, kind store.Kind) {
		t.Helper()
		for n := bs[b].First; n <= bs[b].Last; n++ {
			recs, err := st.Chunk(ctx, "c-gate", n)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				res, err := l.Step(ctx, nil, []store.Claim{{ID: r.ID, Lang: r.Lang, Batch: b, Token: r.ID}}, pol, time.Now())
				if err != nil || first(res).Result != store.ClaimOK {
					t.Fatalf("claim %s of batch %d: %+v %v", r.ID, b, res, err)
				}
				if _, err := l.Step(ctx, []store.Record{{ID: r.ID, Lang: r.Lang, Batch: b, Kind: kind, Code: "550"}}, nil, pol, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := st.EndChunk(ctx, "c-gate", sum.Stage, b, n, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	claimOf := func(b int) store.ClaimResult {
		t.Helper()
		recs, _ := st.Chunk(ctx, "c-gate", bs[b].First)
		res, err := l.Step(ctx, nil, []store.Claim{{ID: recs[0].ID, Lang: recs[0].Lang, Batch: b, Token: "probe"}}, pol, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return first(res).Result
	}
	if r := tick(t, st, "c-gate", sum, p); r.Code != store.TickReleased || r.Batch != 0 {
		t.Fatalf("first tick %+v", r)
	}
	if r := tick(t, st, "c-gate", sum, p); r.Code != store.TickNoop {
		t.Fatalf("tick during the canary %+v", r)
	}
	if c := claimOf(1); c != store.ClaimStop {
		t.Fatalf("claim of batch 1 during the canary: %v, want stop", c)
	}
	sendBatch(0, store.KindSent)
	if r := tick(t, st, "c-gate", sum, p); r.Code != store.TickAwaiting {
		t.Fatalf("tick after the canary %+v, want awaiting approval", r)
	}
	for range 3 {
		if r := tick(t, st, "c-gate", sum, p); r.Code != store.TickNoop {
			t.Fatalf("tick while awaiting %+v", r)
		}
	}
	if c := claimOf(1); c != store.ClaimStop {
		t.Fatalf("claim of batch 1 awaiting approval: %v, want stop", c)
	}
	if _, err := st.Approve(ctx, "c-gate", "", false, who, "looks right"); err != nil {
		t.Fatal(err)
	}
	if r := tick(t, st, "c-gate", sum, p); r.Code != store.TickReleased || r.Batch != 1 {
		t.Fatalf("tick after approval %+v", r)
	}
	sendBatch(1, store.KindFailed) // every one 550: above the 50% gate
	r := tick(t, st, "c-gate", sum, p)
	if r.Code != store.TickGated || !strings.Contains(r.Reason, "5 of the 5 first attempts in batch 1 failed") || !strings.Contains(r.Reason, "(5 permanent; last error: 550)") {
		t.Fatalf("tick after a failing batch %+v", r)
	}
	if c, _ := st.Control(ctx, "c-gate"); c.State != store.StatePaused {
		t.Fatalf("state after the gate %s", c.State)
	}
	if _, err := st.Resume(ctx, "c-gate", who, "explained"); err != nil {
		t.Fatal(err)
	}
	// The gate is not applied twice: the next batch is released.
	if r := tick(t, st, "c-gate", sum, p); r.Code != store.TickReleased || r.Batch != 2 {
		t.Fatalf("tick after resume %+v", r)
	}
	sendBatch(2, store.KindSent)
	if r := tick(t, st, "c-gate", sum, p); r.Code != store.TickDone {
		t.Fatalf("last tick %+v, want done", r)
	}
	if active, _ := st.Active(ctx); len(active) != 0 {
		t.Errorf("a done campaign is still active: %v", active)
	}
}

// TestGoneWritesNothing: when Redis has lost a campaign (here FLUSHDB), a
// step of one of its workers, a tick and a chunk's end write no key at all:
// nothing stale is left to match a later staging.
func TestGoneWritesNothing(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	sum := stage(t, st, "c-gone", stageOpts{n: 5, size: 5})
	tick(t, st, "c-gone", sum, store.TickParams{})
	l := st.Ledger("c-gone", sum.Stage)
	if r, err := l.Step(ctx, nil, []store.Claim{{ID: "r0", Lang: "de", Token: "a"}}, store.Policy{}, time.Now()); err != nil || first(r).Result != store.ClaimOK {
		t.Fatalf("claim %+v %v", r, err)
	}
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	r, err := l.Step(ctx, []store.Record{{ID: "r0", Lang: "de", Kind: store.KindSent, Code: "250"}}, []store.Claim{{ID: "r1", Lang: "de", Token: "b"}}, store.Policy{Window: 10, ErrorRate: 0.1}, time.Now())
	if err != nil || first(r).Result != store.ClaimGone {
		t.Fatalf("step after the flush: %+v %v, want gone", r, err)
	}
	if tr := tick(t, st, "c-gone", sum, store.TickParams{}); tr.Code != store.TickGone {
		t.Fatalf("tick after the flush: %+v", tr)
	}
	if end, err := st.EndChunk(ctx, "c-gone", sum.Stage, 0, 0, true); err != nil || end.Recorded {
		t.Fatalf("end chunk after the flush: %+v %v", end, err)
	}
	if n, err := rdb.DBSize(ctx).Result(); err != nil || n != 0 {
		keys, _ := rdb.Keys(ctx, "*").Result()
		t.Fatalf("%d keys written into the flushed database: %v", n, keys)
	}
	if _, err := st.Status(ctx, "c-gone"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("status after the flush: %v", err)
	}
}

// TestRebuildActive: the global sets (another Cluster slot than the
// campaigns) are rebuilt from the campaigns' own state.
func TestRebuildActive(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	stage(t, st, "c-a", stageOpts{n: 2, size: 2})
	stage(t, st, "c-b", stageOpts{n: 2, size: 2})
	if _, _, err := st.Cancel(ctx, "c-b", who, "x"); err != nil {
		t.Fatal(err)
	}
	// Lose both sets, and list a campaign whose keys are gone.
	if err := rdb.Del(ctx, "tidings:active", "tidings:campaigns").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.SAdd(ctx, "tidings:active", "c-lost").Err(); err != nil {
		t.Fatal(err)
	}
	if err := st.RebuildActive(ctx); err != nil {
		t.Fatal(err)
	}
	active, _ := st.Active(ctx)
	all, _ := st.List(ctx, "")
	if fmt.Sprint(active) != "[c-a]" || fmt.Sprint(all) != "[c-a c-b]" {
		t.Fatalf("active %v, all %v; want [c-a] and [c-a c-b]", active, all)
	}
}

// TestRebuildActiveRacesARetry: a retry that runs a done campaign again
// between the rebuild's read of its state and the rebuild's removal of it
// from the active set must leave it listed: no worker caches a done
// campaign, so an unlisted one would wait for the next rebuild (30 s).
func TestRebuildActiveRacesARetry(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	stage(t, st, "c-r", stageOpts{n: 2, size: 2})
	if err := rdb.HSet(ctx, "tidings:{c-r}:control", "state", "done").Err(); err != nil {
		t.Fatal(err)
	}
	hooked := redis.NewClient(rdb.Options())
	t.Cleanup(func() { _ = hooked.Close() })
	hooked.AddHook(&afterCommand{name: "hget", key: "tidings:{c-r}:control", then: func() {
		// The retry: its state change, then its own SADD.
		if err := rdb.HSet(ctx, "tidings:{c-r}:control", "state", "running").Err(); err != nil {
			t.Error(err)
		}
		if err := rdb.SAdd(ctx, "tidings:active", "c-r").Err(); err != nil {
			t.Error(err)
		}
	}})
	if err := store.New(hooked).RebuildActive(ctx); err != nil {
		t.Fatal(err)
	}
	if active, _ := st.Active(ctx); fmt.Sprint(active) != "[c-r]" {
		t.Fatalf("active %v after a retry raced the rebuild; want [c-r]", active)
	}
}

// afterCommand runs then once, right after the first command name (alone
// or in a pipeline) whose first argument is key.
type afterCommand struct {
	name, key string
	then      func()
	once      sync.Once
}

func (h *afterCommand) check(cmd redis.Cmder) {
	if args := cmd.Args(); cmd.Name() == h.name && len(args) > 1 && args[1] == h.key {
		h.once.Do(h.then)
	}
}

func (h *afterCommand) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *afterCommand) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.check(cmd)
		return err
	}
}
func (h *afterCommand) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			h.check(cmd)
		}
		return err
	}
}

// TestRebuildActiveCluster: on a Redis Cluster the campaigns are found by
// scanning every master, all at once (ForEachMaster), and every one found
// is listed. Collected without a lock, the scans' writes crashed the
// process now and then ("concurrent map writes"), and always under -race.
func TestRebuildActiveCluster(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: -1})
	rdb := cl.ClusterClient()
	ctx := context.Background()
	const n = 3000 // about 1000 a master
	p := rdb.Pipeline()
	for i := range n {
		p.HSet(ctx, fmt.Sprintf("tidings:{c%d}:control", i), "state", "running")
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	st := store.New(rdb)
	for range 6 {
		if err := st.RebuildActive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if active, _ := st.Active(ctx); len(active) != n {
		t.Fatalf("%d campaigns active, want %d", len(active), n)
	}
}

// TestNotReplicated: with replica acknowledgements required and no
// replica, a claim is made on the master but the step says it is not
// acknowledged, and control changes say so too.
func TestNotReplicated(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	plain := store.New(rdb)
	sum := stage(t, plain, "c-ack", stageOpts{n: 3, size: 3})
	tick(t, plain, "c-ack", sum, store.TickParams{})
	st := store.NewWithConfig(rdb, store.Config{ReplicaAcks: 1, AckTimeout: 20 * time.Millisecond})
	ctx := context.Background()
	l := st.Ledger("c-ack", sum.Stage)
	r, err := l.Step(ctx, nil, []store.Claim{{ID: "r0", Lang: "de", Token: "a"}}, store.Policy{}, time.Now())
	var ae *store.AckError
	if !errors.As(err, &ae) || ae.Got != 0 || ae.Want != 1 || first(r).Result != store.ClaimOK {
		t.Fatalf("step without a replica: %+v %v, want an ack error with the claim made", r, err)
	}
	if _, err := st.Pause(ctx, "c-ack", who, "x"); !errors.As(err, &ae) {
		t.Fatalf("pause without a replica: %v", err)
	}
}

// claimR0 stages campaign c (3 recipients, one batch), releases it and
// claims r0 (token w/1), with at most 3 attempts.
func claimR0(t *testing.T, st *store.Store, c string) (*store.Ledger, store.Policy) {
	t.Helper()
	sum := stage(t, st, c, stageOpts{n: 3, size: 3})
	tick(t, st, c, sum, store.TickParams{})
	l := st.Ledger(c, sum.Stage)
	p := store.Policy{MaxAttempts: 3}
	if r, err := l.Step(context.Background(), nil, []store.Claim{{ID: "r0", Lang: "de", Token: "w/1"}}, p, time.Now()); err != nil || first(r).Result != store.ClaimOK {
		t.Fatalf("claim: %v %v", r, err)
	}
	return l, p
}

// TestCancelCountsTheRecipientsInFlight: a cancel while a message is in
// the SMTP server's hands (r0 claimed, no outcome yet) cancels the other
// two and says one was being sent: its outcome is not known yet (sent,
// failed or in doubt once its sender records it), so the cancelled count
// is not the final word, and `tidings cancel` must say so.
func TestCancelCountsTheRecipientsInFlight(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	l, p := claimR0(t, st, "c-flight")
	got, _, err := st.Cancel(ctx, "c-flight", store.Actor{Who: "oncall"}, "stop")
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.Cancelled{Recipients: 2, InFlight: 1, Total: 2, TotalInFlight: 1}); got != want {
		t.Errorf("cancel with r0 being sent: %+v, want %+v", got, want)
	}
	// Its sender's record is the final word: r0 was sent.
	if _, err := l.Step(ctx, []store.Record{{ID: "r0", Lang: "de", Kind: store.KindSent, Token: "w/1"}}, nil, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	s, err := st.Status(ctx, "c-flight")
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[store.OutcomeSent] != 1 || s.Counts[store.OutcomeCancelled] != 2 || s.Counts[store.OutcomeInDoubt] != 0 {
		t.Errorf("counts after r0's sender recorded it sent: %v, want 1 sent, 2 cancelled", s.Counts)
	}
	// A second cancel finds nobody in flight and changes nothing; it says
	// what the first recorded.
	if got, already, err := st.Cancel(ctx, "c-flight", store.Actor{Who: "oncall"}, "again"); err != nil || got != (store.Cancelled{Total: 2, TotalInFlight: 1}) || already == nil {
		t.Errorf("second cancel: %+v, %+v, %v; want nothing counted and the first cancel in force", got, already, err)
	}
}

func TestTemporaryFailureAfterCancel(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	l, p := claimR0(t, st, "c-late")
	if _, _, err := st.Cancel(ctx, "c-late", store.Actor{Who: "oncall"}, "stop"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Step(ctx, []store.Record{{ID: "r0", Lang: "de", Kind: store.KindTemp, Code: "451", Response: "later"}}, nil, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	s, err := st.Status(ctx, "c-late")
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[store.OutcomePending] != 0 || s.Retries != 0 || s.Counts[store.OutcomeInDoubt] != 0 || s.Counts[store.OutcomeCancelled] != 3 {
		t.Fatalf("counts %v, retries waiting %d: want 3 cancelled, nothing pending or waiting", s.Counts, s.Retries)
	}
	// Worded as a cancel words a recipient waiting for its retry.
	es, err := st.Entries(ctx, "c-late", []string{"r0"})
	if err != nil {
		t.Fatal(err)
	}
	if e := es[0]; e.Code != "451" || e.Temp || e.Response != "cancelled after a temporary failure; last reply: later" {
		t.Errorf("r0: %+v, want cancelled after a temporary failure with the 451 reply", e)
	}
	// The recent errors list the server's reply as it came.
	if len(s.Errors) != 1 || s.Errors[0].Response != "later" || s.Errors[0].Code != "451" {
		t.Errorf("recent errors %+v, want the 451 reply as the server gave it", s.Errors)
	}
}

// TestUnfinishedStagingAfterAPause: a first staging paused meanwhile (which
// writes the audit log) and then abandoned is still an unfinished staging,
// not a campaign Redis lost, for every reader of its definition (Status
// says so in a status: TestAFirstStagingThatDidNotEndIsListed).
func TestUnfinishedStagingAfterAPause(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	sg, err := st.NewStager(ctx, store.StageConfig{Campaign: "c-pz", Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "alice", Host: "box", ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	if err := sg.Add(ctx, store.Recipient{Line: 2, ID: "r0", Email: "r0@x.example", Lang: "de"}, 0, false); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pause(ctx, "c-pz", store.Actor{Who: "bob", Host: "ops"}, "hold on"); err != nil {
		t.Fatal(err)
	}
	_, err = st.Meta(ctx, "c-pz", false)
	var be *store.BeingStagedError
	if !errors.As(err, &be) || be.By != "alice@box" {
		t.Errorf("meta while alice stages it: %v, want a *BeingStagedError naming alice@box", err)
	}
	sg.Abort(ctx)
	_, err = st.Meta(ctx, "c-pz", false)
	var ue *store.UnfinishedStagingError
	if !errors.As(err, &ue) || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("meta after the staging was abandoned: %v, want an *UnfinishedStagingError (and ErrNotFound)", err)
	}
}

// TestCancelKeepsTheLastTemporaryFailure: a recipient waiting for its retry
// when the campaign is cancelled is cancelled, and its entry keeps the
// server's last reply (the report shows why it was not sent).
func TestCancelKeepsTheLastTemporaryFailure(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	l, p := claimR0(t, st, "c-wait")
	if _, err := l.Step(ctx, []store.Record{{ID: "r0", Lang: "de", Kind: store.KindTemp, Code: "451", Response: "4.7.1 greylisted, try later", Token: "w/1"}}, nil, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Cancel(ctx, "c-wait", store.Actor{Who: "oncall"}, "stop"); err != nil {
		t.Fatal(err)
	}
	es, err := st.Entries(ctx, "c-wait", []string{"r0", "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if e := es[0]; e.State != store.OutcomeCancelled || e.Code != "451" || e.Response != "cancelled after a temporary failure; last reply: 4.7.1 greylisted, try later" || e.Attempts != 1 {
		t.Errorf("r0, cancelled while waiting for its retry: %+v, want cancelled with the 451 reply kept", e)
	}
	if e := es[1]; e.State != store.OutcomeCancelled || e.Code != "" || e.Response != "cancelled" {
		t.Errorf("r1, never attempted: %+v, want cancelled", e)
	}
}

// TestLayoutOutOfOrder: the stager takes the plan's batches as they are,
// and refuses a layout that is not in file order.
func TestLayoutOutOfOrder(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	sg, err := st.NewStager(ctx, store.StageConfig{Campaign: "c-order", ChunkSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	r := store.Recipient{Line: 2, ID: "a", Email: "a@x.example", Lang: "de"}
	if err := sg.Add(ctx, r, 0, false); err != nil {
		t.Fatal(err)
	}
	if err := sg.Add(ctx, r, 2, false); err == nil || !strings.Contains(err.Error(), "line 2: batch 2 out of order (want 1)") {
		t.Fatalf("batch 2 after batch 0: %v, want a layout error wanting 1", err)
	}
	if err := sg.Add(ctx, r, 0, true); err == nil || !strings.Contains(err.Error(), "out of order") {
		t.Fatalf("a canary recipient without a canary layout: %v", err)
	}
}

// TestResumeExistingDone: a finished campaign stays finished: its stager
// checks rows (a row it never had is new) and refuses every write.
func TestResumeExistingDone(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	sum := stage(t, st, "c-fin", stageOpts{n: 0, size: 3})
	if r := tick(t, st, "c-fin", sum, store.TickParams{}); r.Code != store.TickDone {
		t.Fatalf("tick of a campaign with nothing to send: %+v", r)
	}
	sg, err := st.NewStager(ctx, store.StageConfig{Campaign: "c-fin", ResumeExisting: true, Env: "test"})
	if err != nil || !sg.Done() {
		t.Fatalf("resume-existing of a done campaign: %v (done %t), want a stager of a done campaign", err, err == nil && sg.Done())
	}
	defer sg.Abort(ctx)
	r := store.Recipient{Line: 2, ID: "new", Email: "new@x.example", Lang: "en"}
	if got, err := sg.Check(ctx, []store.Recipient{r}); err != nil || len(got.New) != 1 || got.New[0].ID != "new" {
		t.Errorf("Check of a row the done campaign never had: %+v, %v; want it new", got, err)
	}
	if err := sg.Add(ctx, r, 0, false); !errors.Is(err, store.ErrNothingToSend) {
		t.Errorf("Add to a done campaign: %v, want ErrNothingToSend", err)
	}
	if _, err := sg.Finish(ctx, true); !errors.Is(err, store.ErrNothingToSend) {
		t.Errorf("Finish of a done campaign: %v, want ErrNothingToSend", err)
	}
	if c, _ := st.Control(ctx, "c-fin"); c.State != store.StateDone {
		t.Fatalf("state %s after refused resume", c.State)
	}
}

func BenchmarkStage(b *testing.B) {
	st := store.New(startRedis(b))
	b.ReportAllocs() // a recipient's: b.N of them in one staging
	b.ResetTimer()
	stage(b, st, "bench", stageOpts{n: b.N, canary: 2, size: 500})
}

// TestAutoPauseWindow: the window counts first attempts and attempts that
// end for good, not a retry that fails temporarily again; resume starts it
// afresh, so it can pause again only after MinAttempts new attempts.
func TestAutoPauseWindow(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	sum := stage(t, st, "c-win", stageOpts{n: 12, size: 12})
	tick(t, st, "c-win", sum, store.TickParams{})
	l := st.Ledger("c-win", sum.Stage)
	p := store.Policy{MaxAttempts: 3, Window: 10, ErrorRate: 0.5, MinAttempts: 4}
	send := func(id string, k store.Kind) string {
		t.Helper()
		r, err := l.Step(ctx, nil, []store.Claim{{ID: id, Lang: "de", Token: id + string(k) + fmt.Sprint(time.Now().UnixNano())}}, p, time.Now())
		if err != nil || first(r).Result != store.ClaimOK {
			t.Fatalf("claim %s: %+v %v", id, r, err)
		}
		r, err = l.Step(ctx, []store.Record{{ID: id, Lang: "de", Kind: k, Code: "451", Response: "try later"}}, nil, p, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return r.AutoPaused
	}
	steps := []struct {
		id     string
		kind   store.Kind
		paused string // substring of the auto-pause reason; "" = no pause
	}{
		{"r0", store.KindTemp, ""}, // first attempt failed: 1 of 1
		{"r0", store.KindTemp, ""}, // its retry failed again: not counted
		{"r1", store.KindSent, ""}, // 1 of 2
		{"r2", store.KindSent, ""}, // 1 of 3
		{"r3", store.KindTemp, ""}, // 2 of 4: not above 50% (with the retry counted it would be 3 of 5)
		{"r4", store.KindTemp, "error rate 60% over the last 5 attempts"},
	}
	for _, s := range steps {
		if got := send(s.id, s.kind); (s.paused == "") != (got == "") || !strings.Contains(got, s.paused) {
			t.Fatalf("%s %s: auto-pause %q, want %q", s.id, s.kind, got, s.paused)
		}
	}
	if _, err := st.Resume(ctx, "c-win", who, "looked at it"); err != nil {
		t.Fatal(err)
	}
	// A fresh window: three failures are below MinAttempts, the fourth pauses.
	for i, id := range []string{"r5", "r6", "r7", "r8"} {
		got := send(id, store.KindTemp)
		if (i < 3) != (got == "") {
			t.Fatalf("after resume, failure %d: auto-pause %q", i+1, got)
		}
	}
}

// TestControlGoesOnWhenReplicasDoNotAck: with replica acknowledgements
// required and none given, cancel and retry still go through every chunk
// (each write was made on the master) and say that the replicas did not
// acknowledge. Before, both stopped at the first chunk: a cancel left the
// other chunks' recipients pending in a cancelled campaign, and a retry
// left the campaign done with recipients re-queued, which a second retry
// (finding nothing to re-queue) never ran. Requeue also refuses to re-queue
// anyone once the campaign is cancelled, chunk by chunk.
func TestControlGoesOnWhenReplicasDoNotAck(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	if r.Embedded {
		t.Skip("the embedded Redis has no WAIT; CI runs this on redis-server")
	}
	ctx := context.Background()
	st := store.New(r.Client())
	acked := store.NewWithConfig(r.Client(), store.Config{ReplicaAcks: 1, AckTimeout: 10 * time.Millisecond})

	// Cancel: 20 recipients in 3 chunks.
	stage(t, st, "cx", stageOpts{n: 20, size: 20})
	_, _, err := acked.Cancel(ctx, "cx", who, "stop")
	var ae *store.AckError
	if !errors.As(err, &ae) {
		t.Fatalf("cancel without acks: %v, want an AckError", err)
	}
	if s, _ := st.Status(ctx, "cx"); s.Counts[store.OutcomeCancelled] != 20 || s.Counts[store.OutcomePending] != 0 {
		t.Fatalf("after cancel: %v, want all 20 cancelled", s.Counts)
	}

	// Retry: 14 temporary failures in 2 chunks of a done campaign.
	sum := stage(t, st, "rx", stageOpts{n: 14, size: 14})
	tick(t, st, "rx", sum, store.TickParams{})
	l := st.Ledger("rx", sum.Stage)
	p := store.Policy{MaxAttempts: 1}
	for i := range 14 {
		id := fmt.Sprint("r", i)
		if _, err := l.Step(ctx, nil, []store.Claim{{ID: id, Lang: "de", Token: id}}, p, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Step(ctx, []store.Record{{ID: id, Lang: "de", Kind: store.KindTemp, Code: "451", Response: "later"}}, nil, p, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if res := tick(t, st, "rx", sum, store.TickParams{}); res.Code != store.TickDone {
		t.Fatalf("tick %+v, want done", res)
	}
	retried, err := acked.Requeue(ctx, "rx", who, store.RetryScope{})
	if !errors.As(err, &ae) || retried.N != 14 {
		t.Fatalf("retry without acks: %d, %v; want 14 and an AckError", retried.N, err)
	}
	s, _ := st.Status(ctx, "rx")
	if s.State != store.StateRunning || s.Retries != 14 || s.Action != "retry" {
		t.Fatalf("after retry: %s (%s), %d deferred; want running by retry with 14 re-queued", s.State, s.Action, s.Retries)
	}
	if a := s.Audit[len(s.Audit)-1]; a.Action != "retry" || a.Reason != "14 temporary failures re-queued" {
		t.Fatalf("audit of the retry: %+v", a)
	}
	// A retry that re-queued but did not reopen the campaign (it failed
	// half-way) is finished by the next one.
	if _, _, err := st.Transition(ctx, "rx", store.TransitionParams{From: []store.State{store.StateRunning}, To: store.StateDone}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Requeue(ctx, "rx", who, store.RetryScope{}); err != nil {
		t.Fatal(err)
	}
	s, _ = st.Status(ctx, "rx")
	if a := s.Audit[len(s.Audit)-1]; s.State != store.StateRunning || a.Reason != "14 temporary failures re-queued by an earlier retry that did not finish" {
		t.Fatalf("second retry: state %s, audit %+v; want running", s.State, a)
	}
	// Cancelled between two chunks of a retry: nobody is re-queued.
	if _, _, err := st.Cancel(ctx, "rx", who, "stop"); err != nil {
		t.Fatal(err)
	}
	if s, _ := st.Status(ctx, "rx"); s.Retries != 0 || s.Counts[store.OutcomeCancelled] != 14 {
		t.Fatalf("after cancel: %v, %d deferred; want the 14 cancelled", s.Counts, s.Retries)
	}
}

// TestResumeRefusesAStateLossPause: a campaign a worker paused because
// Redis forgot deliveries its journal holds is never resumed (that would
// send them again), whatever came after in the audit log (an approval in
// advance); a pause by a person resumes as before; the status says why.
func TestResumeRefusesAStateLossPause(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(startRedis(t))
	stage(t, st, "sl", stageOpts{n: 6, size: 6, canary: 1})
	if _, _, err := st.Transition(ctx, "sl", store.TransitionParams{From: []store.State{store.StateRunning}, To: store.StatePaused,
		Actor: who, Action: "state-loss", Reason: "state loss suspected"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Approve(ctx, "sl", "", true, who, ""); err != nil {
		t.Fatal(err)
	}
	_, err := st.Resume(ctx, "sl", who, "")
	var te *store.TransitionError
	if !errors.As(err, &te) || te.PausedFor != "state-loss" || te.State != store.StatePaused {
		t.Fatalf("resume of a state-loss pause: %v, want a TransitionError naming it", err)
	}
	if s, _ := st.Status(ctx, "sl"); s.State != store.StatePaused || s.Action != "state-loss" {
		t.Fatalf("after the refused resume: %s (%s), want paused (state-loss)", s.State, s.Action)
	}
	// Staged again from the pause (resume-existing with the exclusions):
	// the state-loss pause is history, and a later pause of the new
	// staging (here the error window's) resumes.
	rs := stage(t, st, "sl", stageOpts{n: 6, size: 6, resume: true, excluded: []string{"none"}})
	if s, _ := st.Status(ctx, "sl"); s.Action != "stage" {
		t.Fatalf("after staging again (run %s): action %q, want stage (a later auto-pause would read as the old state loss)", rs.Run, s.Action)
	}
	if _, _, err := st.Transition(ctx, "sl", store.TransitionParams{From: []store.State{store.StateRunning}, To: store.StatePaused,
		Actor: who, Action: "pause", Reason: "look"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Resume(ctx, "sl", who, ""); err != nil {
		t.Fatalf("resume of a pause after staging again: %v", err)
	}
	// Cancel is allowed; a person's pause of another campaign resumes.
	if _, _, err := st.Cancel(ctx, "sl", who, "restage with exclusions"); err != nil {
		t.Fatal(err)
	}
	stage(t, st, "hp", stageOpts{n: 6, size: 6})
	if _, err := st.Pause(ctx, "hp", who, "look"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Resume(ctx, "hp", who, ""); err != nil {
		t.Fatalf("resume of a person's pause: %v", err)
	}
}

// TestRejectsAfterTheLastChunk: rows not staged are recorded for the report
// even when no chunk is left to write after them (the recipients filled
// their last chunk exactly, or there is no recipient at all).
func TestRejectsAfterTheLastChunk(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	for _, n := range []int{0, 7 * 16} { // no chunk; 16 full chunks of 7, flushed by the last Add
		c := fmt.Sprint("c-rejects-", n)
		stage(t, st, c, stageOpts{n: n, size: max(n, 1)})
		rows, rejected := 0, 0
		if err := st.Report(ctx, c, func(r store.Row) error {
			rows++
			if r.Batch < 0 {
				rejected++
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if rows != n+1 || rejected != 1 {
			t.Errorf("%d recipients and 1 reject staged: report has %d rows, %d rejected; want %d and 1", n, rows, rejected, n+1)
		}
	}
}

// TestResumable: a campaign paused by an operator can be resumed (its
// control's Next is NextResume), so what retry re-queues waits for a
// resume; one paused for state loss cannot (Resume refuses it), so retry
// must not send the operator to resume.
func TestResumable(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	stage(t, st, "c-op", stageOpts{n: 2, size: 2})
	stage(t, st, "c-sl", stageOpts{n: 2, size: 2})
	if _, err := st.Pause(ctx, "c-op", who, "x"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Transition(ctx, "c-sl", store.TransitionParams{From: []store.State{store.StateRunning, store.StateStaged}, To: store.StatePaused, Actor: who, Action: "state-loss", Reason: "x"}); err != nil {
		t.Fatal(err)
	}
	resumable := func(c string) bool {
		ctl, err := st.Control(ctx, c)
		return err == nil && ctl.Next() == store.NextResume
	}
	if !resumable("c-op") || resumable("c-sl") || resumable("nosuch") {
		t.Errorf("resumable: paused by an operator %v, for state loss %v, unknown %v; want true, false, false",
			resumable("c-op"), resumable("c-sl"), resumable("nosuch"))
	}
	if _, err := st.Resume(ctx, "c-sl", who, "x"); err == nil {
		t.Error("a state-loss pause was resumed")
	}
}

// TestStepRefusesWhatTheScriptCannotTell: a record of a kind lua/step.lua
// has no letter for, or a token holding the ledger's separator, is refused
// before anything is written; a known kind goes through.
func TestStepRefusesWhatTheScriptCannotTell(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	stage(t, st, "c-step-refuses", stageOpts{n: 1, size: 1})
	ctl, err := st.Control(ctx, "c-step-refuses")
	if err != nil {
		t.Fatal(err)
	}
	l := st.Ledger("c-step-refuses", ctl.Stage)
	for _, tt := range []struct {
		rec  store.Record
		want string // in the error; "" for none
	}{
		{store.Record{ID: "r0", Lang: "de", Kind: "bogus", Token: "w/1"}, `unknown kind "bogus"`},
		{store.Record{ID: "r0", Lang: "de", Kind: "", Token: "w/1"}, `unknown kind ""`},
		{store.Record{ID: "r0", Lang: "de", Kind: store.KindSent, Token: "w|1"}, "the ledger's separator"},
		{store.Record{ID: "r0", Lang: "de", Kind: store.KindUnclaim, Token: "w/1"}, ""},
	} {
		_, err := l.Step(ctx, []store.Record{tt.rec}, nil, store.Policy{MaxAttempts: 1}, time.Now())
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("record of kind %q, token %q: %v, want none", tt.rec.Kind, tt.rec.Token, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("record of kind %q, token %q: error %v, want one saying %s", tt.rec.Kind, tt.rec.Token, err, tt.want)
		}
	}
}
