package worker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
)

// TestFailedStepKeepsItsOutcomes: when a ledger step fails for good (Redis
// unreachable past the retries), the outcomes it carried are kept for the
// campaign's next step and its claims are given back, so the messages sent
// end as sent, not in doubt, and the recipients claimed but not sent end
// pending. Before, a chunk task that ended on the failure dropped both.
func TestFailedStepKeepsItsOutcomes(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client()
	st := store.New(rdb)
	sum := stageTest(t, st, "bl", 3, 10, true)
	ids := []string{"r0", "r1", "r2"}
	w, err := New(Config{Redis: rdb, SMTP: send.Config{Host: "127.0.0.1", Port: 25}, Env: "test"})
	if err != nil {
		t.Fatal(err)
	}
	policy := store.Policy{MaxAttempts: 3}
	good := st.Ledger("bl", sum.Stage)
	claims := []store.Claim{{ID: "r0", Lang: "de", Token: "t0"}, {ID: "r1", Lang: "de", Token: "t1"}}
	if res, err := good.Step(ctx, nil, claims, policy, time.Now()); err != nil || res.Claims[0].Result != store.ClaimOK || res.Claims[1].Result != store.ClaimOK {
		t.Fatalf("claims: %+v %v", res, err)
	}

	// r0 and r1 were sent; Redis is unreachable when the chunk records r0
	// and claims r2 (the context ends the retries at once).
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	cs := &campaignState{name: "bl", stage: sum.Stage, ledger: store.New(down).Ledger("bl", sum.Stage), policy: policy}
	r := &run{w: w, cs: cs}
	r.recs = []store.Record{{ID: "r0", Lang: "de", Kind: store.KindSent, Code: "250", Response: "ok"}}
	dead, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.step(dead, []store.Claim{{ID: "r2", Lang: "de", Token: "t2"}}); err == nil {
		t.Fatal("a step on an unreachable Redis succeeded")
	}
	if len(r.recs) != 0 || len(w.backlog[cs]) != 2 {
		t.Fatalf("after the failed step: %d records on the chunk, %d kept; want 0 and 2 (r0's outcome, r2's claim given back)", len(r.recs), len(w.backlog[cs]))
	}

	// Redis is back. The worker's periodic flush records what was kept,
	// even for a campaign it no longer caches (cs is not in w.campaigns).
	cs.ledger = good
	w.flushBacklogs(ctx, false)
	if es, err := st.Entries(ctx, "bl", ids[:1]); err != nil || es[0].State != "sent" || len(w.backlog[cs]) != 0 {
		t.Fatalf("after the worker's flush: r0 %+v (%v), %d kept; want r0 sent, nothing kept", es, err, len(w.backlog[cs]))
	}
	if w.flushBacklogs(ctx, false); len(w.backlog) != 0 {
		t.Errorf("%d campaign states still noted as holding outcomes, want none", len(w.backlog))
	}
	w.keep(cs, []store.Record{{ID: "r0", Lang: "de", Kind: store.KindSent, Code: "250", Response: "ok"}}) // kept again: recording twice is harmless
	// Another chunk's next step records what was kept.
	r2 := &run{w: w, cs: cs}
	r2.recs = []store.Record{{ID: "r1", Lang: "de", Kind: store.KindSent, Code: "250", Response: "ok"}}
	if _, err := r2.step(ctx, nil); err != nil {
		t.Fatal(err)
	}
	es, err := st.Entries(ctx, "bl", ids)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(es[0].State, " ", es[1].State, " ", es[2].State)
	if got != "sent sent " || len(w.backlog[cs]) != 0 {
		t.Errorf("entries %q, %d kept; want r0 and r1 sent, r2 pending, nothing kept", got, len(w.backlog[cs]))
	}
}

// TestExitFlushRetriesOneCampaign: before the worker exits, outcomes kept
// during a Redis outage are flushed with the step's retries; when Redis is
// still away, only the first campaign's flush waits through them, and the
// others get one attempt each (each campaign's retries used to hold the
// exit in turn, past the shutdown timeout). Each failure is logged and what
// was kept stays kept (it is in the journal).
func TestExitFlushRetriesOneCampaign(t *testing.T) {
	t.Parallel()
	var logs syncbuf.Buffer
	w, down := loggedWorker(t, &logs)
	const campaigns = 3
	var css []*campaignState
	for i := range campaigns {
		name := fmt.Sprintf("c%d", i)
		cs := &campaignState{name: name, stage: "1", ledger: store.New(down).Ledger(name, "1"), policy: store.Policy{MaxAttempts: 3}}
		w.keep(cs, []store.Record{{ID: "r0", Lang: "de", Kind: store.KindSent, Code: "250", Response: "ok"}})
		css = append(css, cs)
	}
	w.flushBacklogs(context.Background(), true)
	out := logs.String()
	if n := strings.Count(out, "ledger step failed; trying again"); n != ackRetries-1 {
		t.Errorf("%d retries logged, want %d (one campaign's)\n%s", n, ackRetries-1, out)
	}
	if n := strings.Count(out, "outcomes not recorded in Redis before exit"); n != campaigns {
		t.Errorf("%d campaigns said not recorded, want %d\n%s", n, campaigns, out)
	}
	for _, cs := range css {
		if len(w.backlog[cs]) != 1 {
			t.Errorf("campaign %s keeps %d outcomes, want 1", cs.name, len(w.backlog[cs]))
		}
	}
}

// TestFlushHeldLogsOncePerOutage: the dispatch loop's attempt, every tick,
// to record the outcomes held through a Redis outage says so once per
// outage at WARN, not four times a second.
func TestFlushHeldLogsOncePerOutage(t *testing.T) {
	t.Parallel()
	var logs syncbuf.Buffer
	w, down := loggedWorker(t, &logs)
	cs := &campaignState{name: "c", stage: "1", ledger: store.New(down).Ledger("c", "1"), policy: store.Policy{MaxAttempts: 3}}
	w.keep(cs, []store.Record{{ID: "r0", Lang: "de", Kind: store.KindSent, Code: "250", Response: "ok"}})
	for range 5 {
		w.flushBacklogs(context.Background(), false)
	}
	if n := strings.Count(logs.String(), flushHeld); n != 1 {
		t.Errorf("%d lines say the outcomes are not recorded yet, want 1\n%s", n, logs.String())
	}
	if len(w.backlog[cs]) != 1 {
		t.Errorf("%d outcomes kept, want 1", len(w.backlog[cs]))
	}
}

// loggedWorker returns a worker logging to logs, and a client of a Redis
// that is down (nothing listens on its port).
func loggedWorker(t *testing.T, logs *syncbuf.Buffer) (*Worker, *redis.Client) {
	t.Helper()
	w, err := New(Config{Redis: redistest.Start(t).Client(), SMTP: send.Config{Host: "127.0.0.1", Port: 25}, Env: "test",
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	return w, down
}
