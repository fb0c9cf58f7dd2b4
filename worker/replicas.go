package worker

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redisconn"
)

// replicaAcks returns how many replica acknowledgements each claim waits
// for: Config.ReplicaAcks, or auto resolved (redisconn.ReplicaAcks). On
// Sentinel it reads the replicas and their replica-priorities
// (redisconn.ReadPromotion) and judges the number against them
// (judgeAcks), auto waiting for no fewer than the replicas the Sentinels
// list (sentinelListed); on Cluster, clusterAcks, which also returns each
// master's number.
func (w *Worker) replicaAcks(ctx context.Context) (int, map[string]int, error) {
	if cc, ok := w.cfg.Redis.(*redis.ClusterClient); ok {
		return w.clusterAcks(ctx, cc)
	}
	c, ok := w.cfg.Redis.(*redis.Client)
	if !ok || !redisconn.IsSentinel(c) {
		n, err := redisconn.ReplicaAcks(ctx, w.cfg.Redis, w.cfg.ReplicaAcks)
		return n, nil, err
	}
	p, err := redisconn.ReadPromotion(ctx, c)
	if err != nil {
		return 0, nil, err
	}
	w.replicas, w.acksMaster = strings.Join(p.Addrs, " "), p.Master
	return w.judgeAcks(p, 0, w.sentinelListed(ctx), ""), nil, nil
}

// sentinelListed is, with auto, how many replicas the Sentinels list
// (Config.SentinelListed, whose addresses it keeps in w.listed when they
// answer; 0 without it, with a configured number, or none answering): a
// worker that starts, or judges again, in a planned failover's gap
// reaches the old master, whose INFO no longer lists the replica Sentinel
// has promoted; the claims the others acknowledge there are lost when they
// resynchronise from it (README, "Guarantees").
func (w *Worker) sentinelListed(ctx context.Context) int {
	if w.cfg.ReplicaAcks != AutoReplicaAcks || w.cfg.SentinelListed == nil {
		return 0
	}
	listed := w.cfg.SentinelListed(ctx)
	if len(listed) > 0 {
		w.listed = listed
	}
	return len(listed)
}

// unlisted names the replicas the Sentinels listed last (w.listed) that
// the master's INFO (p) does not: the one a hold waits for when auto's
// number comes from the Sentinels' list (at start, or judged on a new
// master), where no replica of the master's own is missing. It is "a
// replica" when no Sentinel ever answered (or Config.SentinelListed is
// nil) or they list none the master does not: the master's INFO names only
// the replicas connected now, so a replica it lost before this worker
// first read it (or whose address was dropped by a judgement since: the
// warning of that judgement named it) cannot be named from Redis.
func (w *Worker) unlisted(p redisconn.Promotion) string {
	gone := slices.DeleteFunc(slices.Clone(w.listed), func(a string) bool { return slices.Contains(p.Addrs, a) })
	if len(gone) == 0 {
		return "a replica"
	}
	return strings.Join(gone, ", ")
}

// startedAcks is what the "worker started" line says of the replica
// acknowledgements (acks and masters: replicaAcks's): the number; on
// Cluster with auto (masters), that each master has its own (logged for
// each), and what a master not judged yet waits for, in words when it is
// held (redisconn.Acks).
func startedAcks(acks int, masters map[string]int) []any {
	if masters == nil {
		return []any{"replica_acks", acks}
	}
	return []any{"replica_acks", "per master (each logged as judged)", "not_judged", redisconn.Acks(acks)}
}

