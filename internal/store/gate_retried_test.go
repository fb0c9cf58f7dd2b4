package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/store"
)

// retriedGate stages campaign c, two batches of 10, and makes the first
// attempts of batch 0: kinds (sent past the end), 550 for a failure; then
// the campaign is paused (as its error window pauses it while a relay
// refuses everyone), `retry --permanent` re-queues the failures and it is
// resumed, all before the batch's gate is applied. It returns the staging,
// its ledger and batch 0's recipients in order.
func retriedGate(t *testing.T, st *store.Store, c string, kinds ...store.Kind) (*store.StageSummary, *store.Ledger, []store.Recipient) {
	t.Helper()
	ctx := context.Background()
	sum, l, recs := gateRunOf(t, st, c, retriedStage(t), retriedPol, kinds...)
	if _, err := st.Pause(ctx, c, who, "relay refuses everyone"); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, k := range kinds {
		if k == store.KindFailed {
			failed++
		}
	}
	if retried, err := st.Requeue(ctx, c, who, store.RetryScope{Permanent: true}); retried.N != failed || err != nil {
		t.Fatalf("retry --permanent: %d, %v; want the %d failed re-queued", retried.N, err, failed)
	}
	if _, err := st.Resume(ctx, c, who, "relay fixed, we think"); err != nil {
		t.Fatal(err)
	}
	return sum, l, recs
}

// retriedStage is the staging of the retried gate's campaigns: two
// batches of 10, whose definition has retriedTick's max_failure_rate (the
// status reads it).
func retriedStage(t *testing.T) stageOpts {
	t.Helper()
	c := campaign.Campaign{Name: "gate", Environment: "test", Template: "t", Recipients: "r.csv", From: "a@example.com",
		Batches: campaign.Batches{Size: 10, MaxFailureRate: retriedTick.MaxFailureRate}}.WithDefaults()
	d, err := c.Definition()
	if err != nil {
		t.Fatal(err)
	}
	return stageOpts{n: 20, size: 10, def: d}
}

// retriedPol is the policy of the retried gate's campaigns: temporary
// failures get 3 attempts.
var retriedPol = store.Policy{MaxAttempts: 3}

// retriedTick is the tick of the retried gate's campaigns: a batch fails
// its gate above 15% of its first attempts (1 of 10 passes, 2 do not).
var retriedTick = store.TickParams{MaxFailureRate: 0.15, MaxAttempts: 3}

