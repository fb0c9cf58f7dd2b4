package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestErrorsLeaveOutTheRepliesOfRecipientsSentSince: a relay refused 3
// recipients with 550; `retry --permanent` re-queued them; one was sent,
// one refused again, one waits. The status's errors are those that stand:
// the sent recipient's 550 is no longer listed (before, it was, and status
// counted it among the failures of a recipient since delivered); the one
// refused twice counts its two replies, the one waiting its one.
func TestErrorsLeaveOutTheRepliesOfRecipientsSentSince(t *testing.T) {
	t.Parallel()
	f, s := store.KindFailed, store.KindSent
	const c = "c-errors-resent"
	st, ctx := store.New(startRedis(t)), context.Background()
	_, l, recs := retriedGate(t, st, c, f, f, f)
	attempt(t, l, recs[0], s, retriedPol, time.Now())
	attempt(t, l, recs[1], f, retriedPol, time.Now())
	sts, err := st.Status(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(sts.Errors) != 1 || sts.Errors[0].Code != "550" || sts.Errors[0].Count != 3 {
		t.Fatalf("errors %+v; want one group, 550, of 3 replies (2 of the recipient refused again, 1 of the one waiting; none of the one sent)", sts.Errors)
	}
	if sts.Counts[store.OutcomeSent] != 8 || sts.Counts[store.OutcomeFailed] != 1 {
		t.Errorf("counts %v; want 8 sent (7 and the one re-sent), 1 failed", sts.Counts)
	}
}
