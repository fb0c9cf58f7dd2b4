package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestReplicaAcksAreLoadBearing proves that the replica acknowledgements
// of the ledger's claims (redis.min_replica_acks) are what keeps a
// Sentinel failover from losing claims of recipients already mailed: the
// same failover loses hundreds without them, and none with them.
//
// A campaign of 3,000 recipients, two workers, Sentinel with one replica
// whose replication link goes through a proxy (redistest.Proxy). A fifth
// of the way through, the proxy stalls the link: the replica falls behind,
// and is then promoted (SENTINEL FAILOVER) while still stalled, so that
// whatever the master accepted since is lost.
//   - min_replica_acks 0 (no WAIT): the workers go on sending during the
//     stall. The failover waits until the master's ledger holds 300
//     recipients sent whose claims the replica lacks (read on both nodes:
//     no timing luck); the SMTP server received every one of them, and the
//     promoted replica has them as never claimed. With the workers'
//     delivery journals, the workers find the loss and pause the campaign
//     (state loss suspected) before anyone is mailed twice: the campaign
//     stops and waits for the operator's recovery. With the journals lost
//     too (the workers killed before the failover and replaced by workers
//     on fresh disks: an empty journal.dir), nothing tells them, and people
//     are mailed twice.
//   - auto (WAIT for the one replica): sending holds during the stall
//     (the workers log "0 of 1 required replicas acknowledged"); the
//     failover waits for that; every recipient the SMTP server has
//     received has a claim on the replica it promotes; the campaign goes on
//     after the failover and reaches done with nobody mailed twice and
//     everyone reported sent mailed exactly once, with the journals and
//     without them.
func TestReplicaAcksAreLoadBearing(t *testing.T) {
	t.Parallel()
	stalledCases(t, true, func(t *testing.T) stalledDeployment {
		sen := redistest.StartSentinel(t, redistest.SentinelOptions{
			ReplicationProxy: true,
			ServerConfig:     []string{"min-replicas-to-write 1", "min-replicas-max-lag 10"},
		})
		master, replica := sen.Servers()[0], sen.Servers()[1]
		proxy := sen.Proxy(replica)
		return stalledDeployment{
			redisYAML: fmt.Sprintf("sentinel: { master: %s, addrs: [%s] }", sen.MasterName(), strings.Join(sen.SentinelAddrs(), ", ")),
			master:    master, replica: replica, replicaReads: replica.Client(),
			stall: func(context.Context) error { proxy.Stall(); return nil },
			failover: func(ctx context.Context) (string, string, error) {
				return sen.Failover(ctx)
			},
		}
	})
}

