package redisconn_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/tidings-mail/tidings/internal/redisconn"
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
			// A slot map read from the old master, which kept a2.
			{ms: []redisconn.MasterReplicas{m("a", "A", "1", "a2")}, want: map[string]int{"a": 2, "a1": 1}, missing: map[string][]string{"a": {"a1"}}, most: 2},
		}},
		{"the same node promoted again: judged afresh", []step{
			{ms: []redisconn.MasterReplicas{m("a", "A", "1", "a1", "a2")}, want: map[string]int{"a": 2}, most: 2},
			{ms: []redisconn.MasterReplicas{m("a1", "A1", "4", "a")}, want: map[string]int{"a": 2, "a1": 1}, most: 1},
			{ms: []redisconn.MasterReplicas{m("a", "A", "5", "a1")}, want: map[string]int{"a": 1, "a1": 1}, most: 1},
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
