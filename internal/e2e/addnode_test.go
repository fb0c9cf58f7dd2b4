package e2e

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestClusterAddNodeMidCampaign runs a campaign of 3,000 recipients with
// two workers on a Redis Cluster (3 masters, one replica each,
// min-replicas-to-write 1, min_replica_acks auto) and, when a third is
// received, adds a fourth master and its replica (redis-cli --cluster
// add-node, the replica with --cluster-slave) and moves slots into it
// with redis-cli --cluster reshard, the campaign's slot among them, while
// the workers send. Each worker judges the new master's replica
// acknowledgements (1, its replica) as the others'. The campaign goes on
// at the new master: pause and resume work there, and it reaches done
// with nobody mailed twice, everyone reported sent received exactly one,
// and sent and in doubt adding up to every row.
func TestClusterAddNodeMidCampaign(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{ServerConfig: clusterReplicaFloor})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	name := nearFirstSlot(ctx, t, cl, "e2e-cluster-addnode", 50)
	e, srv := newClusterEnv(t, cl)
	const n = 3000
	rows := e.stageOnCluster(name, n, "100/s")
	w1 := e.startWorker("worker-1", 4)
	w2 := e.startWorker("worker-2", 4)
	wait.For(t, 2*time.Minute, fmt.Sprintf("%d messages", n/3), func() bool { return srv.Count() >= n/3 })

	key := "{" + name + "}" // every key of the campaign is in this slot
	from, err := cl.MasterForSlotOf(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cl.AddMaster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := cl.ReshardTo(ctx, key, m)
	if err != nil {
		t.Fatal(err)
	}
	after := srv.Count()
	if after >= n {
		t.Errorf("all %d received before the reshard was over: the test shows nothing mid-send", after)
	}
	if now, err := cl.MasterForSlotOf(ctx, key); err != nil || now != m {
		t.Fatalf("after the reshard the campaign's slot is on %v (%v), want the new master %s", now, err, m.Addr())
	}
	e.mustRun("pause", name, "--env", envName, "--reason", "after add-node")
	if st := e.status(name); st.State != "paused" {
		t.Errorf("after pause on the new master: state %s", st.State)
	}
	e.mustRun("resume", name, "--env", envName)
	st := waitDoneOnce(t, e, srv, name, rows, 4*time.Minute, w1, w2)
	// min_replica_acks auto is judged per master: each worker judged the
	// new one too (its replica), as it does those it started with.
	judged := regexp.MustCompile(`msg="replica acknowledgements for a Cluster failover"[^\n]* master=` + regexp.QuoteMeta(m.Addr()) + ` [^\n]*replica_acks=1 required=1`)
	for _, w := range []*process{w1, w2} {
		if b, _ := os.ReadFile(w.log); !judged.Match(b) {
			t.Errorf("%s did not log the replica acknowledgements of the new master %s (replica_acks=1):\n%s", w.name, m.Addr(), tail(w.log, 6000))
		}
	}
	t.Logf("added master %s, moved %d slots (the campaign's among them) from %s to it; %d received when the reshard was over, %d in all; counts %v",
		m.Addr(), moved, from.Addr(), after, srv.Count(), st.Counts)
}

// nearFirstSlot returns the first of prefix-0, prefix-1, ... whose hash
// slot ({name}) is at most within slots of the first slot its master
// serves, so that a reshard of the master's slots up to it (redis-cli
// takes them in order) is short.
func nearFirstSlot(ctx context.Context, t *testing.T, cl *redistest.Cluster, prefix string, within int64) string {
	t.Helper()
	c := cl.Nodes()[0].Client()
	slots, err := c.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10000 {
		name := fmt.Sprintf("%s-%d", prefix, i)
		slot, err := c.ClusterKeySlot(ctx, "{"+name+"}").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range slots {
			if int64(s.Start) <= slot && slot <= int64(s.End) && slot-int64(s.Start) < within {
				return name
			}
		}
	}
	t.Fatalf("no name %s-N has a slot within %d of its master's first", prefix, within)
	return ""
}