// TestClusterReplicaAcksAreLoadBearing is TestReplicaAcksAreLoadBearing on
// Redis Cluster, where auto waits for every replica of the master serving
// the campaign's slot (judged per master): 3 masters with one replica
// each; the replica of the campaign's master is made to fall behind while
// alive (redistest's Node.StallReplication: CLIENT PAUSE WRITE on it, so
// that it still reads the replication stream, stays connected, answers the
// cluster bus and acknowledges the offset it applied, but applies nothing;
// Redis's own tests assert that its offset does not grow), and then
// promoted by CLUSTER FAILOVER FORCE (Cluster.ForceFailover: elected by
// the other masters without waiting for its master to agree or to be
// caught up), which drops what it read but had not applied.
//
// Why not a proxy, as on Sentinel: a Cluster replica replicates from the
// address its master announces on the cluster bus, the one the slot map
// (CLUSTER SLOTS, CLUSTER SHARDS) gives go-redis too; a master announcing
// a proxy's port (cluster-announce-port) would route the workers through
// the proxy as well, which would then have to tell the replica's
// connection from theirs. The pause stalls the replica itself, on the
// same terms: connected, acknowledging, its offset frozen, and no timing
// luck (the test reads both ledgers and checks the offset the replica was
// promoted at, as on Sentinel).
//   - min_replica_acks 0: the master's ledger holds 300 recipients sent
//     whose claims the replica lacks before the failover; the promoted
//     replica has them as never claimed; the workers' journals find the
//     loss and pause the campaign before anyone is mailed twice. With the
//     journals lost too (the workers replaced by workers with an empty
//     journal.dir before the failover), people are mailed twice.
//   - auto: sending holds during the stall ("0 of 1 required replicas
//     acknowledged"); every recipient received has a claim on the replica
//     promoted; the campaign reaches done, nobody mailed twice (counted
//     at smtp-sink), everyone reported sent mailed once, and the journals
//     never had to pause it.
//
// With the store made to ignore a WAIT that came back short (a mutation),
// auto fails: 320 recipients mailed without a claim on the promoted
// replica, and the journals pause the campaign as a state loss.
func TestClusterReplicaAcksAreLoadBearing(t *testing.T) {
	t.Parallel()
	stalledCases(t, false, func(t *testing.T) stalledDeployment {
		cl := redistest.StartCluster(t, redistest.ClusterOptions{
			ServerConfig: []string{"min-replicas-to-write 1", "min-replicas-max-lag 10"},
		})
		slot := "{" + stalledCampaign + "}" // every key of the campaign is in this slot
		master, replicas, err := cl.ShardOf(t.Context(), slot)
		if err != nil {
			t.Fatal(err)
		}
		replica := replicas[0]
		// A Cluster replica answers reads of its slots only on a
		// connection that said READONLY (else MOVED to its master).
		reads := redis.NewClient(&redis.Options{Addr: replica.Addr(), OnConnect: func(ctx context.Context, cn *redis.Conn) error {
			return cn.ReadOnly(ctx).Err()
		}})
		t.Cleanup(func() { _ = reads.Close() })
		return stalledDeployment{
			redisYAML: fmt.Sprintf("cluster: [%s]", strings.Join(cl.Addrs(), ", ")),
			master:    master, replica: replica, replicaReads: reads,
			stall: replica.StallReplication,
			failover: func(ctx context.Context) (string, string, error) {
				return cl.ForceFailover(ctx, slot)
			},
		}
	})
}

// stalledCases runs stalledFailover on a deployment of its own (start's)
// in parallel subtests: with min_replica_acks 0 and auto, the journals
// kept or lost; with autoJournalsLost false, not auto with the journals
// lost (auto loses no claim, so the journals have nothing to find: the
// Sentinel test shows it once).
func stalledCases(t *testing.T, autoJournalsLost bool, start func(t *testing.T) stalledDeployment) {
	for _, tc := range []struct {
		name         string
		acks         string // redis.min_replica_acks; "" leaves it auto
		journalsLost bool   // the workers are killed before the failover and replaced with an empty journal.dir
	}{
		{"min_replica_acks 0", "0", false},
		{"min_replica_acks 0, journals lost", "0", true},
		{"auto", "", false},
		{"auto, journals lost", "", true},
	} {
		if tc.acks == "" && tc.journalsLost && !autoJournalsLost {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stalledFailover(t, start(t), tc.acks, tc.journalsLost)
		})
	}
}

// stalledCampaign is the campaign of stalledFailover.
const stalledCampaign = "e2e-stalled-replica"

// lostClaims is how many recipients the master's ledger has as sent and
// the stalled replica's as never claimed before the acks-0 case fails over.
const lostClaims = 300

// stalledDeployment is the Redis deployment of a case of stalledFailover:
// the campaign's master and the replica to be promoted, with what stalls
// the replica and what promotes it.
type stalledDeployment struct {
	redisYAML       string // the environment's redis settings, without min_replica_acks
	master, replica *redistest.Node
	replicaReads    *redis.Client                                                      // reads the replica's ledger
	stall           func(ctx context.Context) error                                    // the replica stops applying the master's writes, connected
	failover        func(ctx context.Context) (oldMaster, newMaster string, err error) // promotes the replica, stalled
}

