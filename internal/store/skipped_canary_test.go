package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestCanaryRowsSkippedAsDeliveredHideNoRetry: a re-staging that keeps a
// canary row skipped as already delivered counts it skipped but not
// attempted (Stager.count), so "attempted less every outcome" with skipped
// among the outcomes let that row cancel out a canary recipient waiting
// for a retry: the tick awaited approval and approve was accepted with bob
// undelivered (found in review of edc31f0).
func TestCanaryRowsSkippedAsDeliveredHideNoRetry(t *testing.T) {
	st := store.New(startRedis(t))
	ctx := context.Background()
	c := "c-skipped-canary"
	cfg := store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "alice", ChunkSize: 7, Canary: true}
	sg, err := st.NewStager(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"bob", "carl"} {
		if err := sg.Add(ctx, store.Recipient{Line: i + 2, ID: id, Email: id + "@x.example", Lang: "de"}, 0, true); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []string{"dave", "eve"} {
		if err := sg.Add(ctx, store.Recipient{Line: i + 4, ID: id, Email: id + "@x.example", Lang: "de"}, 1, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := sg.Reject(ctx, store.Reject{Line: 6, ID: "ada", Email: "ada@x.example", Outcome: store.OutcomeSkipped, Code: "already-delivered", Field: "email", Reason: "sent"}); err != nil {
		t.Fatal(err)
	}
	if _, err := sg.Finish(ctx, true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pause(ctx, c, who, "x"); err != nil {
		t.Fatal(err)
	}
	cfg.ResumeExisting = true
	sg, err = st.NewStager(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"ada", "bob", "carl"} {
		if err := sg.Add(ctx, store.Recipient{Line: i + 2, ID: id, Email: id + "@x.example", Lang: "de"}, 0, true); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []string{"dave", "eve"} {
		if err := sg.Add(ctx, store.Recipient{Line: i + 5, ID: id, Email: id + "@x.example", Lang: "de"}, 1, false); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := sg.Finish(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Resume(ctx, c, who, ""); err != nil {
		t.Fatal(err)
	}
	p := store.TickParams{ApproveAfterCanary: true}
	t.Logf("release: %+v", tick(t, st, c, sum, p))
	l := st.Ledger(c, sum.Stage)
	pol := store.Policy{MaxAttempts: 3}
	for _, r := range canaryOf(t, st, c) {
		switch r.ID {
		case "bob":
			attempt(t, l, r, store.KindTemp, pol, time.Now())
		case "carl":
			attempt(t, l, r, store.KindSent, pol, time.Now())
		}
	}
	endCanary(t, st, c, sum)
	r := tick(t, st, c, sum, p)
	t.Logf("tick after the canary's first pass, bob deferred: %+v", r)
	if r.Code == store.TickAwaiting {
		t.Errorf("awaiting approval while bob (canary) waits for a retry")
	}
	if _, err := st.Pause(ctx, c, who, "x"); err != nil {
		t.Logf("pause: %v", err)
	}
	_, err = st.Approve(ctx, c, "", false, who, "ok")
	t.Logf("approve: %v", err)
	if err == nil {
		t.Errorf("approve accepted while bob (canary) waits for a retry")
	}
}
