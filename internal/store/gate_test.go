package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// gateRun stages a one-batch campaign of n recipients and records one
// attempt of each: kinds[i] for the i-th recipient (sent when past the
// end), with pol; then it ends every chunk. It returns what recorded
// them, and the recipients in order.
func gateRun(t *testing.T, st *store.Store, c string, n int, pol store.Policy, kinds ...store.Kind) (*store.StageSummary, *store.Ledger, []store.Recipient) {
	t.Helper()
	return gateRunOf(t, st, c, stageOpts{n: n, size: n}, pol, kinds...)
}

// gateRunOf is gateRun of a campaign staged with o: batch 0's recipients
// are attempted and its chunks ended; the batches after it wait.
func gateRunOf(t *testing.T, st *store.Store, c string, o stageOpts, pol store.Policy, kinds ...store.Kind) (*store.StageSummary, *store.Ledger, []store.Recipient) {
	t.Helper()
	ctx := context.Background()
	sum := stage(t, st, c, o)
	if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickReleased {
		t.Fatalf("first tick %+v", r)
	}
	l := st.Ledger(c, sum.Stage)
	meta, err := st.Meta(ctx, c, false)
	if err != nil {
		t.Fatal(err)
	}
	var all []store.Recipient
	for ch := meta.Batches[0].First; ch <= meta.Batches[0].Last; ch++ {
		recs, err := st.Chunk(ctx, c, ch)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, recs...)
	}
	for i, r := range all {
		kind := store.KindSent
		if i < len(kinds) {
			kind = kinds[i]
		}
		attempt(t, l, r, kind, pol, time.Now())
	}
	for ch := meta.Batches[0].First; ch <= meta.Batches[0].Last; ch++ {
		if _, err := st.EndChunk(ctx, c, sum.Stage, 0, ch, true); err != nil {
			t.Fatal(err)
		}
	}
	return sum, l, all
}

// attempt claims r at now and records kind for it.
func attempt(t *testing.T, l *store.Ledger, r store.Recipient, kind store.Kind, pol store.Policy, now time.Time) {
	t.Helper()
	ctx := context.Background()
	res, err := l.Step(ctx, nil, []store.Claim{{ID: r.ID, Lang: r.Lang, Token: r.ID + now.String()}}, pol, now)
	if err != nil || first(res).Result != store.ClaimOK {
		t.Fatalf("claim %s at %s: %+v %v", r.ID, now, res, err)
	}
	record(t, l, r, kind, r.ID+now.String(), pol, now)
}

// TestGateBreakdownIsOfFirstAttempts: the batch gate says how many first
// attempts failed and, of those, how many temporarily and how many for
// good; a retry's failure is not a first attempt and is not in the
// breakdown (before, it was: "34 of the 100 first attempts failed (2
// temporary; 33 permanent)").
func TestGateBreakdownIsOfFirstAttempts(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	pol := store.Policy{MaxAttempts: 3}
	temp, failed := store.KindTemp, store.KindFailed
	for _, tt := range []struct {
		maxAttempts int // as the worker passes the campaign's
		temporary   string
	}{
		{3, "3 temporary, retried later"},
		{1, "3 temporary, not retried (max_attempts 1)"},
		{0, "3 temporary"},
	} {
		c := fmt.Sprintf("c-gate-mix-%d", tt.maxAttempts)
		sum, l, recs := gateRun(t, st, c, 10, pol, temp, temp, temp, failed, failed)
		// Two retries of the first, failing temporarily again, once the
		// backoff has passed.
		attempt(t, l, recs[0], temp, pol, time.Now().Add(time.Hour))
		attempt(t, l, recs[0], temp, pol, time.Now().Add(3*time.Hour))
		r := tick(t, st, c, sum, store.TickParams{MaxFailureRate: 0.3, MaxAttempts: tt.maxAttempts})
		if r.Code != store.TickGated {
			t.Fatalf("%s: tick %+v, want the gate", c, r)
		}
		if want := "5 of the 10 first attempts in batch 0 failed (50%), above max_failure_rate 30% (" + tt.temporary + "; 2 permanent; last error: 451)"; !strings.Contains(r.Reason, want) {
			t.Errorf("%s: gate reason %q\nwant it to contain %q", c, r.Reason, want)
		}
	}
}