// stalledFailover is one case of TestReplicaAcksAreLoadBearing or
// TestClusterReplicaAcksAreLoadBearing on d: the workers'
// redis.min_replica_acks is acks ("" for auto), and with journalsLost they
// are killed before the failover and replaced by two with an empty
// journal.dir.
func stalledFailover(t *testing.T, d stalledDeployment, acks string, journalsLost bool) {
	const (
		name = stalledCampaign
		n    = 3000
	)
	master, replica := d.master, d.replica
	redisYAML := d.redisYAML
	if acks != "" {
		redisYAML += "\n      min_replica_acks: " + acks
	}
	srv := startSMTPSink(t)
	e := newEnvWith(t, redisYAML, srv.Port(), 4)
	rows := simpleRows(n, acceptedLocales)
	ids := make([]string, n)
	for i, r := range rows {
		ids[i] = r.id()
	}
	e.extra = []string{"TIDINGS_REDIS_REPLICA_ACK_TIMEOUT=5s"} // send's start, on a loaded machine (failoverCampaign)
	e.stageSimple(campaignSpec{name: name, size: 1000, rate: "300/s"}, rows)
	e.extra = nil
	w1, w2 := e.startWorker("worker-1", 4), e.startWorker("worker-2", 4)
	wait.For(t, 2*time.Minute, "600 messages", func() bool { return srv.Count() >= 600 })

	ctx := t.Context()
	if err := d.stall(ctx); err != nil {
		t.Fatal(err)
	}
	stalledAt := srv.Count()
	mark := logMark(w1, w2)
	// With acks 0 the workers send on and the ledgers part; with auto they
	// hold (or, were the acknowledgements ignored, part all the same).
	wait.For(t, 2*time.Minute, fmt.Sprintf("a worker to log a claim the replica did not acknowledge, or the master's ledger to hold %d recipients sent whose claims the replica lacks", lostClaims), func() bool {
		sent, _ := ledgerGap(t, master.Client(), d.replicaReads, name, ids)
		return sent >= lostClaims || mark.logged("0 of 1 required replicas acknowledged")
	}, func() string { return tail(w1.log, 4000) + tail(w2.log, 4000) })
	// The replica is frozen until its promotion: what it lacks now is lost.
	sentGap, claimGap := ledgerGap(t, master.Client(), d.replicaReads, name, ids)
	frozenAt, err := strconv.ParseInt(replInfo(t, replica)["master_repl_offset"], 10, 64)
	if err != nil {
		t.Fatalf("the replica's offset: %v", err)
	}
	frozen, err := store.New(d.replicaReads).Entries(ctx, name, ids)
	if err != nil {
		t.Fatal(err)
	}
	received := byRecipient(srv.Messages(t))
	var unclaimed []string // received, never claimed on the replica
	for i, id := range ids {
		if received[id] > 0 && frozen[i].State == "" {
			unclaimed = append(unclaimed, id)
		}
	}
	if journalsLost {
		w1.kill()
		w2.kill()
	}
	beforeFailover := srv.Count()
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	oldMaster, newMaster, err := d.failover(fctx)
	if err != nil {
		t.Fatal(err)
	}
	if newMaster != replica.Addr() {
		t.Fatalf("the failover promoted %s, want the stalled replica %s", newMaster, replica.Addr())
	}
	// The replica took nothing more before its promotion: the offset it
	// was promoted at (second_repl_offset, its offset + 1) is the one it
	// had when its ledger was read.
	if got := replInfo(t, replica)["second_repl_offset"]; got != strconv.FormatInt(frozenAt+1, 10) {
		t.Fatalf("the replica was promoted at offset %s, want %d: it took more after its ledger was read; is the replica still stalled?", got, frozenAt+1)
	}
	if journalsLost {
		e.extra = []string{"TIDINGS_JOURNAL_DIR=" + filepath.Join(e.dir, "fresh-disk", "journal")}
		w1, w2 = e.startWorker("worker-3", 4), e.startWorker("worker-4", 4)
	}
	if acks == "0" {
		if len(unclaimed) < lostClaims {
			t.Errorf("%d recipients received a message whose claim the replica lacks, want at least %d", len(unclaimed), lostClaims)
		}
		st := waitSettledState(t, e, name, w1, w2)
		per := byRecipient(srv.Messages(t))
		twice := 0
		for _, id := range ids {
			if per[id] > 1 {
				twice++
			}
		}
		lossPause := st.State == "paused" && strings.Contains(st.Reason, "state loss suspected")
		switch {
		case journalsLost && twice == 0:
			t.Errorf("with min_replica_acks 0 and no journals the failover lost %d claims of recipients mailed, but nobody received two messages; campaign %s (%q), counts %v", len(unclaimed), st.State, st.Reason, st.Counts)
		case !journalsLost && !lossPause:
			t.Errorf("with min_replica_acks 0 the failover lost %d claims of recipients mailed, and the campaign is %s (%q), not paused for a state loss by the journals; %d received two messages", len(unclaimed), st.State, st.Reason, twice)
		case !journalsLost && twice > 0:
			t.Errorf("with min_replica_acks 0 the journals paused the campaign (%q), but only after %d recipients received two messages", st.Reason, twice)
		}
		t.Logf("min_replica_acks 0 (journals lost: %t): stalled at %d messages, failover %s -> %s at %d; the replica lacked %d claims (%d sent); %d recipients mailed without a claim on it; afterwards %d received two messages; campaign %s (%s), counts %v",
			journalsLost, stalledAt, oldMaster, newMaster, beforeFailover, claimGap, sentGap, len(unclaimed), twice, st.State, st.Reason, st.Counts)
		return
	}
	if len(unclaimed) > 0 {
		t.Errorf("with auto, %d recipients received a message whose claim the replica about to be promoted lacks: %v", len(unclaimed), unclaimed[:min(len(unclaimed), 10)])
	}
	st := e.waitState(name, "done", 3*time.Minute, w1, w2)
	per := checkOnce(t, srv, rows, false)
	inDoubt := checkOutcomes(t, e.report(name), per, false)
	if got := st.Counts["sent"] + st.Counts["in-doubt"]; got != n {
		t.Errorf("sent %d + in doubt %d = %d, want %d; counts %v", st.Counts["sent"], st.Counts["in-doubt"], got, n, st.Counts)
	}
	noCrossSlot(t, w1, w2)
	if os.Getenv("TIDINGS_TEST_SHOW_LOGS") != "" {
		t.Logf("worker-1:\n%s\nworker-2:\n%s", tail(w1.log, 20000), tail(w2.log, 20000))
	}
	t.Logf("auto (journals lost: %t): stalled at %d messages, failover %s -> %s at %d; the replica lacked %d claims (%d sent); %d in doubt; %d received",
		journalsLost, stalledAt, oldMaster, newMaster, beforeFailover, claimGap, sentGap, inDoubt, srv.Count())
}

