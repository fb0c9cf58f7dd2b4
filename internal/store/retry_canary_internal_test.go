package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestRetryOfTheCanaryInterrupted: a retry re-queued canary recipients of
// a campaign awaiting approval and stopped before its move to running (a
// crash, Redis unreachable then; an approve landing in between is the
// same state): nothing claims them there. Approve is refused all the same
// (how many wait), and a retry run again, which re-queues nothing more,
// moves the campaign back to running its canary.
func TestRetryOfTheCanaryInterrupted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := New(redistest.Start(t).Client())
	a := Actor{Who: "alice", Env: "test"}
	c := "rc-canary"
	sg, err := s.NewStager(ctx, StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "t", Canary: true, ChunkSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range []int{0, 0, 1} { // two in the canary, one after it
		if err := sg.Add(ctx, Recipient{Line: 2 + i, ID: fmt.Sprint("r", i), Email: fmt.Sprintf("r%d@x.example", i), Locale: "de", Lang: "de"}, b, b == 0); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := sg.Finish(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	p := TickParams{Stage: sum.Stage, ApproveAfterCanary: true}
	if r, err := s.Tick(ctx, c, p, time.Now()); err != nil || r.Code != TickReleased {
		t.Fatalf("first tick: %+v, %v", r, err)
	}
	l, pol := s.Ledger(c, sum.Stage), Policy{MaxAttempts: 1}
	for i, kind := range []Kind{KindSent, KindFailed} {
		id, tok := fmt.Sprint("r", i), fmt.Sprint("tok", i)
		if _, err := l.Step(ctx, nil, []Claim{{ID: id, Lang: "de", Token: tok}}, pol, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Step(ctx, []Record{{ID: id, Lang: "de", Kind: kind, Code: "550 5.1.1", Token: tok}}, nil, pol, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	for ch := range 2 {
		if _, err := s.EndChunk(ctx, c, sum.Stage, 0, ch, true); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := s.Tick(ctx, c, p, time.Now()); err != nil || r.Code != TickAwaiting {
		t.Fatalf("tick after the canary: %+v, %v; want awaiting approval", r, err)
	}
	// The retry's sweep, without its move.
	if n, _, batch0, err := s.sweep(ctx, c, "retry", sum.Stage, RetryScope{Permanent: true}, nil); err != nil || n != 1 || batch0 != 1 {
		t.Fatalf("sweep: %d re-queued (%d of batch 0), %v; want r1", n, batch0, err)
	}
	_, err = s.Approve(ctx, c, "", false, a, "canary checked")
	if te := (*TransitionError)(nil); !errors.As(err, &te) || te.PausedFor != CanaryRunning || te.Waiting != 1 {
		t.Errorf("approve awaiting approval with a canary recipient re-queued: %v; want refused as %s, 1 waiting", err, CanaryRunning)
	}
	r, err := s.Requeue(ctx, c, a, RetryScope{Permanent: true})
	if err != nil || r.N != 0 || !r.Rerun || r.State != StateRunning {
		t.Errorf("retry again: %+v, %v; want nothing more re-queued, the campaign back to running its canary", r, err)
	}
}