// TestRetryOfADoneCampaignIsNotGated: a campaign that is done before its
// last batch's gate was applied (its failures were final) runs again on
// retry without that gate pausing it: the gate had nothing left to hold
// back when the campaign finished, and the retry is the operator's
// decision about those failures.
func TestRetryOfADoneCampaignIsNotGated(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	pol := store.Policy{MaxAttempts: 1}
	p := store.TickParams{MaxFailureRate: 0.3, MaxAttempts: 1}
	sum, l, recs := gateRun(t, st, "c-gate-done", 5, pol, store.KindTemp, store.KindTemp)
	if r := tick(t, st, "c-gate-done", sum, p); r.Code != store.TickDone {
		t.Fatalf("tick after every outcome %+v, want done", r)
	}
	if retried, err := st.Requeue(ctx, "c-gate-done", who, store.RetryScope{}); retried.N != 2 || err != nil {
		t.Fatalf("retry: %d, %v; want 2 re-queued", retried.N, err)
	}
	if r := tick(t, st, "c-gate-done", sum, p); r.Code != store.TickNoop {
		t.Fatalf("tick after the retry %+v, want nothing (no gate)", r)
	}
	if c, _ := st.Control(ctx, "c-gate-done"); c.State != store.StateRunning {
		t.Fatalf("state after the retry's tick: %s (%s), want running", c.State, c.Reason)
	}
	attempt(t, l, recs[0], store.KindSent, store.Policy{MaxAttempts: 2}, time.Now())
}

