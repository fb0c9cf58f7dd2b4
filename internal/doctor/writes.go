package doctor

import (
	"fmt"
	"strconv"
	"strings"
)

// writes checks that no master of ms refuses writes because fewer
// replicas are connected to it than its min-replicas-to-write: Redis
// answers each write NOREPLICAS, so that the campaigns it holds (on a
// Cluster, those whose slot it serves) can be neither staged, sent nor
// paused. It fails naming each such master (host:port) and what to do:
// start or attach its replica, or lower its min-replicas-to-write (and
// redis.min_replica_acks with it). A replica's setting acts only once it
// is promoted: the at-most-once check judges it.
func writes(ms []node) Check {
	const name = "redis writes"
	var refused []string
	cluster := false
	for _, m := range ms {
		want, err := strconv.Atoi(m.config["min-replicas-to-write"])
		have, _ := strconv.Atoi(m.info["connected_slaves"])
		if m.replica || err != nil || want <= have {
			continue
		}
		cluster = cluster || m.cluster
		refused = append(refused, refusesWrites(m, want, have))
	}
	if len(refused) == 0 {
		return pass(name, "every master has the replicas its min-replicas-to-write wants connected")
	}
	holds := "no campaign can be staged, sent or paused until it takes writes again"
	if cluster {
		holds = "the campaigns whose slot such a master serves can be neither staged, sent nor paused until it takes writes again"
	}
	return fail(name, strings.Join(refused, "; ")+"; "+holds)
}

// refusesWrites says that master m, whose min-replicas-to-write is want,
// refuses writes with have replicas connected, and what to do, with the
// exact commands and settings.
func refusesWrites(m node, want, have int) string {
	addr := m.addr
	host, port, _ := strings.Cut(addr, ":")
	connected := fmt.Sprintf("only %d of the %d replicas its min-replicas-to-write wants is connected", have, want)
	if have == 0 {
		connected = fmt.Sprintf("no replica is connected, and its min-replicas-to-write wants %d", want)
	}
	attach := fmt.Sprintf("replicaof %s %s in the replica's redis.conf", host, port)
	if m.cluster {
		attach = fmt.Sprintf("a spare node attaches with redis-cli -h HOST -p PORT CLUSTER REPLICATE NODE-ID, this master's NODE-ID from redis-cli -h %s -p %s CLUSTER MYID", host, port)
	}
	return fmt.Sprintf("master %s refuses every write (NOREPLICAS): %s; start or attach its replica (%s; redis-cli -h %s -p %s INFO replication lists those connected), or lower min-replicas-to-write on it (redis-cli -h %s -p %s CONFIG SET min-replicas-to-write %d, and in its redis.conf), and with it redis.min_replica_acks if that is above the replicas connected (0 waits for none: a failover can then lose the last claims)",
		addr, connected, attach, host, port, host, port, have)
}
