package worker

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redisconn"
)

// replicaAcks returns how many replica acknowledgements each claim waits
// for: Config.ReplicaAcks, or auto resolved (redisconn.ReplicaAcks). On
// Sentinel it reads the replicas and their replica-priorities
// (redisconn.ReadPromotion) and judges the number against them
// (judgeAcks).
func (w *Worker) replicaAcks(ctx context.Context) (int, error) {
	c, ok := w.cfg.Redis.(*redis.Client)
	if !ok || !redisconn.IsSentinel(c) {
		return redisconn.ReplicaAcks(ctx, w.cfg.Redis, w.cfg.ReplicaAcks)
	}
	p, err := redisconn.ReadPromotion(ctx, c)
	if err != nil {
		return 0, err
	}
	w.replicas = strings.Join(p.Addrs, " ")
	return w.judgeAcks(p), nil
}

// watchReplicas judges the replica acknowledgements again, and changes
// what the store waits for, when the replicas the Sentinel master's INFO
// replication (info) lists are others than those last judged: a replica
// joined, left, or the master failed over. A change of replica-priority
// alone is seen with the next change of replicas, or at the next start.
func (w *Worker) watchReplicas(ctx context.Context, info map[string]string) {
	c, ok := w.cfg.Redis.(*redis.Client)
	if !ok || !redisconn.IsSentinel(c) || info["role"] != "master" || strings.Join(redisconn.ReplicaAddrs(info), " ") == w.replicas {
		return
	}
	p, err := redisconn.ReadPromotion(ctx, c)
	if err != nil {
		return // judged again on the next pass
	}
	w.replicas = strings.Join(p.Addrs, " ")
	w.st.SetReplicaAcks(w.judgeAcks(p))
}

// judgeAcks returns how many acknowledgements each claim waits for with
// the replicas of p: a configured number, or auto's (p.Auto). It says so
// at INFO with the replicas and priorities it saw, or at WARN when a
// failover can lose an acknowledged claim (a configured number below the
// rule, which doctor checks too; the worker sends on: the operator chose
// it) or a replica-priority could not be read; and it exports the rule's
// number (tidings_replica_acks_required).
func (w *Worker) judgeAcks(p redisconn.Promotion) int {
	acks := w.cfg.ReplicaAcks
	if acks == AutoReplicaAcks {
		acks = p.Auto()
	}
	w.m.acksRequired.Set(float64(p.Required()))
	attrs := []any{"replica_acks", acks, "required", p.Required(), "replicas", p.Replicas,
		"promoted", p.Best, "priority", p.Priority, "others", p.Others, "unknown", p.Unknown}
	switch short := p.Shortfall(acks); {
	case short != "":
		w.log.Warn(fmt.Sprintf("redis.min_replica_acks is %d: %s; or set it to auto, which follows the replicas", acks, short), attrs...)
	case len(p.Unknown) > 0 && w.cfg.ReplicaAcks == AutoReplicaAcks:
		w.log.Warn(fmt.Sprintf("waiting for %d replica acknowledgement(s), every replica connected: the replica-priority of %s could not be read; check that this worker can reach the replicas as it reaches the master", acks, strings.Join(p.Unknown, ", ")), attrs...)
	default:
		w.log.Info("replica acknowledgements for a Sentinel failover", attrs...)
	}
	return acks
}
