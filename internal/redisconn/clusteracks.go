package redisconn

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ClusterAcks is auto's judgement on Redis Cluster, per master: each claim
// waits for every replica of the master serving its campaign's slot (the
// master WAIT goes to), at least 1, judged with the rule auto follows on
// Sentinel: raised at once when that master gains a replica; lowered only
// when the master serving the slot is another node (another node id, or
// the same node promoted again: another config epoch), whose replicas are
// all its own after the failover; never lowered for the same master
// (same node id and config epoch) losing a replica, since it may be an old
// master cut off from the replica the cluster has just promoted, going on
// with the others. It remembers every master it judged, by node id, also
// once it serves no slot: a master cut off in a minority partition that
// comes back believing it still serves its slots is the same master, and
// keeps what it waited for. The zero value has judged nothing; it is not
// safe for concurrent use.
type ClusterAcks struct {
	judged map[string]MasterAcks // by node id (else address)
}

// MasterAcks is what ClusterAcks judged for one master.
type MasterAcks struct {
	Addr, ID, Epoch string
	// Acks is how many acknowledgements each claim on this master waits
	// for; Required the rule's number for its replicas now (every replica
	// connected, at least 1): below Acks while the master misses a
	// replica it had.
	Acks, Required int
	// Replicas are the replicas the master lists now; Missing those it
	// listed when judged before and no longer lists.
	Replicas, Missing []string
	// New says the master was judged afresh (a node first seen, or another
	// epoch: a failover went through); Changed that the judgement differs
	// from the last one (new, other replicas, another address).
	New, Changed bool
}

// Judge judges the masters ms (MasterReplicas with ID, Epoch and
// ReplicaAddrs; sorted by address, as ClusterReplicas returns them) and
// returns their judgements, in the same order. A master without an ID is
// known by its address.
func (j *ClusterAcks) Judge(ms []MasterReplicas) []MasterAcks {
	if j.judged == nil {
		j.judged = map[string]MasterAcks{}
	}
	out := make([]MasterAcks, 0, len(ms))
	for _, m := range ms {
		reps := slices.Sorted(slices.Values(m.ReplicaAddrs))
		a := MasterAcks{Addr: m.Addr, ID: m.ID, Epoch: m.Epoch, Required: max(m.Replicas, 1), Replicas: reps}
		key := cmp.Or(m.ID, "addr "+m.Addr)
		prev, seen := j.judged[key]
		switch {
		case seen && prev.Epoch == m.Epoch: // the same master: never lower
			a.Acks = max(prev.Acks, a.Required)
			if a.Acks > a.Required { // every replica listed before at this number, not listed now
				a.Missing = slices.DeleteFunc(slices.Concat(prev.Replicas, prev.Missing), func(r string) bool { return slices.Contains(reps, r) })
				a.Missing = slices.Compact(slices.Sorted(slices.Values(a.Missing)))
			}
			a.Changed = prev.Addr != m.Addr || !slices.Equal(prev.Replicas, reps)
		default:
			a.Acks, a.New, a.Changed = a.Required, true, true
		}
		j.judged[key] = a
		out = append(out, a)
	}
	return out
}

// ByAddr returns how many acknowledgements each master judged waits for,
// by its address: the masters of ms (Judge's latest answer) their own
// number; every other master remembered (a node that no longer serves
// slots, at its last address, should a client still write to it: an old
// master cut off, or a node promoted again before the next pass) its last
// number but no fewer than the most any master of ms waits for, as a
// master not judged yet (what it was judged when it last served slots may
// be fewer than the replicas it has now), and the most of theirs when two
// were known at one address.
func (j *ClusterAcks) ByAddr(ms []MasterAcks) map[string]int {
	out, most := make(map[string]int, len(j.judged)), Most(ms)
	for _, a := range j.judged {
		out[a.Addr] = max(out[a.Addr], a.Acks, most)
	}
	for _, a := range ms {
		out[a.Addr] = a.Acks
	}
	return out
}

// judgeOnce judges auto on Cluster cc once (a command's store): each
// master's number by address, and the most any waits for (a master not
// judged: one promoted while the command runs).
func judgeOnce(ctx context.Context, cc *redis.ClusterClient) (int, map[string]int, error) {
	ms, err := ClusterReplicas(ctx, cc)
	if err != nil {
		return 0, nil, err
	}
	var j ClusterAcks
	js := j.Judge(ms)
	return Most(js), j.ByAddr(js), nil
}

// Most is the most acknowledgements any master of ms waits for, at least
// 1: what a claim waits for on a master not judged yet.
func Most(ms []MasterAcks) int {
	n := 1
	for _, a := range ms {
		n = max(n, a.Acks)
	}
	return n
}

// Names lists addrs for a message ("a, b"), or "a replica" when none.
func Names(addrs []string) string {
	if len(addrs) == 0 {
		return "a replica"
	}
	return strings.Join(addrs, ", ")
}
