package redisconn_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestExplainASlotMove: the answers of a Redis Cluster moving a slot
// (TRYAGAIN while a command's keys are split between the two masters, ASK
// once they have all gone, on the node's own client that a WAIT needs)
// are a slot move (SlotMoving) and get advice: what is going on, and what
// to do when it lasts (a resharding stopped half-way, which redis-cli
// --cluster fix finishes). ASK had no advice, and TRYAGAIN's said only to
// try again in a moment, which a half-done resharding never ends. The
// errors come from a real Redis Cluster with a slot half-moved.
func TestExplainASlotMove(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: -1})
	cc := cl.ClusterClient()
	keys := []string{"{c}:a", "{c}:b"}
	for _, k := range keys {
		if err := cc.Set(ctx, k, "1", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	m, err := cl.StartMigration(ctx, "{c}")
	if err != nil {
		t.Fatal(err)
	}
	if k, err := m.Step(ctx, 1); err != nil || k != 1 {
		t.Fatalf("move one key: %d, %v", k, err)
	}
	tryAgain := m.Src.Client().MGet(ctx, keys...).Err()
	if k, err := m.Step(ctx, 1); err != nil || k != 1 {
		t.Fatalf("move the other key: %d, %v", k, err)
	}
	ask := m.Src.Client().MGet(ctx, keys...).Err()
	for _, tc := range []struct {
		name, prefix string
		err          error
	}{
		{"keys split", "TRYAGAIN", tryAgain},
		{"keys gone", "ASK ", ask},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil || !strings.HasPrefix(tc.err.Error(), tc.prefix) {
				t.Fatalf("MGET on %s: %v, want %s...", m.Src.Addr(), tc.err, tc.prefix)
			}
			if !redisconn.SlotMoving(tc.err) {
				t.Errorf("SlotMoving(%v) = false", tc.err)
			}
			var rp *redisconn.ReplyError
			if err := redisconn.Explain(tc.err); !errors.As(err, &rp) || rp.Settings ||
				!strings.Contains(rp.Advice, "moving the campaign's slot") || !strings.Contains(rp.Advice, "redis-cli --cluster fix") {
				t.Errorf("Explain(%v) = %v, want advice naming the slot move and redis-cli --cluster fix, not the settings", tc.err, err)
			}
		})
	}
}

// TestExplainMovedAfterAFailover: a MOVED answer (the slot is served by
// another node now: a failover promoted a replica, or a resharding moved
// the slot) is no move under way: the advice says so and to run the
// command again, which reads the new slot map. It said "a resharding ...
// try again once the move is over" to an on-call engineer pausing during
// a CLUSTER FAILOVER (e2e TestPauseInAClusterFailover/planned). The MOVED
// comes from a real Redis Cluster node that does not serve the key's slot.
func TestExplainMovedAfterAFailover(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: -1})
	owner, err := cl.MasterForSlotOf(ctx, "{c}")
	if err != nil {
		t.Fatal(err)
	}
	var moved error
	for _, n := range cl.Nodes() {
		if n.Addr() != owner.Addr() {
			moved = n.Client().Get(ctx, "{c}:a").Err()
			break
		}
	}
	if moved == nil || !strings.HasPrefix(moved.Error(), "MOVED ") {
		t.Fatalf("GET on a node that does not serve the slot: %v, want MOVED ...", moved)
	}
	var rp *redisconn.ReplyError
	if err := redisconn.Explain(moved); !errors.As(err, &rp) || rp.Settings ||
		!strings.Contains(rp.Advice, "failover") || !strings.Contains(rp.Advice, "run it again") || !strings.Contains(rp.Advice, "nothing was written") {
		t.Errorf("Explain(%v) = %v, want advice naming a failover, that nothing was written, and to run it again", moved, err)
	}
}
