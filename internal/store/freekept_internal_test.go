package store

import (
	"context"
	"testing"

	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestFreeScriptNeverUnlinksTheLedgerOrAuditLog: lua/free.lua refuses,
// before unlinking anything, a list of keys to unlink that holds the
// campaign's ledger or audit log (a defect of the Go side that lists them,
// which today leaves both out): the ledger is what keeps a send of the
// campaign again from mailing anyone twice. Against a real redis-server.
func TestFreeScriptNeverUnlinksTheLedgerOrAuditLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.Start(t).Client()
	k := keysFor("kept")
	for _, kept := range []string{k.ledger, k.audit} {
		t.Run(kept, func(t *testing.T) {
			if err := rdb.HSet(ctx, k.control, "state", string(StateDone)).Err(); err != nil {
				t.Fatal(err)
			}
			rdb.HSet(ctx, k.ledger, "r1", "sent|tok")
			rdb.RPush(ctx, k.audit, "{}")
			rdb.HSet(ctx, k.counts, "sent", 1)
			v, err := freeScript.Run(ctx, rdb, []string{k.control, k.staging, k.audit, k.ledger, k.counts, kept}, "{}").Slice()
			if err != nil {
				t.Fatal(err)
			}
			if len(v) != 2 || v[0] != "kept" || v[1] != kept {
				t.Fatalf("free.lua answered %v, want [kept %s]", v, kept)
			}
			for _, key := range []string{k.ledger, k.audit, k.counts} {
				if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 1 {
					t.Errorf("%s: exists %d (%v) after a refused free, want 1: nothing is unlinked", key, n, err)
				}
			}
		})
	}
}