// batch0 returns batch 0 of c's status, and the recipients the batch gate
// waits for.
func batch0(t *testing.T, st *store.Store, c string) (store.BatchStatus, int) {
	t.Helper()
	s, err := st.Status(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return s.Batches[0], s.GateWaitsForRetried
}

// TestGatePausesAgainWhenTheRetriedRecipientsFailAgain: a relay refuses
// everyone, the campaign is paused, the operator re-queues the refused
// with `retry --permanent` and resumes, but the relay is still broken: the
// retried recipients fail again. The batch gate must pause the campaign:
// their first attempts' failures stand. (Before, the retry took them back
// from the gate's count as it re-queued them, and the gate released the
// next batch into the broken relay.)
func TestGatePausesAgainWhenTheRetriedRecipientsFailAgain(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	const c = "c-gate-refused-again"
	f := store.KindFailed
	sum, l, recs := retriedGate(t, st, c, f, f, f)
	for _, r := range recs[:3] {
		attempt(t, l, r, f, retriedPol, time.Now())
	}
	r := tick(t, st, c, sum, retriedTick)
	if want := "batch gate: 3 of the 10 first attempts in batch 0 failed (30%), above max_failure_rate 15% (3 permanent; last error: 550)"; r.Code != store.TickGated || r.Reason != want {
		t.Fatalf("tick after the retried recipients failed again: %+v\nwant the gate: %q", r, want)
	}
	if b, _ := batch0(t, st, c); b.Errors1 != 3 || b.Retried1 != 0 {
		t.Errorf("batch 0: %d first-attempt errors, %d retried undecided; want 3, 0", b.Errors1, b.Retried1)
	}
}

// TestGateDecidesByTheRetriedErrorsThatStand: when the retries of a batch's
// failed first attempts have ended, the gate judges the first-attempt
// errors that stand: a retry sent takes its recipient's back, any other
// outcome (failed again, a temporary failure again) leaves it standing.
func TestGateDecidesByTheRetriedErrorsThatStand(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	sent, f, temp := store.KindSent, store.KindFailed, store.KindTemp
	for _, tt := range []struct {
		name    string
		retries []store.Kind // of the 3 retried, in order
		want    store.TickCode
		errors1 int
		reason  string
	}{
		{"all-sent", []store.Kind{sent, sent, sent}, store.TickReleased, 0, ""},
		{"one-fails-again", []store.Kind{f, sent, sent}, store.TickReleased, 1, ""},
		{"two-fail-again", []store.Kind{f, f, sent}, store.TickGated, 2, "batch gate: 2 of the 10 first attempts in batch 0 failed (20%)"},
		{"one-fails-one-temporary", []store.Kind{f, temp, sent}, store.TickGated, 2, "batch gate: 2 of the 10 first attempts in batch 0 failed (20%)"},
	} {
		c := "c-gate-stand-" + tt.name
		sum, l, recs := retriedGate(t, st, c, f, f, f)
		for i, k := range tt.retries {
			attempt(t, l, recs[i], k, retriedPol, time.Now())
		}
		r := tick(t, st, c, sum, retriedTick)
		if r.Code != tt.want || !strings.HasPrefix(r.Reason, tt.reason) {
			t.Errorf("%s: tick %+v, want code %d with reason %q", tt.name, r, tt.want, tt.reason)
		}
		if b, _ := batch0(t, st, c); b.Errors1 != tt.errors1 || b.Retried1 != 0 {
			t.Errorf("%s: batch 0: %d first-attempt errors stand, %d retried undecided; want %d, 0", tt.name, b.Errors1, b.Retried1, tt.errors1)
		}
	}
}

// TestGateWaitsWhileTheRetriesThatDecideItArePending: while retried
// recipients whose outcome can still decide the gate have none, the gate
// neither passes (the next batch is not released) nor pauses, and status
// says what it waits for; retries that cannot change the verdict are not
// waited for: errors that stand without them already fail the gate, or
// all of them failing again would still pass it.
func TestGateWaitsWhileTheRetriesThatDecideItArePending(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	sent, f, doubt := store.KindSent, store.KindFailed, store.KindInDoubt

	c := "c-gate-waits"
	sum, l, recs := retriedGate(t, st, c, f, f, f)
	steps := []struct {
		retry store.Kind // the next retried recipient's outcome
		wait  int        // the retried recipients the gate then waits for
	}{
		{"", 3}, {sent, 2}, {f, 1}, {f, 0},
	}
	for i, s := range steps {
		if i > 0 {
			attempt(t, l, recs[i-1], s.retry, retriedPol, time.Now())
		}
		r := tick(t, st, c, sum, retriedTick)
		if s.wait == 0 {
			if r.Code != store.TickGated {
				t.Fatalf("step %d: tick %+v, want the gate once every retry has ended (2 of 10 stand)", i, r)
			}
			break
		}
		want := "batch gate: waiting for " + map[int]string{3: "3 retried recipients", 2: "2 retried recipients", 1: "1 retried recipient"}[s.wait] + " of batch 0"
		if r.Code != store.TickNoop || r.Reason != want {
			t.Fatalf("step %d: tick %+v, want it to wait: %q", i, r, want)
		}
		ctl, err := st.Control(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if ctl.State != store.StateRunning || ctl.CurBatch != 0 {
			t.Fatalf("step %d: %s at batch %d, want running at batch 0 (nothing released)", i, ctl.State, ctl.CurBatch)
		}
		if b, waits := batch0(t, st, c); b.Retried1 != s.wait || waits != s.wait {
			t.Errorf("step %d: batch 0 has %d retried undecided and status waits for %d; want %d", i, b.Retried1, waits, s.wait)
		}
	}

	for _, tt := range []struct {
		name  string
		kinds []store.Kind
		want  store.TickCode
	}{
		// 2 in doubt of 10 stand (never retried): 20%, whatever the 3 do.
		{"fails-without-them", []store.Kind{f, f, f, doubt, doubt}, store.TickGated},
		// 1 failed of 10: 10% even if it fails again.
		{"passes-with-them", []store.Kind{f}, store.TickReleased},
	} {
		c := "c-gate-no-wait-" + tt.name
		sum, _, _ := retriedGate(t, st, c, tt.kinds...)
		if r := tick(t, st, c, sum, retriedTick); r.Code != tt.want {
			t.Errorf("%s: tick %+v, want code %d without waiting for the retries", tt.name, r, tt.want)
		}
	}
}

// TestGateJudgesAgainAfterARetryOfTheBatchItPaused: a campaign its batch
// gate paused, whose failures are re-queued by a retry and which is then
// resumed, is judged again by that gate once the retries have ended: paused
// again when they fail again, released when they are sent.
func TestGateJudgesAgainAfterARetryOfTheBatchItPaused(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	f := store.KindFailed
	for _, tt := range []struct {
		name  string
		retry store.Kind
		want  store.TickCode
	}{
		{"fail-again", f, store.TickGated},
		{"sent", store.KindSent, store.TickReleased},
	} {
		c := "c-gate-again-" + tt.name
		sum, l, recs := gateRunOf(t, st, c, retriedStage(t), retriedPol, f, f, f)
		if r := tick(t, st, c, sum, retriedTick); r.Code != store.TickGated {
			t.Fatalf("%s: first tick after batch 0: %+v, want the gate", tt.name, r)
		}
		if retried, err := st.Requeue(ctx, c, who, store.RetryScope{Permanent: true}); retried.N != 3 || err != nil {
			t.Fatalf("%s: retry --permanent: %d, %v; want 3", tt.name, retried.N, err)
		}
		if _, err := st.Resume(ctx, c, who, "relay fixed"); err != nil {
			t.Fatal(err)
		}
		if r := tick(t, st, c, sum, retriedTick); r.Code != store.TickNoop || !strings.HasPrefix(r.Reason, "batch gate: waiting for 3 retried") {
			t.Fatalf("%s: tick after the retry and resume: %+v, want the gate to wait for the 3 retried", tt.name, r)
		}
		for _, r := range recs[:3] {
			attempt(t, l, r, tt.retry, retriedPol, time.Now())
		}
		if r := tick(t, st, c, sum, retriedTick); r.Code != tt.want {
			t.Errorf("%s: tick after the retries: %+v, want code %d", tt.name, r, tt.want)
		}
	}
}

// TestCancelLeavesTheRetriedErrorsStanding: a cancel of a campaign with
// retried recipients undecided leaves their first-attempt errors standing
// (nobody waits for them any more).
func TestCancelLeavesTheRetriedErrorsStanding(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	const c = "c-gate-retried-cancelled"
	f := store.KindFailed
	retriedGate(t, st, c, f, f, f)
	if b, _ := batch0(t, st, c); b.Errors1 != 3 || b.Retried1 != 3 {
		t.Fatalf("after the retry: %d first-attempt errors, %d retried undecided; want 3, 3", b.Errors1, b.Retried1)
	}
	if _, _, err := st.Cancel(context.Background(), c, who, "test"); err != nil {
		t.Fatal(err)
	}
	if b, _ := batch0(t, st, c); b.Errors1 != 3 || b.Retried1 != 0 {
		t.Errorf("after the cancel: %d first-attempt errors, %d retried undecided; want 3, 0", b.Errors1, b.Retried1)
	}
}

// TestAPassEndedAfterARetryLeavesItsChunkUnfinished: a chunk's pass that
// read its recipients' entries before a retry re-queued some of them (it
// had recorded their failures itself) ends after it, seeing nothing left:
// the chunk must not be marked finished, or nothing runs it again and the
// re-queued are never retried (the batch gate would wait for them for
// ever). The reconciler runs a chunk not finished again.
func TestAPassEndedAfterARetryLeavesItsChunkUnfinished(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	const c = "c-pass-after-retry"
	sum, _, _ := retriedDuringAPass(t, st, c, store.KindFailed, retriedPol, store.RetryScope{Permanent: true}, nil)
	if _, err := st.EndChunk(ctx, c, sum.Stage, 0, 0, true); err != nil {
		t.Fatal(err)
	}
	if chunkFinished(t, st, c) {
		t.Fatalf("chunk 0 marked finished by a pass that ended after a retry re-queued one of its recipients: nothing would send it again")
	}
}

// TestARetriedRecipientBeingSentKeepsItsChunkUnfinished: a chunk's pass
// read its recipients' entries, recorded the first one failed, and went on;
// on-call re-queued that failure with `retry`, and a second pass of the
// same chunk (a task the reconciler replaced while the first still ran, a
// task asynq runs twice) claimed the re-queued recipient and is sending it
// when the first pass ends. The first pass must not mark the chunk
// finished: a finished chunk is run by nobody again (the reconciler skips
// it, and `retry` re-queues only failures), so when the second pass's
// claim does not end in an outcome (given back at a pause, or a temporary
// failure whose task is then ended by a pause) the recipient is left
// pending for ever and the campaign is never done. Each case
// ends the second pass's claim its way, then the reconciler's passes run
// the chunk while it is not finished, as the worker does, and the campaign
// must be done with every recipient's outcome.
func TestARetriedRecipientBeingSentKeepsItsChunkUnfinished(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	pol := store.Policy{MaxAttempts: 1} // a temporary failure is final: retry re-queues it
	for i, tt := range []struct {
		name string
		// second ends the second pass's claim of r (token tok): it returns
		// whether that pass then ends the chunk (EndChunk) and with what.
		second func(t *testing.T, c, stage string, l *store.Ledger, r store.Recipient, tok string) (ends, finished bool)
	}{
		{name: "sent", second: func(t *testing.T, c, stage string, l *store.Ledger, r store.Recipient, tok string) (bool, bool) {
			record(t, l, r, store.KindSent, tok, pol, time.Now())
			return true, true
		}},
		{name: "its claim given back at a pause", second: func(t *testing.T, c, stage string, l *store.Ledger, r store.Recipient, tok string) (bool, bool) {
			if _, err := st.Pause(ctx, c, who, "relay trouble"); err != nil {
				t.Fatal(err)
			}
			record(t, l, r, store.KindUnclaim, tok, pol, time.Now())
			if _, err := st.Resume(ctx, c, who, "relay fixed"); err != nil {
				t.Fatal(err)
			}
			return false, false // the pass stopped: the reconciler runs the chunk again
		}},
		{name: "a temporary failure, then its task ended by a pause", second: func(t *testing.T, c, stage string, l *store.Ledger, r store.Recipient, tok string) (bool, bool) {
			// The retried attempt fails temporarily (it has attempts of its
			// own): deferred, and the pass ends the chunk unfinished; its
			// task, run again when r is due, finds the campaign paused and
			// ends there, claiming nobody.
			record(t, l, r, store.KindTemp, tok, store.Policy{MaxAttempts: 3}, time.Now())
			if _, err := st.EndChunk(ctx, c, stage, 0, 0, false); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Pause(ctx, c, who, "relay trouble"); err != nil {
				t.Fatal(err)
			}
			res, err := l.Step(ctx, nil, []store.Claim{{ID: r.ID, Lang: r.Lang, Token: "its task again"}}, pol, time.Now())
			if err != nil || first(res).Result != store.ClaimStop {
				t.Fatalf("its task claims %s while paused: %+v, %v; want STOP", r.ID, res, err)
			}
			if _, err := st.Resume(ctx, c, who, "relay fixed"); err != nil {
				t.Fatal(err)
			}
			return false, false
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := fmt.Sprintf("c-retried-sending-%d", i)
			// The first pass: r0 fails for good (its one attempt), the others
			// are sent; the retry re-queues r0 and the second pass claims it.
			sum, l, recs := retriedDuringAPass(t, st, c, store.KindTemp, pol, store.RetryScope{}, func(l *store.Ledger, r store.Recipient) {
				res, err := l.Step(ctx, nil, []store.Claim{{ID: r.ID, Lang: r.Lang, Token: "second"}}, pol, time.Now())
				if err != nil || first(res).Result != store.ClaimOK {
					t.Fatalf("the second pass claims %s: %+v, %v", r.ID, res, err)
				}
			})
			if _, err := st.EndChunk(ctx, c, sum.Stage, 0, 0, true); err != nil {
				t.Fatal(err)
			}
			if chunkFinished(t, st, c) {
				t.Errorf("the first pass marked chunk 0 finished while r0, re-queued by the retry, was being sent by another pass")
			}
			if ends, finished := tt.second(t, c, sum.Stage, l, recs[0], "second"); ends {
				if _, err := st.EndChunk(ctx, c, sum.Stage, 0, 0, finished); err != nil {
					t.Fatal(err)
				}
			}
			// The reconciler's passes: a chunk not finished runs again (the
			// ledger claims what is not final; a deferred recipient is
			// claimed once due, here at once).
			for pass := 0; !chunkFinished(t, st, c) && pass < 3; pass++ {
				passAgain(t, st, l, c, sum.Stage, recs, pol, fmt.Sprint("again", pass))
			}
			if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickDone {
				s, err := st.Status(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				t.Fatalf("the campaign is not done (tick %+v, chunk 0 finished: %v): counts %v", r, chunkFinished(t, st, c), s.Counts)
			}
			s, err := st.Status(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if s.Counts[store.OutcomeSent] != 5 {
				t.Errorf("done with %d sent (counts %v); want all 5", s.Counts[store.OutcomeSent], s.Counts)
			}
		})
	}
}

// passAgain is a pass of c's chunk 0 (recipients recs) that the
// reconciler runs while the chunk is not finished: it claims every
// recipient not final (claims with token tok), sends those it gets, and
// ends the chunk finished.
func passAgain(t *testing.T, st *store.Store, l *store.Ledger, c, stage string, recs []store.Recipient, pol store.Policy, tok string) {
	t.Helper()
	ctx := context.Background()
	es, err := st.Entries(ctx, c, store.IDs(recs))
	if err != nil {
		t.Fatal(err)
	}
	for j, e := range es {
		if e.Final() {
			continue
		}
		res, err := l.Step(ctx, nil, []store.Claim{{ID: recs[j].ID, Lang: recs[j].Lang, Token: tok}}, pol, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if first(res).Result == store.ClaimOK {
			record(t, l, recs[j], store.KindSent, tok, pol, time.Now())
		}
	}
	if _, err := st.EndChunk(ctx, c, stage, 0, 0, true); err != nil {
		t.Fatal(err)
	}
}

// record records kind for r, claimed with token tok, at now (a temporary
// failure's reply is 451, a permanent one's 550), and returns the step's
// answer.
func record(t *testing.T, l *store.Ledger, r store.Recipient, kind store.Kind, tok string, pol store.Policy, now time.Time) store.StepResult {
	t.Helper()
	code := map[store.Kind]string{store.KindTemp: "451", store.KindFailed: "550"}[kind]
	res, err := l.Step(context.Background(), []store.Record{{ID: r.ID, Lang: r.Lang, Kind: kind, Code: code, Token: tok}}, nil, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// chunkFinished reports whether c's chunk 0 is marked finished.
func chunkFinished(t *testing.T, st *store.Store, c string) bool {
	t.Helper()
	finished, _, err := st.ChunkTasks(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return finished[0]
}

// oneChunk stages c, one chunk of 5 recipients, and releases it. It
// returns the staging, its ledger and the chunk's recipients.
func oneChunk(t *testing.T, st *store.Store, c string) (*store.StageSummary, *store.Ledger, []store.Recipient) {
	t.Helper()
	sum := stage(t, st, c, stageOpts{n: 5, size: 5})
	tick(t, st, c, sum, store.TickParams{})
	recs, err := st.Chunk(context.Background(), c, 0)
	if err != nil {
		t.Fatal(err)
	}
	return sum, st.Ledger(c, sum.Stage), recs
}

// retriedDuringAPass stages c (one chunk of 5), releases it and makes the
// chunk's first pass, without ending it: r0 fails (kind), the others are
// sent; right after r0's failure on-call runs a retry of scope, which must
// re-queue r0, then during (when not nil) is given the ledger and r0. It returns the
// staging, its ledger and the chunk's recipients.
func retriedDuringAPass(t *testing.T, st *store.Store, c string, kind store.Kind, pol store.Policy, scope store.RetryScope, during func(l *store.Ledger, r store.Recipient)) (*store.StageSummary, *store.Ledger, []store.Recipient) {
	t.Helper()
	ctx := context.Background()
	sum, l, recs := oneChunk(t, st, c)
	for i, r := range recs {
		if i > 0 {
			attempt(t, l, r, store.KindSent, pol, time.Now())
			continue
		}
		attempt(t, l, r, kind, pol, time.Now())
		// The pass goes on; on-call re-queues the failure meanwhile.
		if retried, err := st.Requeue(ctx, c, who, scope); retried.N != 1 || err != nil {
			t.Fatalf("retry (%s): %d, %v; want 1", scope, retried.N, err)
		}
		if during != nil {
			during(l, r)
		}
	}
	return sum, l, recs
}
