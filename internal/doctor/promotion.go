package doctor

import (
	"cmp"
	"fmt"

	"github.com/tidings-mail/tidings/internal/redisconn"
)

// priority is the replica-priority of replica m: CONFIG GET's, else the
// one its INFO replication shows (when CONFIG is refused), else why
// neither could be read.
func (m node) priority() (int, error) {
	if n, ok := redisconn.Priority(m.config, m.info); ok {
		return n, nil
	}
	return 0, cmp.Or(m.infoErr, m.configErr, redisconn.ErrNoPriority)
}

// neverPromoted reports whether m is a replica Sentinel never promotes
// (replica-priority 0): its settings never hold the ledger. A Cluster
// replica is always promotable (CLUSTER FAILOVER run on it promotes it
// whatever its replica-priority).
func (m node) neverPromoted() bool {
	n, err := m.priority()
	return m.replica && !m.cluster && err == nil && n == 0
}

// promotionOf reads the promotion of Sentinel's master and replicas ms.
func promotionOf(ms []node) redisconn.Promotion {
	var rs []redisconn.Replica
	for _, m := range ms {
		if m.replica {
			n, err := m.priority()
			rs = append(rs, redisconn.Replica{Addr: m.addr, Priority: n, Err: err})
		}
	}
	return redisconn.PromotionOf(rs)
}

// failoverCheck judges acks acknowledgements (auto: redis.min_replica_acks
// is auto) against p, or returns ok when they guarantee that the promoted
// replica holds every acknowledged claim, with why (for the passing
// message).
func failoverCheck(p redisconn.Promotion, name string, acks int, auto bool) (c Check, why string, ok bool) {
	given := fmt.Sprintf("every claim is acknowledged by %d replica(s)", acks)
	if auto {
		given += " (redis.min_replica_acks auto: on Sentinel, every replica connected)"
	}
	switch short := p.Shortfall(acks); {
	case len(p.Best) == 0 && len(p.Unknown) == 0:
		return warn(name, fmt.Sprintf("Sentinel may promote none of the %d replica(s) connected (each has replica-priority 0): no failover can take place, so their acknowledgements protect no claim and the master's own append-only file keeps them (a crash of its host can lose what it had not fsynced); give the replica(s) Sentinel should promote a replica-priority above 0 (the default is 100)",
			p.Replicas)), "", false
	case len(p.Unknown) > 0 && short != "":
		return warn(name, given+", but "+short), "", false
	case short != "":
		return warn(name, given+" before its message goes to SMTP, but "+short), "", false
	}
	if len(p.Unknown) > 0 {
		return Check{}, fmt.Sprintf("every one of the %d replica(s) acknowledges each claim, so the one Sentinel promotes holds it whatever their replica-priorities", p.Replicas), true
	}
	return Check{}, fmt.Sprintf("Sentinel promotes %s, and each of the %d replica(s) connected acknowledges every claim, so neither a crashed master nor an old master left running with the others can let a claim through that the promoted replica lacks", p.Promoted(), p.Replicas), true
}
