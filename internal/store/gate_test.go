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
	ctx := context.Background()
	sum := stage(t, st, c, stageOpts{n: n, size: n})
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
	code := map[store.Kind]string{store.KindTemp: "451", store.KindFailed: "550"}[kind]
	if _, err := l.Step(ctx, []store.Record{{ID: r.ID, Lang: r.Lang, Kind: kind, Code: code, Token: r.ID + now.String()}}, nil, pol, now); err != nil {
		t.Fatal(err)
	}
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
	if n, err := st.Retry(ctx, "c-gate-done", who, store.RetryScope{}); n != 2 || err != nil {
		t.Fatalf("retry: %d, %v; want 2 re-queued", n, err)
	}
	if r := tick(t, st, "c-gate-done", sum, p); r.Code != store.TickNoop {
		t.Fatalf("tick after the retry %+v, want nothing (no gate)", r)
	}
	if c, _ := st.Control(ctx, "c-gate-done"); c.State != store.StateRunning {
		t.Fatalf("state after the retry's tick: %s (%s), want running", c.State, c.Reason)
	}
	attempt(t, l, recs[0], store.KindSent, store.Policy{MaxAttempts: 2}, time.Now())
}
