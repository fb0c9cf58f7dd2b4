package doctor_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestDoctorSaysHowManyReplicasAreMissing: redis.min_replica_acks 2 on a
// Redis with no replica, then with one. doctor's "at most once" failure
// must read right for each count ("no replica is connected", "only 1 of
// the required 2 is connected"), never "only 0 is connected", and say
// what to do: the replicas to start, or the setting to lower.
func TestDoctorSaysHowManyReplicasAreMissing(t *testing.T) {
	conf, err := os.ReadFile(filepath.Join("..", "..", "deploy", "redis.conf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	masterConf := filepath.Join(dir, "master.conf")
	if err := os.WriteFile(masterConf, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	master := redistest.StartServer(t, masterConf)
	addr := master.Options().Addr
	e := &environment.Environment{Name: "production", Redis: environment.Redis{URL: "redis://" + addr + "/0", MinReplicaAcks: 2},
		ClaimWindow: 16, Concurrency: 8}
	for _, tc := range []struct {
		name     string
		replicas int
		want     []string
	}{
		{"none", 0, []string{"no replica is connected", "master " + addr, "start or attach 2 replica(s)", "redis.min_replica_acks to 0"}},
		{"one", 1, []string{"only 1 of the required 2 is connected", "master " + addr, "start or attach 1 more replica", "redis.min_replica_acks to 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.replicas == 1 {
				startReplica(t, conf, addr)
			}
			var got doctor.Check
			for _, c := range doctor.Redis(t.Context(), e) {
				if c.Name == "at most once" {
					got = c
				}
			}
			if got.Status != doctor.Fail {
				t.Fatalf("%d replica(s), redis.min_replica_acks 2: doctor says %s %q, want FAIL", tc.replicas, got.Status, got.Message)
			}
			for _, w := range tc.want {
				if !strings.Contains(got.Message, w) {
					t.Errorf("%d replica(s), redis.min_replica_acks 2: doctor says %q, want it to say %q", tc.replicas, got.Message, w)
				}
			}
			if strings.Contains(got.Message, "only 0") {
				t.Errorf("doctor says %q: with no replica, say so", got.Message)
			}
		})
	}
}

// startReplica starts a replica of the master at addr (deploy/redis.conf,
// conf) and waits for its link.
func startReplica(t *testing.T, conf []byte, addr string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	replicaConf := filepath.Join(t.TempDir(), "replica.conf")
	if err := os.WriteFile(replicaConf, append(conf, "\nreplicaof "+host+" "+port+"\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	replica := redistest.StartServer(t, replicaConf)
	wait.For(t, 30*time.Second, "the replica's link to the master", func() bool {
		info, err := replica.Client().Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
}
