package cli

import (
	"strings"
	"testing"
)

// TestReplicaAckTimeoutAboveTheReadTimeoutIsStillAnAcknowledgement (red
// team 14c):
// README (Guarantees): "A claim that the required replicas did not
// acknowledge within `redis.replica_ack_timeout` is not sent ... Control
// changes (pause, resume, approve, cancel) are acknowledged the same way; a
// command whose change was not acknowledged says so and exits 3."
// `tidings help environments` documents redis.replica_ack_timeout /
// TIDINGS_REDIS_REPLICA_ACK_TIMEOUT as "how long to wait for those
// acknowledgements" with no upper bound, and an operator whose replica is
// in another data centre raises it (here to 5s).
//
// What happens: with replica_ack_timeout 1s, `pause` on a Redis whose
// required replica is missing says "0 of 1 required replicas acknowledged
// the write ... check the replicas with 'tidings doctor'" (exit 3). With
// 5s, the same command says only "read tcp ...: i/o timeout": nothing about
// replicas or acknowledgements, nothing to do, as if Redis were
// unreachable, although the pause was written on the master. (It also
// takes about four times the timeout: the client retries the write.) The
// worker, which WAITs the same way, logs "dispatch: Redis is unreachable"
// (seen in an exploratory run with worker.Config{ReplicaAcks: 1,
// AckTimeout: 5s}) where with 1s it logs "0 of 1 required replicas
// acknowledged the write": on-call is sent to look at a Redis that answers.
//
// The cause was internal/store/scripts.go pipeWait, which sent WAIT in a
// pipeline read under the client's read timeout (go-redis's default), so
// a longer WAIT ended in a client-side i/o timeout (then go-redis's
// MaxRetries re-ran the pipeline) rather than in WAIT's own reply. The
// store now sends such a pipeline on a clone of the client whose read
// timeout covers the WAIT (store's TestAckTimeoutLongerThanTheClientsReadTimeout
// covers the worker's ledger step).
func TestReplicaAckTimeoutAboveTheReadTimeoutIsStillAnAcknowledgement(t *testing.T) {
	t.Parallel()
	env, _ := redisEnv(t)
	env["TIDINGS_ALLOW"] = "example.org"
	c := stageCampaign(t, env, "acks14c")
	// A single Redis without replicas, one acknowledgement required: no
	// write can be acknowledged.
	r := cli(t, merge(env, map[string]string{"TIDINGS_REDIS_MIN_REPLICA_ACKS": "1", "TIDINGS_REDIS_REPLICA_ACK_TIMEOUT": "5s"}),
		"pause", c, "--env", "staging", "--reason", "relay complaints")
	if r.code != 3 || !strings.Contains(r.stderr, "acknowledged") {
		t.Errorf("pause with replica_ack_timeout 5s and no replica: want exit 3 saying the change was not acknowledged by the replicas (as with 1s), got\n%s", r)
	}
	if strings.Contains(r.stderr, "i/o timeout") {
		t.Errorf("the acknowledgement wait ended in the Redis client's own read timeout, not in WAIT's answer: %q", strings.TrimSpace(r.stderr))
	}
}