// watchReplicas judges the replica acknowledgements again, and changes
// what the store waits for, when the Sentinel master's INFO (info: server
// and replication) lists other replicas than those last judged, or comes
// from another server process, or, while the replicas the Sentinels list
// raise auto above the master's (sentinelListed), when the Sentinels list
// another number (one of them seen down, or the new master named; none
// answering keeps it). auto is raised at once when a replica
// joins, but lowered only when the master itself changed (its run_id: a
// failover went through, and the new master's replicas are all its own):
// the same master losing a replica may be an old master whose replica
// Sentinel has just promoted, going on with the others, whose
// acknowledgements of claims the promoted replica never gets must not be
// enough (README, "Guarantees"); a replica down for maintenance holds the
// sending the same way until it is back. A change of replica-priority
// alone is seen with the next change of replicas, or at the next start.
func (w *Worker) watchReplicas(ctx context.Context, info map[string]string) {
	c, ok := w.cfg.Redis.(*redis.Client)
	if !ok || !redisconn.IsSentinel(c) || info["role"] != "master" {
		return
	}
	same := strings.Join(redisconn.ReplicaAddrs(info), " ") == w.replicas && info["run_id"] == w.acksMaster
	if same && w.listedFloor == 0 {
		return
	}
	listed := w.sentinelListed(ctx)
	if same && (listed == 0 || listed == w.listedFloor) {
		return
	}
	p, err := redisconn.ReadPromotion(ctx, c)
	if err != nil {
		return // judged again on the next pass
	}
	hold, missing := 0, ""
	if p.Master == w.acksMaster { // the same master: never lower
		hold = w.infoAcks
		if listed == 0 { // no Sentinel answered: keep what they listed
			listed = w.listedFloor
		}
		missing = strings.Join(slices.DeleteFunc(strings.Fields(w.replicas), func(a string) bool { return slices.Contains(p.Addrs, a) }), ", ")
	}
	w.replicas, w.acksMaster = strings.Join(p.Addrs, " "), p.Master
	w.st.SetReplicaAcks(w.judgeAcks(p, hold, listed, missing))
}

// judgeAcks returns how many acknowledgements each claim waits for with
// the replicas of p: a configured number, or auto's (p.Auto), but no fewer
// than hold (what auto waits for on the same master; missing names the
// replicas it no longer lists). It says so at INFO with the replicas and
// priorities it saw, or at WARN when a failover can lose an acknowledged
// claim (a configured number below the rule, which doctor checks too; the
// worker sends on: the operator chose it), when a replica-priority could
// not be read, or when auto holds a number the master's replicas cannot
// give (sending holds until the missing replica is back); and it exports
// the rule's number (tidings_replica_acks_required). With auto, it
// keeps what the master's replicas alone ask (w.infoAcks: hold's next
// value) apart from what the replicas the Sentinels list (listed) add
// (w.listedFloor, 0 when they add nothing), which is lowered when the
// Sentinels list fewer.
func (w *Worker) judgeAcks(p redisconn.Promotion, hold, listed int, missing string) int {
	acks := w.cfg.ReplicaAcks
	auto := acks == AutoReplicaAcks
	if auto {
		w.infoAcks = max(p.Auto(), hold)
		w.listedFloor = 0
		if listed > w.infoAcks {
			w.listedFloor = listed
		}
		acks = max(w.infoAcks, listed)
		hold = acks
	}
	w.m.required.Store(int64(p.Required()))
	attrs := []any{"replica_acks", acks, "required", p.Required(), "replicas", p.Replicas,
		"promoted", p.Best, "priority", p.Priority, "others", p.Others, "unknown", p.Unknown}
	switch short := p.Shortfall(acks); {
	case short != "":
		w.log.Warn(fmt.Sprintf("redis.min_replica_acks is %d: %s", acks, short), attrs...)
	case auto && hold > p.Auto():
		w.log.Warn(fmt.Sprintf("still waiting for %d replica acknowledgement(s), but the master lists %d replica(s) (%s no longer): sending holds until it returns, since the same master losing a replica may be an old master whose replica Sentinel has just promoted, going on with the others; bring the replica back, or, if it is down for good and no failover is under way, restart the workers to judge the replicas again, or set redis.min_replica_acks to a number knowingly (README, \"Guarantees\")",
			acks, p.Replicas, cmp.Or(missing, w.unlisted(p))), attrs...)
	case len(p.Unknown) > 0 && auto:
		w.log.Warn(fmt.Sprintf("waiting for %d replica acknowledgement(s), every replica connected: the replica-priority of %s could not be read; check that this worker can reach the replicas as it reaches the master", acks, strings.Join(p.Unknown, ", ")), attrs...)
	default:
		w.log.Info("replica acknowledgements for a Sentinel failover", attrs...)
	}
	return acks
}

