package worker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestMessagesTotalCountsTheClaimsOfADeadWorker: another worker claimed
// five recipients (in a window of six: one recorded sent) and died before it
// recorded them. This worker's claims of them find them held by a dead
// claim and record them in doubt (never sent again): it counts them in
// tidings_messages_total{outcome="in-doubt"}, by their language, once each,
// and its counters then sum to the ledger's counts. Before, the step
// answered them as skipped and no worker counted them (README, Metrics: a
// known gap), so the dashboard's outcome panel never showed them.
func TestMessagesTotalCountsTheClaimsOfADeadWorker(t *testing.T) {
	t.Parallel()
	const n, dead = 60, 5
	ctx := context.Background()
	e := newEnv(t, nil)
	e.stage(t, opts{name: "dead-claims", n: n, chunk: 10})
	l, recs := e.releaseFirst(t)
	p := store.Policy{MaxAttempts: 3}
	var cls []store.Claim
	for i, r := range recs[:dead+1] {
		cls = append(cls, store.Claim{ID: r.ID, Lang: r.Lang, Token: fmt.Sprint("dead-worker/", i)})
	}
	if res, err := l.Step(ctx, nil, cls, p, time.Now()); err != nil || len(res.Claims) != dead+1 {
		t.Fatalf("the dead worker's claims: %+v, %v", res, err)
	}
	if _, err := l.Step(ctx, []store.Record{{ID: cls[0].ID, Lang: cls[0].Lang, Kind: store.KindSent, Token: cls[0].Token}}, nil, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	byLang := map[string]float64{}
	for _, c := range cls[1:] {
		byLang[c.Lang]++
	}
	reg := prometheus.NewRegistry()
	e.startWorker(t, wopts{metrics: reg})
	e.waitState(t, 60*time.Second, store.StateDone)
	st, err := e.st.Status(ctx, e.name)
	if err != nil {
		t.Fatal(err)
	}
	if c := e.smtp.Count(); c != n-dead-1 {
		t.Errorf("the server received %d messages, want %d: none of the dead worker's claims again", c, n-dead-1)
	}
	got := messagesByOutcome(t, reg)
	if st.Counts[store.OutcomeInDoubt] != dead || got[store.OutcomeInDoubt] != dead {
		t.Errorf("%d in doubt in the ledger, %v in this worker's tidings_messages_total, want %d in both", st.Counts[store.OutcomeInDoubt], got[store.OutcomeInDoubt], dead)
	}
	if got[store.OutcomeSent] != n-dead-1 || st.Counts[store.OutcomeSent] != n-dead {
		t.Errorf("sent: %v counted by this worker, %d in the ledger; want %d and %d (one by the dead worker)", got[store.OutcomeSent], st.Counts[store.OutcomeSent], n-dead-1, n-dead)
	}
	inDoubt := messagesBy(t, func(labels map[string]string) string {
		if labels["outcome"] != store.OutcomeInDoubt {
			return ""
		}
		return labels["lang"]
	}, reg)
	if fmt.Sprint(inDoubt) != fmt.Sprint(byLang) {
		t.Errorf("in doubt by language: %v counted, want %v", inDoubt, byLang)
	}
}
