package redisconn_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestClusterAcksFollowsEachMaster: auto on Cluster is judged per master,
// with Sentinel's rule. Each step below is one pass of the worker over the
// masters it reads (address, node id, config epoch, replicas); want is
// what each claim on each master waits for after it, by address. A master
// that gains a replica is raised at once; the same master (node id and
// epoch) losing one is never lowered, also when it comes back to the slot
// map after another master served its slots (an old master cut off in a
// minority partition, still believing it is the master); another node in
// its place (a failover: the promoted replica's replicas are all its own)
// or the same node with another epoch (promoted again) is judged afresh.
func TestClusterAcksFollowsEachMaster(t *testing.T) {
	t.Parallel()
	m := func(addr, id, epoch string, replicas ...string) redisconn.MasterReplicas {
		return redisconn.MasterReplicas{Addr: addr, ID: id, Epoch: epoch, Replicas: len(replicas), ReplicaAddrs: replicas}
	}
	repl := func(m redisconn.MasterReplicas, id string) redisconn.MasterReplicas { m.ReplID = id; return m }
	type step struct {
		ms      []redisconn.MasterReplicas
		want    map[string]int // Judge then ByAddr
		missing map[string][]string
		most    int
	}
	for _, tt := range []struct {
		name  string
		steps []step
	}{
		{"unequal masters: each its own", []step{
			{ms: []redisconn.MasterReplicas{m("a", "A", "1", "a1"), m("b", "B", "2", "b1", "b2"), m("c", "C", "3", "c1", "c2", "c3")},
				want: map[string]int{"a": 1, "b": 2, "c": 3}, most: 3},
		}},
		{"no replica: at least 1", []step{
			{ms: []redisconn.MasterReplicas{m("a", "A", "1")}, want: map[string]int{"a": 1}, most: 1},
		}},
		{"a replica joins: raised at once", []step{
			{ms: []redisconn.MasterReplicas{m("a", "A", "1", "a1")}, want: map[string]int{"a": 1}, most: 1},
			{ms: []redisconn.MasterReplicas{m("a", "A", "1", "a1", "a2")}, want: map[string]int{"a": 2}, most: 2},
		}},
		{"the same master loses a replica: never lowered", []step{
			{ms: []redisconn.MasterReplicas{m("a", "A", "1", "a1", "a2")}, want: map[string]int{"a": 2}, most: 2},
			{ms: []redisconn.MasterReplicas{m("a", "A", "1", "a1")}, want: map[string]int{"a": 2}, missing: map[string][]string{"a": {"a2"}}, most: 2},
			{ms: []redisconn.MasterReplicas{m("a", "A", "1")}, want: map[string]int{"a": 2}, missing: map[string][]string{"a": {"a1", "a2"}}, most: 2},
			{ms: []redisconn.MasterReplicas{m("a", "A", "1", "a2")}, want: map[string]int{"a": 2}, missing: map[string][]string{"a": {"a1"}}, most: 2},
			{ms: []redisconn.MasterReplicas{m("a", "A", "1", "a1", "a2")}, want: map[string]int{"a": 2}, most: 2},
		}},
		{"killed for good: the promoted replica is judged afresh", []step{
			{ms: []redisconn.MasterReplicas{m("a", "A", "1", "a1", "a2"), m("b", "B", "2", "b1", "b2")}, want: map[string]int{"a": 2, "b": 2}, most: 2},
			// a1 promoted (node A1, a new epoch), a2 now its replica.
			{ms: []redisconn.MasterReplicas{m("a1", "A1", "4", "a2"), m("b", "B", "2", "b1", "b2")}, want: map[string]int{"a": 2, "a1": 1, "b": 2}, most: 2},
		}},
		{"cut off: the old master back in the map keeps its number", []step{
			{ms: []redisconn.MasterReplicas{m("a", "A", "1", "a1", "a2")}, want: map[string]int{"a": 2}, most: 2},
			{ms: []redisconn.MasterReplicas{m("a1", "A1", "4")}, want: map[string]int{"a": 2, "a1": 1}, most: 1},
			// A slot map read from the old master, which kept a2; a1, not
			// in this pass, waits for no fewer than the most (2) until a
			// pass reads it again.
			{ms: []redisconn.MasterReplicas{m("a", "A", "1", "a2")}, want: map[string]int{"a": 2, "a1": 2}, missing: map[string][]string{"a": {"a1"}}, most: 2},
			{ms: []redisconn.MasterReplicas{m("a1", "A1", "4")}, want: map[string]int{"a": 2, "a1": 1}, most: 1},
		}},
		{"the same node promoted again: judged afresh", []step{
			{ms: []redisconn.MasterReplicas{m("a", "A", "1", "a1", "a2")}, want: map[string]int{"a": 2}, most: 2},
			{ms: []redisconn.MasterReplicas{m("a1", "A1", "4", "a")}, want: map[string]int{"a": 2, "a1": 1}, most: 1},
			{ms: []redisconn.MasterReplicas{m("a", "A", "5", "a1")}, want: map[string]int{"a": 1, "a1": 1}, most: 1},
		}},
		{"a resharding bumps the epoch, the replication id stays: the same master", []step{
			{ms: []redisconn.MasterReplicas{repl(m("a", "A", "1", "a1", "a2"), "R")}, want: map[string]int{"a": 2}, most: 2},
			{ms: []redisconn.MasterReplicas{repl(m("a", "A", "1", "a1"), "R")}, want: map[string]int{"a": 2}, missing: map[string][]string{"a": {"a2"}}, most: 2},
			{ms: []redisconn.MasterReplicas{repl(m("a", "A", "7", "a1"), "R")}, want: map[string]int{"a": 2}, missing: map[string][]string{"a": {"a2"}}, most: 2},
			// promoted again: another epoch and another replication id.
			{ms: []redisconn.MasterReplicas{repl(m("a", "A", "8", "a1"), "S")}, want: map[string]int{"a": 1}, most: 1},
		}},
		{"a master serving no slots now waits, if promoted again before the next pass, for no fewer than the most", []step{
			{ms: []redisconn.MasterReplicas{m("a", "A", "1", "a1")}, want: map[string]int{"a": 1}, most: 1},
			// a1 promoted; a back as its replica, and a replica x added.
			{ms: []redisconn.MasterReplicas{m("a1", "A1", "4", "a", "x")}, want: map[string]int{"a": 2, "a1": 2}, most: 2},
		}},
		{"two nodes remembered at one address: the most of theirs", []step{
			{ms: []redisconn.MasterReplicas{m("a", "A", "1", "a1", "a2"), m("b", "B", "2", "b1")}, want: map[string]int{"a": 2, "b": 1}, most: 2},
			// A gone for good; a fresh node N at a's address takes b's slots.
			{ms: []redisconn.MasterReplicas{m("a", "N", "5", "b1")}, want: map[string]int{"a": 1, "b": 1}, most: 1},
			// N failed over to b1: a's address serves nothing now.
			{ms: []redisconn.MasterReplicas{m("b1", "B1", "6")}, want: map[string]int{"a": 2, "b": 1, "b1": 1}, most: 1},
		}},
		{"no node id: the same address is the same master", []step{
			{ms: []redisconn.MasterReplicas{m("a", "", "", "a1", "a2")}, want: map[string]int{"a": 2}, most: 2},
			{ms: []redisconn.MasterReplicas{m("a", "", "", "a1")}, want: map[string]int{"a": 2}, missing: map[string][]string{"a": {"a2"}}, most: 2},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var j redisconn.ClusterAcks
			for i, s := range tt.steps {
				js := j.Judge(s.ms)
				if got := j.ByAddr(js); !maps.Equal(got, s.want) {
					t.Errorf("pass %d: acks by master %v, want %v", i+1, got, s.want)
				}
				if got := redisconn.Most(js); got != s.most {
					t.Errorf("pass %d: Most = %d, want %d", i+1, got, s.most)
				}
				for _, a := range js {
					if want := s.missing[a.Addr]; !slices.Equal(a.Missing, want) {
						t.Errorf("pass %d: master %s missing %q, want %q", i+1, a.Addr, a.Missing, want)
					}
					if a.Required != max(len(a.Replicas), 1) {
						t.Errorf("pass %d: master %s required %d with replicas %q", i+1, a.Addr, a.Required, a.Replicas)
					}
				}
			}
		})
	}
}