// clusterAcks returns how many acknowledgements each claim waits for on
// Cluster, and the number of each master by address (nil with a
// configured number: the store waits for that number everywhere). auto
// is judged per master (redisconn.ClusterAcks, said by sayCluster) and judged
// again every redisconn.ClusterStateReload (watchCluster); the number
// returned is what a claim waits for on a node not judged yet nor in the
// slot map (ClusterAcks.Floors). A configured number is kept, said at INFO with
// every master's replicas, or at WARN naming the masters with more
// replicas than that (a partition can lose an acknowledged claim; doctor
// checks it too) or fewer (their campaigns hold).
func (w *Worker) clusterAcks(ctx context.Context, cc *redis.ClusterClient) (int, map[string]int, error) {
	ms, listed, err := w.readMasters(ctx, cc)
	if len(ms) == 0 && err != nil {
		return 0, nil, err // no master answers: the cluster is down
	}
	// With no master listed (slots not assigned yet), a configured number
	// stays, and auto holds every claim until a master is judged
	// (Floors): never 0, which would wait for no replica.
	silent := redisconn.Silent(err)
	js := w.judge(ms, silent)
	acks := w.cfg.ReplicaAcks
	if acks == AutoReplicaAcks {
		w.sayCluster(js)
		byAddr, others := w.judged.Floors(js, listed, silent)
		return others, byAddr, nil
	}
	var all []string
	for _, m := range ms {
		all = append(all, fmt.Sprintf("%s=%d", m.Addr, m.Replicas))
	}
	attrs := []any{"replica_acks", acks, "masters", strings.Join(all, " ")}
	switch fewer, more := redisconn.Fewer(ms, acks), redisconn.More(ms, acks); {
	case len(more) > 0:
		w.log.Warn(fmt.Sprintf("redis.min_replica_acks is %d, but master(s) %s have more replicas: a partition or CLUSTER FAILOVER TAKEOVER can promote a replica that never got a claim the others acknowledged, and its recipient could be sent twice; set redis.min_replica_acks to auto (every replica of the master serving the campaign's slot) (README, \"Guarantees\")",
			acks, strings.Join(more, ", ")), attrs...)
	case len(fewer) > 0:
		w.log.Warn(fmt.Sprintf("waiting for %d replica acknowledgement(s) on every master, but master(s) %s have fewer: the campaigns whose slot they serve hold until they have %d replicas connected; give every master as many replicas, or set redis.min_replica_acks to auto (every replica of the master serving the campaign's slot) (README, \"Guarantees\")",
			acks, strings.Join(fewer, ", "), acks), attrs...)
	default:
		w.log.Info("replica acknowledgements for a Cluster failover", attrs...)
	}
	return acks, nil, nil
}

// watchCluster judges the replica acknowledgements of every Cluster
// master again (the slot map read anew: a master that failed over is
// another node), and, with auto, changes what the store waits for on each
// (redisconn.ClusterAcks: raised at once when a master gains a replica,
// lowered only when the master serving the slots is another node or was
// promoted again). A master that does not answer keeps what it was judged
// (logged at WARN when which masters do not answer changes); the others
// are judged all the same: one master down until its failover, or a shard
// lost for good, used to stop the judging of every master, and a replica
// promoted elsewhere meanwhile waited for the most any master waited for.
func (w *Worker) watchCluster(ctx context.Context, cc *redis.ClusterClient) {
	ms, listed, err := w.readMasters(ctx, cc)
	if len(ms) == 0 {
		return // judged again on the next pass
	}
	silent := redisconn.Silent(err)
	js := w.judge(ms, silent)
	if w.cfg.ReplicaAcks != AutoReplicaAcks {
		return // tidings_replica_acks_required only: the number is the operator's
	}
	w.st.SetMasterAcks(w.judged.Floors(js, listed, silent)) // one judgement, stored at once
	w.sayCluster(js)
}