// ledgerGap returns how many of ids campaign's ledger on master holds as
// sent and the ledger on replica as never claimed (sent), and how many it
// holds in any state (claimed).
func ledgerGap(t *testing.T, master, replica *redis.Client, campaign string, ids []string) (sent, claimed int) {
	t.Helper()
	ctx := t.Context()
	m, err := store.New(master).Entries(ctx, campaign, ids)
	if err != nil {
		t.Fatalf("read the master's ledger: %v", err)
	}
	r, err := store.New(replica).Entries(ctx, campaign, ids)
	if err != nil {
		t.Fatalf("read the replica's ledger: %v", err)
	}
	for i := range ids {
		if r[i].State != "" || m[i].State == "" {
			continue
		}
		claimed++
		if m[i].State == store.OutcomeSent {
			sent++
		}
	}
	return sent, claimed
}

// replInfo returns n's INFO replication.
func replInfo(t *testing.T, n *redistest.Node) map[string]string {
	t.Helper()
	m, err := n.Info(t.Context(), "replication")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// logMarks holds where each process's log ended at a point of the test.
type logMarks map[*process]int64

// logMark marks where each of procs's logs ends now.
func logMark(procs ...*process) logMarks {
	m := logMarks{}
	for _, p := range procs {
		m[p] = 0 // not written yet
		if fi, err := os.Stat(p.log); err == nil {
			m[p] = fi.Size()
		}
	}
	return m
}

// logged reports whether any of the marked logs contains s after its mark.
func (m logMarks) logged(s string) bool {
	for p, from := range m {
		b, _ := os.ReadFile(p.log)
		if int64(len(b)) > from && strings.Contains(string(b[from:]), s) {
			return true
		}
	}
	return false
}

// waitSettledState waits until campaign is done, paused or cancelled, and
// returns its status.
func waitSettledState(t *testing.T, e *env, campaign string, workers ...*process) status {
	t.Helper()
	var st status
	wait.For(t, 3*time.Minute, campaign+" to be done, paused or cancelled", func() bool {
		st = e.status(campaign)
		for _, w := range workers {
			if done, err := w.exited(); done {
				t.Fatalf("worker %s exited (%v); log:\n%s", w.name, err, tail(w.log, 4000))
			}
		}
		return st.State == "done" || st.State == "paused" || st.State == "cancelled"
	})
	return st
}