// TestARetriedFirstAttemptErrorIsTakenBackOnlyWhenSent: a retry that
// re-queues a recipient whose first attempt failed takes nothing back from
// the batch gate's count: that failure stands until the retry ends. Sent,
// it is taken back (the README's recovery from a relay that refused
// everyone, fix, retry --permanent, resume, must not be paused again by
// the gate for the refusals fixed); failed again, it stands (a relay still
// broken must not pass the gate), and a later retry that is sent takes it
// back. A failure of a later attempt was never in the count, and the first
// attempts that still stand are still judged. (It was
// TestRetryTakesBackTheFirstAttemptErrorsItRequeues, when the retry took
// the failures back as it re-queued them.)
func TestARetriedFirstAttemptErrorIsTakenBackOnlyWhenSent(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	const c = "c-gate-retried"
	pol := store.Policy{MaxAttempts: 3}
	perm := store.RetryScope{Permanent: true}
	errors1 := func(want, retried int, after string) {
		t.Helper()
		s, err := st.Status(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if b := s.Batches[0]; b.Errors1 != want || b.Retried1 != retried {
			t.Fatalf("after %s: %d first-attempt errors, %d of them retried and undecided; want %d, %d", after, b.Errors1, b.Retried1, want, retried)
		}
	}
	sum, l, recs := gateRun(t, st, c, 10, pol, store.KindFailed, store.KindFailed, store.KindTemp)
	errors1(3, 0, "2 permanent failures and 1 temporary")
	if retried, err := st.Requeue(ctx, c, who, perm); retried.N != 2 || err != nil {
		t.Fatalf("retry --permanent: %d, %v; want 2 re-queued", retried.N, err)
	}
	errors1(3, 2, "retry --permanent of the 2 permanent failures")
	// One fails again (its second attempt), one is sent.
	attempt(t, l, recs[0], store.KindFailed, pol, time.Now())
	errors1(3, 1, "a retry's failure")
	attempt(t, l, recs[1], store.KindSent, pol, time.Now())
	errors1(2, 0, "a retry sent")
	if retried, err := st.Requeue(ctx, c, who, perm); retried.N != 1 || err != nil {
		t.Fatalf("second retry --permanent: %d, %v; want 1 re-queued", retried.N, err)
	}
	errors1(2, 1, "a second retry --permanent of a failed second attempt")
	attempt(t, l, recs[0], store.KindSent, pol, time.Now())
	errors1(1, 0, "the second retry sent")
	// The temporary failure of a first attempt (waiting for its retry)
	// still stands: 1 of 10.
	r := tick(t, st, c, sum, store.TickParams{MaxFailureRate: 0.05, MaxAttempts: 3})
	if want := "batch gate: 1 of the 10 first attempts in batch 0 failed (10%), above max_failure_rate 5% (1 temporary, retried later; "; r.Code != store.TickGated || !strings.Contains(r.Reason, want) {
		t.Fatalf("tick %+v, want the gate: %q", r, want)
	}
}

// TestInDoubtIsAnErrorOfTheGates: a first attempt in doubt (the whole
// message went and no reply came) counts as an error of the batch gate and
// of the auto-pause window, and the reasons and the recent errors say in
// doubt, not temporary or permanent.
func TestInDoubtIsAnErrorOfTheGates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(startRedis(t))
	doubt, failed, temp := store.KindInDoubt, store.KindFailed, store.KindTemp

	// The batch gate: 1 permanent failure, 1 temporary (the campaign is not
	// done: it waits for its retry) and 3 in doubt of 10.
	sum, _, _ := gateRun(t, st, "c-gate-doubt", 10, store.Policy{MaxAttempts: 3}, failed, temp, doubt, doubt, doubt)
	r := tick(t, st, "c-gate-doubt", sum, store.TickParams{MaxFailureRate: 0.3, MaxAttempts: 3})
	if r.Code != store.TickGated {
		t.Fatalf("tick %+v, want the gate (5 of 10 above 30%%)", r)
	}
	if want := "5 of the 10 first attempts in batch 0 failed or are in doubt (50%), above max_failure_rate 30% (1 temporary, retried later; 3 in doubt (no reply after the data: the relay may have delivered them; never sent again); 1 permanent"; !strings.Contains(r.Reason, want) {
		t.Errorf("gate reason %q\nwant it to contain %q", r.Reason, want)
	}
	s, err := st.Status(ctx, "c-gate-doubt")
	if err != nil {
		t.Fatal(err)
	}
	if b := s.Batches[0]; b.Errors1 != 5 || b.Doubt1 != 3 || b.InDoubt != 3 {
		t.Errorf("batch 0: %d first-attempt errors, %d of them in doubt, %d in doubt; want 5, 3, 3", b.Errors1, b.Doubt1, b.InDoubt)
	}
	var groups []string
	for _, g := range s.Errors {
		groups = append(groups, fmt.Sprintf("%s:doubt=%v:temp=%v:%d", g.Code, g.InDoubt, g.Temporary, g.Count))
	}
	if got, want := strings.Join(groups, " "), ":doubt=true:temp=false:3 451:doubt=false:temp=true:1 550:doubt=false:temp=false:1"; got != want {
		t.Errorf("recent errors %s, want %s", got, want)
	}

	// The auto-pause window: in doubt only, 4 of them reach MinAttempts.
	sum = stage(t, st, "c-win-doubt", stageOpts{n: 12, size: 12})
	tick(t, st, "c-win-doubt", sum, store.TickParams{})
	l := st.Ledger("c-win-doubt", sum.Stage)
	p := store.Policy{MaxAttempts: 3, Window: 10, ErrorRate: 0.5, MinAttempts: 4}
	for i := range 4 {
		id := fmt.Sprintf("r%d", i)
		res, err := l.Step(ctx, nil, []store.Claim{{ID: id, Lang: "de", Token: id}}, p, time.Now())
		if err != nil || first(res).Result != store.ClaimOK {
			t.Fatalf("claim %s: %+v %v", id, res, err)
		}
		res, err = l.Step(ctx, []store.Record{{ID: id, Lang: "de", Kind: doubt, Response: "no reply after the message was sent", Token: id}}, nil, p, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		if i == 3 {
			want = "auto-pause: error rate 100% over the last 4 attempts (last error: in doubt, no reply after the message was sent)"
		}
		if res.AutoPaused != want {
			t.Fatalf("in doubt %d: auto-pause %q, want %q", i+1, res.AutoPaused, want)
		}
	}
}

// TestRecordOutcomeIsWhatTheLedgerRecords: Record.Outcome (what a worker's
// tidings_messages_total labels an outcome) is the state lua/step.lua
// writes: a temporary failure is deferred before its last attempt and
// failed on it, at every max_attempts; cancelled once the campaign is; the
// other kinds as they are.
func TestRecordOutcomeIsWhatTheLedgerRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(startRedis(t))
	// run stages campaign c of one recipient and records kinds for it, one
	// attempt each, cancelling c before the last record when cancel is set;
	// after each record, Outcome must say what the ledger holds.
	run := func(c string, pol store.Policy, cancel bool, kinds ...store.Kind) {
		t.Helper()
		sum := stage(t, st, c, stageOpts{n: 1, size: 1})
		tick(t, st, c, sum, store.TickParams{})
		l := st.Ledger(c, sum.Stage)
		rs, err := st.Chunk(ctx, c, 0)
		if err != nil {
			t.Fatal(err)
		}
		r := rs[0]
		for i, kind := range kinds {
			now := time.Now().Add(time.Duration(i) * time.Hour)
			tok := fmt.Sprint(r.ID, i)
			res, err := l.Step(ctx, nil, []store.Claim{{ID: r.ID, Lang: r.Lang, Token: tok}}, pol, now)
			if err != nil || first(res).Result != store.ClaimOK {
				t.Fatalf("%s: claim %d: %+v %v", c, i+1, res, err)
			}
			if cancel && i == len(kinds)-1 {
				if _, _, err := st.Cancel(ctx, c, who, "test"); err != nil {
					t.Fatal(err)
				}
			}
			rec := store.Record{ID: r.ID, Lang: r.Lang, Kind: kind, Code: "451", Token: tok, Attempt: first(res).Attempt}
			if res, err = l.Step(ctx, []store.Record{rec}, nil, pol, now); err != nil {
				t.Fatal(err)
			}
			es, err := st.Entries(ctx, c, []string{r.ID})
			if err != nil {
				t.Fatal(err)
			}
			if got := rec.Outcome(pol, res.State); got != es[0].State {
				t.Errorf("%s: %s on attempt %d of %d: Outcome says %q, the ledger has %q", c, kind, rec.Attempt, pol.MaxAttempts, got, es[0].State)
			}
			if len(res.Recorded) != 1 || res.Recorded[0] != es[0].State {
				t.Errorf("%s: %s on attempt %d of %d: the step answers it recorded %q, the ledger has %q", c, kind, rec.Attempt, pol.MaxAttempts, res.Recorded, es[0].State)
			}
		}
	}
	temp := store.KindTemp
	for _, k := range []store.Kind{store.KindSent, store.KindFailed, store.KindInDoubt, store.KindRefused, store.KindInvalid, store.KindSkipped} {
		run("c-outcome-"+string(k), store.Policy{MaxAttempts: 3}, false, k)
	}
	run("c-outcome-temp-1", store.Policy{MaxAttempts: 1}, false, temp)
	run("c-outcome-temp-2", store.Policy{MaxAttempts: 2}, false, temp, temp)
	run("c-outcome-temp-3", store.Policy{MaxAttempts: 3}, false, temp, temp, temp)
	run("c-outcome-temp-then-sent", store.Policy{MaxAttempts: 3}, false, temp, store.KindSent)
	run("c-outcome-temp-cancelled", store.Policy{MaxAttempts: 3}, true, temp)
}
