package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestNotFoundSaysTheFree: a campaign `tidings free` freed is not found,
// and its *NotFoundError carries the audit entry of the free (who, host,
// time) while Redis keeps its ledger and the free is the audit log's
// last entry, so that a host that did not run the free (its start record
// does not note it) says freed, not lost. Not once Redis lost the ledger,
// nor when an entry follows the free (the free no longer says what
// became of the campaign).
func TestNotFoundSaysTheFree(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		dropLedg  bool
		pushAfter bool
		wantFreed bool
	}{
		{name: "freed, its ledger kept", wantFreed: true},
		{name: "freed, then its ledger lost", dropLedg: true},
		{name: "an entry after the free", pushAfter: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			rdb := startRedis(t)
			st := store.New(rdb)
			c := "c-freedby"
			sum := stage(t, st, c, stageOpts{n: 4, size: 4})
			if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickReleased {
				t.Fatalf("first tick %+v", r)
			}
			sendAll(t, st.Ledger(c, sum.Stage), 0, 2)
			if _, _, err := st.Cancel(ctx, c, who, "enough"); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Free(ctx, c, "test", who); err != nil {
				t.Fatal(err)
			}
			if tc.dropLedg {
				rdb.Del(ctx, "tidings:{"+c+"}:ledger")
			}
			if tc.pushAfter {
				rdb.RPush(ctx, "tidings:{"+c+"}:audit", `{"at":"2026-12-07T09:00:00Z","who":"x","host":"h","env":"test","action":"stage"}`)
			}
			_, err := st.Status(ctx, c)
			var nf *store.NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("status of the freed campaign: %v, want a *NotFoundError", err)
			}
			if got := nf.Freed != nil; got != tc.wantFreed {
				t.Fatalf("NotFoundError.Freed = %+v (ledger %d), want freed %v", nf.Freed, nf.Ledger, tc.wantFreed)
			}
			if tc.wantFreed && (nf.Freed.Action != "free" || nf.Freed.Who != who.Who || nf.Freed.Host != who.Host || nf.Freed.At.IsZero() || nf.Ledger == 0) {
				t.Errorf("NotFoundError %+v, Freed %+v: want the free's entry by %+v, a time, the ledger kept", nf, nf.Freed, who)
			}
		})
	}
}
