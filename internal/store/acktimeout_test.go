package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestAckTimeoutLongerThanTheClientsReadTimeout: a WAIT for replica
// acknowledgements longer than the client's read timeout (go-redis's
// default is 5s; here 300ms, to keep the test short) ends in WAIT's answer,
// an *AckError for the worker's ledger step and for a control change, not
// in the client's "i/o timeout" (which the worker logs as Redis
// unreachable, and control commands print with nothing to do): red team
// 14c, replica_ack_timeout 5s.
func TestAckTimeoutLongerThanTheClientsReadTimeout(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	if r.Embedded {
		t.Skip("the embedded Redis has no WAIT; CI runs this on redis-server")
	}
	o := r.Options()
	rdb := redis.NewClient(&redis.Options{Addr: o.Addr, Password: o.Password, DB: o.DB, ReadTimeout: 300 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	plain := store.New(rdb)
	sum := stage(t, plain, "c-slowack", stageOpts{n: 3, size: 3})
	tick(t, plain, "c-slowack", sum, store.TickParams{})
	// No replica: nothing is acknowledged, after the whole timeout.
	st := store.NewWithConfig(rdb, store.Config{ReplicaAcks: 1, AckTimeout: time.Second})
	ctx := context.Background()
	var ae *store.AckError
	res, err := st.Ledger("c-slowack", sum.Stage).Step(ctx, nil, []store.Claim{{ID: "r0", Lang: "de", Token: "a"}}, store.Policy{}, time.Now())
	if !errors.As(err, &ae) || ae.Got != 0 || ae.Want != 1 || first(res).Result != store.ClaimOK {
		t.Errorf("step with a 1s WAIT on a client reading for 300ms: %+v %v, want an ack error with the claim made", res, err)
	}
	if _, err := st.Pause(ctx, "c-slowack", who, "x"); !errors.As(err, &ae) {
		t.Errorf("pause with a 1s WAIT on a client reading for 300ms: %v, want an ack error", err)
	}
	// The client keeps its own read timeout for everything else.
	if got := rdb.Options().ReadTimeout; got != 300*time.Millisecond {
		t.Errorf("the client's read timeout became %s", got)
	}
}
