package worker

import (
	"context"
	"log/slog"
	"testing"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/syncbuf"
)

// TestClusterWithNoMasterYetFailsClosed: a worker started on a Redis
// Cluster whose slot map lists no master (nodes up, their slots not
// assigned yet, as before redis-cli --cluster create, or after CLUSTER
// RESET) waits, per claim, for what it was configured with, and with auto
// holds every claim until a master is judged (redisconn.Hold). Since the
// silent-master change (clusterAcks returning as soon as no master
// answered) it returned 0 and no error: the store waited for no replica
// at all, for the worker's life with a configured number (watchCluster
// changes only auto's), and with auto until its next pass.
func TestClusterWithNoMasterYetFailsClosed(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: -1})
	ctx := context.Background()
	for _, n := range cl.Nodes() { // every slot unassigned: no master serves any
		if err := n.Client().ClusterResetHard(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name       string
		configured int
		wantAcks   int // what a claim on a master not judged waits for
	}{
		{"configured 2", 2, 2},
		{"auto", AutoReplicaAcks, redisconn.Hold},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs syncbuf.Buffer
			w, err := New(Config{Redis: cl.ClusterClient(), ReplicaAcks: tt.configured, SMTP: send.Config{Host: "127.0.0.1", Port: 25}, Env: "test", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			acks, masters, err := w.replicaAcks(ctx)
			if err != nil || acks != tt.wantAcks || tt.configured == AutoReplicaAcks && masters == nil {
				t.Errorf("with no master listed: waits for %d (by master %v), %v; want %d (auto: by master, none yet)\n%s", acks, masters, err, tt.wantAcks, logs.String())
			}
		})
	}
}
