package redisconn_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestDialFollowsAClusterMasterKilledForGood: the client Dial returns on
// Cluster names the promoted replica as the master of a slot whose master
// was killed for good, within seconds of the promotion. A dead master
// answers no MOVED, which would make go-redis read the slot map at once,
// and go-redis's own period for reading it again is 60 s: a worker dialled
// the dead master, and held its campaigns, that long
// (redisconn.ClusterStateReload).
func TestDialFollowsAClusterMasterKilledForGood(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{})
	vars := map[string]string{"TIDINGS_REDIS_CLUSTER_ADDRS": strings.Join(cl.Addrs(), ","), "TIDINGS_STATE_DIR": t.TempDir()}
	e, err := environment.Load(nil, "", "staging", func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	rdb, err := redisconn.Dial(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("Dial on Cluster returned a %T, want a *redis.ClusterClient", rdb)
	}
	const key = "tidings:{spring}:ledger"
	if err := cc.Set(ctx, key, "1", 0).Err(); err != nil { // the slot map is read
		t.Fatal(err)
	}
	old, promoted, err := cl.KillMasterOf(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	master := func() string {
		m, err := cc.MasterForKey(ctx, key)
		if err != nil {
			return err.Error()
		}
		return m.Options().Addr
	}
	wait.For(t, 10*time.Second, "the client to name "+promoted+" (promoted) as the master of "+key+", not "+old+" (killed)",
		func() bool { return master() == promoted }, func() string { return "it names " + master() })
}
