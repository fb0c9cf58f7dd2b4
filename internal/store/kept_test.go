package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

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
