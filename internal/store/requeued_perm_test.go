package store_test

import (
	"context"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestRequeuedPermanentLeavesWithACancel: a cancel takes the re-queued permanent failures out of their count.
func TestRequeuedPermanentLeavesWithACancel(t *testing.T) {
	t.Parallel()
	// The permanent failures `retry --permanent` re-queued are counted
	// apart from the temporary failures waiting for their retry
	// (Status.RequeuedPermanent, and per batch); a cancel that cancels
	// them takes them out of that count as it takes them out of the
	// retries waiting (a claim does as well: cli's
	// TestRetryPermanentAfterTheRelayIsFixed).
	f, s := store.KindFailed, store.KindSent
	const c = "c-requeued-perm-cancelled"
	st, ctx := store.New(startRedis(t)), context.Background()
	retriedGate(t, st, c, f, s, f, f)
	check := func(when string, want int) {
		t.Helper()
		sts, err := st.Status(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if sts.RequeuedPermanent != int64(want) || sts.Batches[0].RequeuedPerm != want || sts.Retries != int64(want) {
			t.Errorf("%s: %d re-queued permanent failures (batch 0: %d) of %d retries waiting; want %d of %d",
				when, sts.RequeuedPermanent, sts.Batches[0].RequeuedPerm, sts.Retries, want, want)
		}
	}
	check("after retry --permanent", 3)
	if _, _, err := st.Cancel(ctx, c, who, "test"); err != nil {
		t.Fatal(err)
	}
	check("after the cancel", 0)
}
