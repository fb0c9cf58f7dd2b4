package redisconn

import (
	"cmp"
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/store"
)

// ClusterAcks is auto's judgement on Redis Cluster, per master: each claim
// waits for every replica of the master serving its campaign's slot (the
// master WAIT goes to), at least 1, judged with the rule auto follows on
// Sentinel: raised at once when that master gains a replica; lowered only
// when the master serving the slot is another node (another node id, or
// the same node promoted again: another config epoch and another
// replication id), whose replicas are all its own after the failover;
// never lowered for the same master (same node id, and the same config
// epoch or the same replication id: a resharding bumps the epoch of the
// master it moves a slot to, but only a promotion changes both) losing a
// replica, since it may be an old
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
	Addr, ID, Epoch, ReplID string
	// Acks is how many acknowledgements each claim on this master waits
	// for; Required the rule's number for its replicas now (every replica
	// connected, at least 1): below Acks while the master misses a
	// replica it had.
	Acks, Required int
	// Replicas are the replicas the master lists now; Missing those it
	// listed when judged before and no longer lists.
	Replicas, Missing []string
	// New says the master was judged afresh (a node first seen, or another
	// epoch and replication id: a failover went through); Changed that the judgement differs
	// from the last one (new, other replicas, another address).
	New, Changed bool
}

// Judge judges the masters ms (MasterReplicas with ID, Epoch, ReplID and
// ReplicaAddrs; sorted by address, as ClusterReplicas returns them) and
// returns their judgements, in the same order. A master without an ID is
// known by its address; one without a ReplID is the same master while its
// epoch is.
func (j *ClusterAcks) Judge(ms []MasterReplicas) []MasterAcks {
	if j.judged == nil {
		j.judged = map[string]MasterAcks{}
	}
	out := make([]MasterAcks, 0, len(ms))
	for _, m := range ms {
		reps := slices.Sorted(slices.Values(m.ReplicaAddrs))
		a := MasterAcks{Addr: m.Addr, ID: m.ID, Epoch: m.Epoch, ReplID: m.ReplID, Required: max(m.Replicas, 1), Replicas: reps}
		key := cmp.Or(m.ID, "addr "+m.Addr)
		prev, seen := j.judged[key]
		switch {
		case seen && (prev.Epoch == m.Epoch || m.ReplID != "" && prev.ReplID == m.ReplID): // the same master: never lower
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

// Floors returns what the store waits for on Cluster (store.SetMasterAcks):
// ByAddr(ms), and the number of a master not in it. A master never
// judged (silent since the worker started, or a node serving slots since
// the last pass) cannot be judged by the replicas it has, so the
// cluster's own slot map speaks for it (listed: ClusterMap's): every node
// of listed that ByAddr does not know waits for no fewer than the other
// nodes of its shard, nor than the most any master of ms waits for; a
// node not listed, for the most of all those. A master judged before
// keeps what ByAddr says (a silent one its judgement: Kept). Should the
// slot map not have been read (listed nil), the masters of silent never
// judged, and every node ByAddr does not know, wait for Hold: no claim on
// them goes through until they are judged, at the next pass they answer.
func (j *ClusterAcks) Floors(ms []MasterAcks, listed Listed, silent []string) (map[string]int, int) {
	byAddr, most := j.ByAddr(ms), Most(ms)
	if listed == nil {
		for _, addr := range silent {
			if _, judged := byAddr[addr]; !judged {
				byAddr[addr] = Hold
			}
		}
		return byAddr, Hold
	}
	others := most
	for addr, n := range listed {
		others = max(others, n)
		if _, judged := byAddr[addr]; !judged {
			byAddr[addr] = max(most, n)
		}
	}
	return byAddr, others
}

// Hold is what a claim waits for on a master Floors cannot tell the
// replicas of (store.Held): more acknowledgements than any cluster gives,
// so that the claim comes short and its message is not sent (README,
// "Guarantees"). Operators never see the number: Acks says it in words
// (HoldWords).
const Hold = store.Held

// HoldWords says, for an operator, what Hold means and what to do.
const HoldWords = "held: Redis < 7 does not list the replicas of a master not judged yet (no CLUSTER SHARDS, or the ACL refuses it), so sends to it wait until the worker judges it, at the first pass it answers (about a second); if they keep waiting, check that the workers reach that master, and upgrade Redis to 7 or allow CLUSTER SHARDS, so that the cluster's slot map speaks for it (README, \"Guarantees\")"

// Acks is a number of replica acknowledgements as a log line says it: the
// number, or HoldWords for Hold (65536 would mean nothing to an operator).
type Acks int

// LogValue is a's number, or HoldWords when it is Hold.
func (a Acks) LogValue() slog.Value {
	if a >= Hold {
		return slog.StringValue(HoldWords)
	}
	return slog.IntValue(int(a))
}

// Kept returns the last judgement of every master remembered at one of
// addrs (Silent's: masters that did not answer the latest pass), sorted by
// address (one a master: the one waiting for most, should two have been
// known there), Changed and New false: what their claims still wait for, kept
// in the metrics while they do not answer. A master never judged has none.
func (j *ClusterAcks) Kept(addrs []string) []MasterAcks {
	by := map[string]MasterAcks{}
	for _, a := range j.judged {
		if prev, ok := by[a.Addr]; slices.Contains(addrs, a.Addr) && (!ok || a.Acks > prev.Acks) {
			a.New, a.Changed = false, false
			by[a.Addr] = a
		}
	}
	out := slices.Collect(maps.Values(by))
	slices.SortFunc(out, func(a, b MasterAcks) int { return cmp.Compare(a.Addr, b.Addr) })
	return out
}

// judgeOnce judges auto on Cluster cc once (a command's store): each
// master's number by address, with the floor of every node the slot map
// lists (Floors), and the number of a node not listed (one promoted while
// the command runs; without a slot map, the most any master waits for:
// every master answered, or the command fails).
func judgeOnce(ctx context.Context, cc *redis.ClusterClient) (int, map[string]int, error) {
	ms, listed, err := ClusterMap(ctx, cc)
	if err != nil {
		return 0, nil, err
	}
	var j ClusterAcks
	js := j.Judge(ms)
	if listed == nil { // Redis before 7.0: every master judged, a node promoted meanwhile the most
		return Most(js), j.ByAddr(js), nil
	}
	byAddr, others := j.Floors(js, listed, nil)
	return others, byAddr, nil
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
