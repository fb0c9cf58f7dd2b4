package worker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestWorkerOnClusterSendsWithTheSlotMapFloor: the floor the cluster's
// slot map sets for a master the worker has not judged (ClusterAcks.Floors)
// is what its claims WAIT for on the send path (Store.AcksFor in
// pipeWait). Three masters of 2 replicas; a replica of each master but the
// campaign's killed before the worker starts (the judged masters wait for
// 1 each); the campaign's master answers data commands but refuses
// CLUSTER MYID (an ACL), so that the worker never judges it, as a node
// promoted between two passes, and one of its replicas is stopped
// (SIGSTOP: still connected, it acknowledges nothing). Its claims wait for
// the 2 replicas the slot map lists for it, get 1, and nothing is sent;
// the replica back, every recipient is sent once. Waiting for the 1 the
// judged masters wait for, the claims went through with one replica's
// acknowledgement, and a failover promoting the other could lose them.
func TestWorkerOnClusterSendsWithTheSlotMapFloor(t *testing.T) {
	t.Parallel()
	scenario(t)
	ctx := t.Context()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: 2, NodeTimeout: 10 * time.Minute})
	masters := threeMasters(t, cl)
	const name = "floor"
	unjudged, err := cl.MasterForSlotOf(ctx, "{"+name+"}")
	if err != nil {
		t.Fatal(err)
	}
	var stopped *redistest.Node
	for _, m := range masters {
		info, err := m.Info(ctx, "replication")
		if err != nil {
			t.Fatal(err)
		}
		replica := cl.Node(redisconn.ReplicaAddrs(info)[0])
		if m == unjudged {
			stopped = replica
			continue
		}
		replica.Kill()
		wait.For(t, 30*time.Second, m.Addr()+" to lose a replica", func() bool {
			info, err := m.Info(ctx, "replication")
			return err == nil && info["connected_slaves"] == "1"
		})
	}
	// The worker's judging of it fails (a *SilentError): never judged.
	if err := unjudged.Client().Do(ctx, "acl", "setuser", "default", "-cluster|myid").Err(); err != nil {
		t.Fatalf("refuse CLUSTER MYID on %s: %v", unjudged.Addr(), err)
	}

	srv, err := smtpcapture.Start(context.WithoutCancel(ctx), smtpcapture.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e := &env{st: store.New(cl.ClusterClient()), smtp: srv, byLang: map[string]int{}}
	e.stage(t, opts{name: name, n: 6})
	resume := pauseNode(t, stopped)
	var logs syncbuf.Buffer
	e.startWorker(t, wopts{rdb: cl.ClusterClient(), logs: &logs, auto: true})
	short := "1 of 2 required replicas acknowledged"
	wait.For(t, 2*time.Minute, "the claims of "+name+" to come short, or be sent", func() bool {
		return strings.Contains(logs.String(), short) || len(e.received()) > 0
	}, logs.String)
	if got := e.received(); len(got) > 0 {
		t.Fatalf("with a replica of %s (never judged; the slot map lists 2 replicas, the judged masters wait for 1) stopped, %d recipient(s) were sent on one replica's acknowledgement; want the claims to wait for 2. The worker logged:\n%s",
			unjudged.Addr(), len(got), logs.String())
	}
	if !strings.Contains(lineWith(logs.String(), "could not read the replicas"), unjudged.Addr()) {
		t.Fatalf("the worker judged %s (its CLUSTER MYID refused): the test proves nothing; it logged:\n%s", unjudged.Addr(), logs.String())
	}
	resume()
	wait.For(t, 2*time.Minute, "every recipient of "+name+" to be sent", func() bool { return len(e.received()) == e.staged }, logs.String)
	for to, n := range e.received() {
		if n != 1 {
			t.Errorf("%s got %d messages, want 1", to, n)
		}
	}
}