// readMasters reads the replicas of every Cluster master that answers
// (redisconn.ClusterReplicas), and warns, when which masters do not answer
// changes, naming them: the others are judged all the same, at start as
// every second after (a master down until its failover, or a shard lost
// for good, must not keep a worker from starting, nor stop the campaigns
// of the healthy shards). It returns the cluster's slot map too
// (redisconn.ClusterMap): a master never judged waits for no fewer than
// the replicas the slot map lists for it, nor than the most any master
// judged waits for, or, with no slot map read, holds its claims until it
// is judged (ClusterAcks.Floors); a campaign of its slots cannot be
// claimed while it does not answer, and it is judged at the first pass it
// answers, or the replica promoted in its place is. The error is
// ClusterMap's.
func (w *Worker) readMasters(ctx context.Context, cc *redis.ClusterClient) ([]redisconn.MasterReplicas, redisconn.Listed, error) {
	ms, listed, err := redisconn.ClusterMap(ctx, cc)
	if unread := fmt.Sprint(err); err == nil {
		w.unread = ""
	} else if unread != w.unread && len(ms) > 0 {
		w.unread = unread
		until := "waits for no fewer than the replicas the cluster lists for it"
		if listed == nil {
			until = "its sends are " + redisconn.HoldWords
		}
		w.log.Warn("could not read the replicas of every Cluster master: the others are judged, and the campaigns whose slot a master that does not answer serves wait until it answers, or the cluster promotes its replica (each is judged then, and until then "+until+"); check that this worker reaches every master, and that the master named is up or failing over (README, \"Guarantees\")", "err", err)
	}
	return ms, listed, err
}

// judge judges the masters ms that answered (silent: the addresses of
// those that did not, redisconn.Silent) and returns their judgements; the
// metrics export them with the last judgement of each master that did not
// answer (what its claims still wait for: its series must not vanish from
// the alert and the dashboards while it is silent; ClusterAcks.Kept).
func (w *Worker) judge(ms []redisconn.MasterReplicas, silent []string) []redisconn.MasterAcks {
	js := w.judged.Judge(ms)
	all := slices.Concat(js, w.judged.Kept(silent))
	w.m.cluster.Store(&all)
	return js
}

// sayCluster logs auto's judgement of each master of js that changed: at
// INFO what each claim on it waits for, with its node id, config epoch and
// replicas; at WARN when the same master lists fewer replicas than it
// waits for (sending holds on its slots until they return), or none (it
// cannot give the 1 auto waits for at least).
func (w *Worker) sayCluster(js []redisconn.MasterAcks) {
	for _, a := range js {
		if !a.Changed {
			continue
		}
		attrs := []any{"master", a.Addr, "node", a.ID, "epoch", a.Epoch, "replica_acks", a.Acks, "required", a.Required,
			"replicas", strings.Join(a.Replicas, " ")}
		switch {
		case a.Acks > a.Required:
			w.log.Warn(fmt.Sprintf("master %s lists %d replica(s) (%s no longer), but claims of the campaigns whose slot it serves still wait for %d acknowledgement(s): sending on those slots holds until the replica returns, since the same master losing a replica may be an old master cut off from the replica the cluster has just promoted, going on with the others; bring the replica back, or, if it is down for good and no failover is under way, restart the workers to judge the replicas again, or set redis.min_replica_acks to a number knowingly (README, \"Guarantees\")",
				a.Addr, len(a.Replicas), redisconn.Names(a.Missing), a.Acks), attrs...)
		case len(a.Replicas) == 0:
			w.log.Warn(fmt.Sprintf("master %s has no replica connected: claims of the campaigns whose slot it serves wait for 1 acknowledgement, and sending on those slots holds until a replica is connected (a failover of it would lose every claim); give it a replica, or set redis.min_replica_acks to 0 knowingly (README, \"Guarantees\")", a.Addr), attrs...)
		case a.New:
			w.log.Info("replica acknowledgements for a Cluster failover", attrs...)
		default:
			w.log.Info("replica acknowledgements for a Cluster failover: the master's replicas changed", attrs...)
		}
	}
}