// TestOpenOnClusterWaitsForEachMastersReplicas: the store a command opens
// (pause, resume, cancel, send, ...) with min_replica_acks auto on Cluster
// waits on each master for that master's replicas, as a worker does: with
// a replica of masters[0] down (1 against 2), a pause of a campaign of its
// slots waits for 1, not for the 2 it could not give (on-call could not
// pause those campaigns after a master with two replicas died for good).
func TestOpenOnClusterWaitsForEachMastersReplicas(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: 2})
	masters, err := cl.Masters(ctx)
	if err != nil || len(masters) != 3 {
		t.Fatalf("masters: %v %v", masters, err)
	}
	info, err := masters[0].Client().Info(ctx, "replication").Result()
	if err != nil {
		t.Fatal(err)
	}
	cl.Node(redisconn.ReplicaAddrs(redisconn.ParseInfo(info))[0]).Kill()
	wait.For(t, 30*time.Second, "the master to lose a replica", func() bool { return connected(ctx, t, masters[0]) == 1 })
	vars := map[string]string{"TIDINGS_REDIS_CLUSTER_ADDRS": strings.Join(cl.Addrs(), ","), "TIDINGS_STATE_DIR": t.TempDir()}
	e, err := environment.Load(nil, "", "staging", func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	st, err := redisconn.Open(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Client().Close()
	want := map[string]int{masters[0].Addr(): 1, masters[1].Addr(): 2, masters[2].Addr(): 2}
	// Each master its own; every other node the slot map lists (a
	// replica, should it be promoted while the command runs) no fewer than
	// the most (ClusterAcks.Floors).
	got := st.MasterAcks()
	for addr, n := range got {
		if w, ok := want[addr]; ok && n != w || !ok && n < 2 {
			t.Errorf("Open on Cluster, auto: %s waits for %d, want %s (masters %v, got %v)", addr, n, map[bool]string{true: fmt.Sprint(w), false: "2 or more"}[ok], want, got)
		}
	}
	if len(got) != len(cl.Nodes()) {
		t.Errorf("Open on Cluster, auto: acks for %d nodes (%v), want every node the slot map lists, %d", len(got), got, len(cl.Nodes()))
	}
}

// TestClusterAcksKnowsAFailbackOnARealCluster: what ClusterAcks tells
// masters apart by, read from a real cluster. A planned failover (CLUSTER
// FAILOVER) puts another node id in the slot's place, judged afresh; the
// old master, failed back to, keeps its node id (nodes.conf) but serves
// with another config epoch, so it is judged afresh too (its replicas
// after the failback are all its own), not held as the same master; the
// masters not failed over stay the same master (same id and epoch, not
// new). Judge's rule rests on these: were the epoch kept across a
// failback, its campaigns would wait for a replica it lost forever; were
// the node id not read, every pass would judge every master afresh.
func TestClusterAcksKnowsAFailbackOnARealCluster(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: 2})
	cc := cl.ClusterClient()
	const key = "tidings:{failback}:ledger"
	// Each judgement reads the slot map anew (ClusterReplicas), after the
	// cluster has settled on every node (Failover, WaitSettled).
	judge := judging(t, cc)
	start := judge("at start")
	first, err := cl.MasterForSlotOf(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	old, promoted, err := cl.Failover(ctx, key)
	if err != nil || old != first.Addr() {
		t.Fatalf("failover of %s: %s -> %s, %v", first.Addr(), old, promoted, err)
	}
	// The old master serves the slot again: CLUSTER FAILOVER on it, now a replica.
	failback := func() {
		if err := cl.Node(old).Client().ClusterFailover(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		wait.For(t, 60*time.Second, "the failback to "+old, func() bool {
			n, err := cl.MasterForSlotOf(ctx, key)
			return err == nil && n.Addr() == old
		})
		if err := cl.WaitSettled(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name string
		do   func()
		// check compares the judgement of the slot's master (and the
		// others) with start's.
		master   string
		sameID   bool
		newEpoch bool
	}{
		{"a planned failover: another node, judged afresh", func() {}, promoted, false, true},
		{"failed back: the same node id, another epoch, judged afresh", failback, old, true, true},
	} {
		tt.do()
		now := judge(tt.name)
		a, ok := now[tt.master]
		if !ok {
			t.Fatalf("%s: master %s not judged: %v", tt.name, tt.master, now)
		}
		if got := a.ID == start[old].ID; got != tt.sameID {
			t.Errorf("%s: node id %s, at start %s: same %v, want %v", tt.name, a.ID, start[old].ID, got, tt.sameID)
		}
		if got := a.Epoch != start[old].Epoch; got != tt.newEpoch || !a.New || a.Acks != a.Required {
			t.Errorf("%s: epoch %s (at start %s), new %v, acks %d required %d; want another epoch, judged afresh (new, acks = required)",
				tt.name, a.Epoch, start[old].Epoch, a.New, a.Acks, a.Required)
		}
		for addr, b := range now {
			if s, ok := start[addr]; ok && addr != old && (b.New || b.ID != s.ID || b.Epoch != s.Epoch) {
				t.Errorf("%s: master %s not failed over judged %+v, at start %+v; want the same master", tt.name, addr, b, s)
			}
		}
	}
}

// judging returns what judges the masters of cc with one ClusterAcks, pass
// after pass (the slot map read anew each time), by address; a master read
// without its node id, epoch or replication id fails the test.
func judging(t *testing.T, cc *redis.ClusterClient) func(what string) map[string]redisconn.MasterAcks {
	var j redisconn.ClusterAcks
	return func(what string) map[string]redisconn.MasterAcks {
		t.Helper()
		ms, err := redisconn.ClusterReplicas(t.Context(), cc)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		out := map[string]redisconn.MasterAcks{}
		for _, a := range j.Judge(ms) {
			if a.ID == "" || a.Epoch == "" || a.ReplID == "" {
				t.Fatalf("%s: master %s read without node id, epoch or replication id: %+v", what, a.Addr, a)
			}
			out[a.Addr] = a
		}
		return out
	}
}
