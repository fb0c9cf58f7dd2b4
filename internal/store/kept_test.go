package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestWhatADropKeepsIsSaid: a staging after one whose meta Redis lost
// was interrupted and cancelled (dropStaging). The cancel keeps the lost
// staging's ledger (a send of the campaign again must mail none of those
// it records as sent) and the audit log, with no TTL: they stay in Redis
// until that send. Before, nothing said so: the cancel said that what the
// staging left was removed, and every command after it (status, report,
// the controls) that the campaign was not found in Redis, while Redis
// kept its ledger for ever, which no command listed. Now the cancel says
// how many recipients' entries the ledger keeps, and so does a command
// naming the campaign. An ordinary first staging dropped keeps no ledger,
// and nothing of the kind is said of it.
func TestWhatADropKeepsIsSaid(t *testing.T) {
	t.Parallel()
	for _, afterLost := range []bool{true, false} {
		t.Run(fmt.Sprint("after-lost=", afterLost), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			rdb := startRedis(t)
			st := store.New(rdb)
			c := "c-kept"
			if afterLost {
				sum := stage(t, st, c, stageOpts{n: 6, size: 6})
				if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickReleased {
					t.Fatalf("first tick %+v", r)
				}
				sendAll(t, st.Ledger(c, sum.Stage), 0, 2)
				loseMeta(t, st, c, sum.Stage, true)
				if _, _, err := st.Cancel(ctx, c, who, "state loss"); err != nil {
					t.Fatal(err)
				}
			}
			stageAndDie(t, st, c)
			done, _, err := st.Cancel(ctx, c, who, "interrupted")
			if err != nil || !done.Dropped {
				t.Fatalf("cancel of the interrupted staging: %+v, %v; want it dropped", done, err)
			}
			var left []string
			iter := rdb.Scan(ctx, 0, "tidings:{"+c+"}:*", 100).Iterator()
			for iter.Next(ctx) {
				if ttl := rdb.PTTL(ctx, iter.Val()).Val(); ttl != -1 {
					t.Errorf("%s has a TTL (%v): the ledger and audit log kept must stay until a send of the campaign", iter.Val(), ttl)
				}
				left = append(left, strings.TrimPrefix(iter.Val(), "tidings:{"+c+"}:"))
			}
			slices.Sort(left)
			entries := rdb.HLen(ctx, "tidings:{"+c+"}:ledger").Val()
			want := []string{"audit"}
			if afterLost {
				want = []string{"audit", "ledger"}
				if entries < 2 {
					t.Fatalf("the ledger kept holds %d entries, want r0 and r1 (sent) at least", entries)
				}
			}
			if !slices.Equal(left, want) {
				t.Errorf("keys left after the drop: %v, want %v", left, want)
			}
			said := done.Say("")
			if done.KeptLedger != entries {
				t.Errorf("the cancel says it kept %d ledger entries, Redis keeps %d", done.KeptLedger, entries)
			}
			keeps := fmt.Sprintf("keeps the ledger of the staging whose meta Redis lost (%d recipients)", entries)
			if afterLost != strings.Contains(said, keeps) {
				t.Errorf("the cancel says %q; want it to say %q: %v", said, keeps, afterLost)
			}
			_, err = st.Status(ctx, c)
			var nf *store.NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("status after the drop: %v, want a *NotFoundError", err)
			}
			if nf.Ledger != entries {
				t.Errorf("not found, with %d ledger entries kept; Redis keeps %d", nf.Ledger, entries)
			}
			kept := fmt.Sprintf("Redis keeps its ledger (%d recipients)", entries)
			for _, msg := range []string{err.Error(), nextstep.NotFound(nf, "test")} {
				if afterLost != strings.Contains(msg, kept) {
					t.Errorf("%q: want it to say %q: %v", msg, kept, afterLost)
				}
			}
		})
	}
}

// TestFreeingAllButTheLedgerKeepsAtMostOnce: `tidings free` (Store.Free)
// frees what a finished campaign keeps in Redis ("What tidings keeps in
// Redis, and for how long"): it unlinks every key of the campaign but its
// ledger and audit log, and takes it out of tidings:campaigns. What is left is what a
// dropped staging after a lost one leaves, and a send of the campaign
// again (a plain first staging) keeps the ledger's outcomes: nobody it
// records as sent is claimed again, and they are counted sent.
func TestFreeingAllButTheLedgerKeepsAtMostOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := startRedis(t)
	st := store.New(rdb)
	c, n := "c-freed", 6
	sum := stage(t, st, c, stageOpts{n: n, size: n})
	if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickReleased {
		t.Fatalf("first tick %+v", r)
	}
	sendAll(t, st.Ledger(c, sum.Stage), 0, 3)
	if _, _, err := st.Cancel(ctx, c, who, "enough"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Free(ctx, c, "test", who); err != nil {
		t.Fatal(err)
	}
	entries := rdb.HLen(ctx, "tidings:{"+c+"}:ledger").Val()
	_, err := st.Status(ctx, c)
	if nf := (*store.NotFoundError)(nil); !errors.As(err, &nf) || nf.Ledger != entries || entries == 0 {
		t.Fatalf("status once freed: %v; want not found, its ledger (%d entries) said", err, entries)
	}
	again := stage(t, st, c, stageOpts{n: n, size: n})
	if r := tick(t, st, c, again, store.TickParams{}); r.Code != store.TickReleased {
		t.Fatalf("first tick of the send again %+v", r)
	}
	p := store.Policy{MaxAttempts: 3, Sender: "run2|w2"}
	for i := range n {
		res, err := st.Ledger(c, again.Stage).Step(ctx, nil, []store.Claim{{ID: fmt.Sprint("r", i), Lang: "de", Token: fmt.Sprintf("w2/%d", i)}}, p, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if ok := res.Claims[0].Result == store.ClaimOK; ok != (i >= 3) {
			t.Errorf("r%d claimed for sending: %v; want only those not sent before (r3 on)", i, ok)
		}
	}
	s, err := st.Status(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[store.OutcomeSent] != 3 {
		t.Errorf("sent when staged again: %d, want 3 (kept from the ledger); %v", s.Counts[store.OutcomeSent], s.Counts)
	}
}
