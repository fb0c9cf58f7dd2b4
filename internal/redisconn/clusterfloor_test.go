package redisconn_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestClusterFloorOfAMasterSilentAtStart: masters of unequal replicas (a
// replica of m0 moved to m1 with CLUSTER REPLICATE: m0 1, m1 3, m2 2), m1
// stopped (SIGSTOP; cluster-node-timeout long, no failover) before anything
// judged it. A claim on m1 waits for the 3 replicas the cluster's slot map
// lists for it (ClusterMap, read from a master that answers), not for the
// most a judged master waits for (2: its claims in the second before it
// is judged could be acknowledged by 2 replicas of 3, and a failover then
// promote the third, lacking them). The judged masters wait for their own.
func TestClusterFloorOfAMasterSilentAtStart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: 2, NodeTimeout: 10 * time.Minute})
	masters, err := cl.Masters(ctx)
	if err != nil || len(masters) != 3 {
		t.Fatalf("masters: %v %v", masters, err)
	}
	m0, m1, m2 := masters[0], masters[1], masters[2]
	info, err := m0.Info(ctx, "replication")
	if err != nil {
		t.Fatal(err)
	}
	reps := redisconn.ReplicaAddrs(info)
	if len(reps) != 2 {
		t.Fatalf("replicas of %s: %v", m0.Addr(), reps)
	}
	id1, err := m1.Client().ClusterMyID(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Node(reps[0]).Client().ClusterReplicate(ctx, id1).Err(); err != nil {
		t.Fatalf("move replica %s to %s: %v", reps[0], m1.Addr(), err)
	}
	connected := func(m *redistest.Node, n int) func() bool {
		return func() bool {
			info, err := m.Info(ctx, "replication")
			return err == nil && info["connected_slaves"] == fmt.Sprint(n)
		}
	}
	wait.For(t, time.Minute, m1.Addr()+" to have 3 replicas", connected(m1, 3))
	wait.For(t, time.Minute, m0.Addr()+" to have 1 replica", connected(m0, 1))
	// The slot map of the masters that answer lists m1's 3 (gossip).
	for _, m := range []*redistest.Node{m0, m2} {
		wait.For(t, time.Minute, m.Addr()+" to list 3 replicas of "+m1.Addr(), func() bool {
			sh, err := m.Client().ClusterShards(ctx).Result()
			return err == nil && redisconn.ListedIn(sh)[m1.Addr()] == 3
		})
	}
	resume := pauseNode(t, m1)
	defer resume()

	ms, listed, err := redisconn.ClusterMap(ctx, cl.ClusterClient())
	if got := redisconn.Silent(err); !slices.Equal(got, []string{m1.Addr()}) {
		t.Fatalf("ClusterMap with %s stopped: silent %v (%v), want only it", m1.Addr(), got, err)
	}
	var j redisconn.ClusterAcks
	js := j.Judge(ms)
	byAddr, others := j.Floors(js, listed, redisconn.Silent(err))
	for _, tt := range []struct {
		what string
		got  int
		want int
	}{
		{"m0 (judged, 1 replica)", byAddr[m0.Addr()], 1},
		{"m2 (judged, 2 replicas)", byAddr[m2.Addr()], 2},
		{"m1 (silent, never judged, 3 replicas listed)", byAddr[m1.Addr()], 3},
		{"a node not judged nor listed", others, 3},
	} {
		if tt.got != tt.want {
			t.Errorf("%s waits for %d, want %d (Floors: %v, others %d; listed %v)", tt.what, tt.got, tt.want, byAddr, others, listed)
		}
	}
}

// TestClusterAcksFloors: what a master not judged waits for (Floors),
// from the slot map the cluster lists (Listed), or Hold without it.
func TestClusterAcksFloors(t *testing.T) {
	t.Parallel()
	m := func(addr string, replicas int) redisconn.MasterReplicas {
		return redisconn.MasterReplicas{Addr: addr, ID: addr, Epoch: "1", Replicas: replicas}
	}
	h := redisconn.Hold
	for _, tt := range []struct {
		name   string
		ms     []redisconn.MasterReplicas
		listed redisconn.Listed
		silent []string
		want   string                     // ByAddr-like "map[addr:n ...] others"
		before []redisconn.MasterReplicas // judged in a pass before
	}{
		{"silent, judged before: ByAddr's, not the map's", []redisconn.MasterReplicas{m("a", 2)}, redisconn.Listed{"a": 2, "k": 3}, []string{"k"}, "map[a:2 k:2] 3", []redisconn.MasterReplicas{m("k", 1)}},
		{"no map, silent judged before: ByAddr's, no hold", []redisconn.MasterReplicas{m("a", 2)}, nil, []string{"k"}, fmt.Sprintf("map[a:2 k:2] %d", h), []redisconn.MasterReplicas{m("k", 1)}},
		{"all judged, listed agrees", []redisconn.MasterReplicas{m("a", 1), m("b", 2)}, redisconn.Listed{"a": 1, "b": 2}, nil, "map[a:1 b:2] 2", nil},
		{"silent with more replicas listed", []redisconn.MasterReplicas{m("a", 1), m("b", 2)}, redisconn.Listed{"a": 1, "b": 2, "c": 3, "c1": 3}, []string{"c"}, "map[a:1 b:2 c:3 c1:3] 3", nil},
		{"silent with fewer listed: the most judged", []redisconn.MasterReplicas{m("a", 1), m("b", 2)}, redisconn.Listed{"a": 1, "b": 2, "c": 0}, []string{"c"}, "map[a:1 b:2 c:2] 2", nil},
		{"a judged master is not raised by the map", []redisconn.MasterReplicas{m("a", 1)}, redisconn.Listed{"a": 2}, nil, "map[a:1] 2", nil},
		{"no map: silent holds", []redisconn.MasterReplicas{m("a", 1)}, nil, []string{"c"}, fmt.Sprintf("map[a:1 c:%d] %d", h, h), nil},
		{"no map, none silent: others hold", []redisconn.MasterReplicas{m("a", 1)}, nil, nil, fmt.Sprintf("map[a:1] %d", h), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var j redisconn.ClusterAcks
			j.Judge(tt.before)
			byAddr, others := j.Floors(j.Judge(tt.ms), tt.listed, tt.silent)
			if got := fmt.Sprint(byAddr, " ", others); got != tt.want {
				t.Errorf("Floors = %s, want %s", got, tt.want)
			}
		})
	}
}

// pauseNode stops node n (SIGSTOP) and returns what lets it go on (also
// when t ends, before the cluster is stopped); a second call does nothing.
func pauseNode(t *testing.T, n *redistest.Node) (resume func()) {
	t.Helper()
	if err := n.Pause(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	resume = func() { once.Do(func() { _ = n.Continue() }) }
	t.Cleanup(resume)
	return resume
}
