package doctor

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// priority is the replica-priority of replica m: CONFIG GET's, else the
// one its INFO replication shows (when CONFIG is refused), else why
// neither could be read.
func (m node) priority() (int, error) {
	for _, v := range []string{m.config["replica-priority"], m.info["replica_priority"], m.info["slave_priority"]} {
		if n, err := strconv.Atoi(v); err == nil {
			return n, nil
		}
	}
	return 0, cmp.Or(m.infoErr, m.configErr, errors.New("neither CONFIG GET replica-priority nor INFO replication gave it"))
}

// neverPromoted reports whether m is a replica Sentinel never promotes
// (replica-priority 0): its settings never hold the ledger.
func (m node) neverPromoted() bool {
	n, err := m.priority()
	return m.replica && err == nil && n == 0
}

// promotion is what decides whether a claim acknowledged by replicas is
// on the replica a Sentinel failover promotes. Sentinel promotes, of the
// replicas it may (replica-priority above 0), one of the lowest priority,
// and of those the one with the largest replication offset. A replica that
// acknowledged a claim holds it, and so does every replica of a larger
// offset: when one replica of the best priority acknowledged it, the one
// promoted holds it. WAIT counts any replica's acknowledgement (of a
// replica never promoted, or of a worse priority, too), so only when the
// acknowledgements cannot all come from the others: see need.
type promotion struct {
	replicas int      // connected to the master (its INFO replication): each can acknowledge
	priority int      // the best (lowest non-zero) replica-priority; 0 when none may be promoted
	best     []string // the replicas of that priority, of which Sentinel promotes one
	others   []string // the rest, each with its priority
	never    int      // how many of the others have replica-priority 0
	unknown  []string // replicas whose priority could not be read, each with why
}

// promotionOf reads the promotion of Sentinel's master and replicas ms.
func promotionOf(ms []node) promotion {
	var p promotion
	prios := map[string]int{}
	var order []string
	for _, m := range ms {
		if !m.replica {
			continue
		}
		p.replicas++
		n, err := m.priority()
		if err != nil {
			p.unknown = append(p.unknown, fmt.Sprintf("%s (%v)", m.addr, err))
			continue
		}
		prios[m.addr] = n
		order = append(order, m.addr)
		if n > 0 && (p.priority == 0 || n < p.priority) {
			p.priority = n
		}
	}
	for _, addr := range order {
		if n := prios[addr]; n > 0 && n == p.priority {
			p.best = append(p.best, addr)
		} else {
			p.others = append(p.others, fmt.Sprintf("%s (replica-priority %d)", addr, n))
			if n == 0 {
				p.never++
			}
		}
	}
	return p
}

// need is the fewest acknowledgements that guarantee that the replica
// Sentinel promotes holds a claim, when the master alone fails: one more
// than the replicas outside the best priority, so that at least one comes
// from a replica of it.
func (p promotion) need() int { return p.replicas - len(p.best) + 1 }

// failoverCheck judges acks acknowledgements (auto: redis.min_replica_acks
// is auto) against p, or returns ok when they guarantee that the promoted
// replica holds every acknowledged claim, with why (for the passing
// message).
func (p promotion) failoverCheck(name string, acks int, auto bool) (c Check, why string, ok bool) {
	given := fmt.Sprintf("every claim is acknowledged by %d replica(s)", acks)
	if auto {
		given += " (redis.min_replica_acks auto, 1 on Sentinel)"
	}
	switch {
	case len(p.unknown) > 0:
		return warn(name, fmt.Sprintf("%s, but the replica-priority of %s could not be read, so whether the replica Sentinel promotes must hold an acknowledged claim is not known: check replica-priority on every replica (CONFIG GET replica-priority), or set redis.min_replica_acks to %d (every replica connected), which guarantees it whatever their priorities",
			given, strings.Join(p.unknown, ", "), p.replicas)), "", false
	case len(p.best) == 0:
		return warn(name, fmt.Sprintf("Sentinel may promote none of the %d replica(s) connected (each has replica-priority 0): no failover can take place, so their acknowledgements protect no claim and the master's own append-only file keeps them (a crash of its host can lose what it had not fsynced); give the replica(s) Sentinel should promote a replica-priority above 0 (the default is 100)",
			p.replicas)), "", false
	}
	promoted := fmt.Sprintf("%s (replica-priority %d)", p.best[0], p.priority)
	if len(p.best) > 1 {
		promoted = fmt.Sprintf("one of %s (replica-priority %d), the one with the largest replication offset", strings.Join(p.best, ", "), p.priority)
	}
	if acks < p.need() {
		alt := ""
		if p.never == 0 {
			alt = ", or give every replica the same replica-priority (then 1 is enough)"
		}
		return warn(name, fmt.Sprintf("%s before its message goes to SMTP, but a failover can lose claims: Sentinel promotes %s, and the acknowledgement(s) may all come from %s, which it does not promote; set redis.min_replica_acks to %d (the %d replica(s) connected, less the %d Sentinel would promote, plus one)%s",
			given, promoted, strings.Join(p.others, ", "), p.need(), p.replicas, len(p.best), alt)), "", false
	}
	return Check{}, fmt.Sprintf("Sentinel promotes %s, and any %d acknowledgement(s) of the %d replica(s) include one of those", promoted, acks, p.replicas), true
}
