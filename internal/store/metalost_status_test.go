package store_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestStatusOfCampaignWhoseMetaRedisLost: Redis lost a running campaign's
// meta while its control, counts and audit log stayed. Before, its status
// failed ("read meta: ... not found"), as did every list that read it.
// Now the status says so in words, with its control, counts and total,
// and what to run (statusview: the state-loss recovery: do not resume,
// cancel, stage again excluding the journals' deliveries); a campaign of
// which Redis has no trace is still not found.
func TestStatusOfCampaignWhoseMetaRedisLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := startRedis(t)
	st := store.New(rdb)
	const c, n = "c-meta-lost", 6
	sum := stage(t, st, c, stageOpts{n: n, size: n})
	if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickReleased {
		t.Fatalf("first tick %+v", r)
	}
	sendAll(t, st.Ledger(c, sum.Stage), 0, 2)
	before, err := st.Status(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.Unlink(ctx, "tidings:{"+c+"}:meta").Err(); err != nil {
		t.Fatal(err)
	}
	s, err := st.Status(ctx, c)
	if err != nil {
		t.Fatalf("status of a campaign whose meta Redis lost: %v", err)
	}
	if !s.MetaLost || s.State != store.StateRunning || s.Counts[store.OutcomeSent] != 2 || s.Total != before.Total || len(s.Audit) == 0 {
		t.Errorf("status %+v; want meta lost, running, 2 sent of %d, its audit log", s, before.Total)
	}
	if next := statusview.Next(s); next != store.NextRecover {
		t.Errorf("next %v, want the state-loss recovery (%v)", next, store.NextRecover)
	}
	var out bytes.Buffer
	statusview.Write(&out, s, nextstep.FilesIn(t.TempDir()).HintOf(statusview.Next(s), s))
	for _, want := range []string{"Lost:     Redis lost this campaign's meta", "do not resume", "tidings cancel " + c + " --env test", "--exclude-delivered JOURNAL_DIR"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status does not say %q:\n%s", want, out.String())
		}
	}
	if _, err := st.Status(ctx, "c-never-staged"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("status of a campaign Redis has no trace of: %v, want not found", err)
	}
}
