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

// TestRedteam14CDoctorDoesNotPromiseAFailoverWithoutSentinel: README
// (Guarantees) gives each deployment its row and says "`tidings doctor`
// says which case yours is in (the `at most once` line)". The row that
// loses nothing is "Sentinel (master + replicas)", settings `redis.sentinel`
// and min_replica_acks; a single Redis (redis.url) is the "one Redis, AOF
// appendfsync everysec" row: "a crash of the host can lose the last second
// of claims". Replica acknowledgements are worth something only when a
// failover promotes the replica that has them: without Sentinel (or
// Cluster) nothing promotes it; the restarted master is the one that
// counts, and the replica resynchronises from it, dropping what it had
// acknowledged.
//
// What happens: redis.url names a single master (deploy/redis.conf: AOF
// everysec, noeviction; plus min-replicas-to-write 1) to which a replica is
// attached by hand (replicaof, for backups or reads), no Sentinel. The
// worker waits for that replica (auto = 1 with a replica connected), and
// doctor says PASS "every claim is acknowledged by 1 replica(s) ..., a
// failover loses no claim": the Sentinel row, for a deployment that has no
// failover at all and is the everysec row. The operator is told the
// deployment loses nothing.
//
// Guessed cause: internal/doctor/doctor.go guarantee (the `acks > 0` cases,
// about line 300) judges by the acknowledgements alone and never looks at
// whether e.Redis.Sentinel or e.Redis.Cluster is set.
func TestRedteam14CDoctorDoesNotPromiseAFailoverWithoutSentinel(t *testing.T) {
	dir := t.TempDir()
	conf, err := os.ReadFile(filepath.Join("..", "..", "deploy", "redis.conf"))
	if err != nil {
		t.Fatal(err)
	}
	masterConf := filepath.Join(dir, "master.conf")
	if err := os.WriteFile(masterConf, append(conf, "\nmin-replicas-to-write 1\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	master := redistest.StartServer(t, masterConf)
	host, port, _ := net.SplitHostPort(master.Options().Addr)
	replicaConf := filepath.Join(dir, "replica.conf")
	if err := os.WriteFile(replicaConf, append(conf, "\nreplicaof "+host+" "+port+"\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	replica := redistest.StartServer(t, replicaConf)
	ctx := t.Context()
	wait.For(t, 30*time.Second, "the replica's link to the master", func() bool {
		info, err := replica.Client().Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})

	e := &environment.Environment{Name: "production", Redis: environment.Redis{URL: "redis://" + master.Options().Addr + "/0",
		MinReplicaAcks: environment.ReplicaAcksAuto}, ClaimWindow: 16, Concurrency: 8}
	var got doctor.Check
	for _, c := range doctor.Redis(ctx, e) {
		if c.Name == "at most once" {
			got = c
		}
	}
	t.Logf("%s %s %q", got.Status, got.Name, got.Message)
	if got.Status == doctor.Pass || strings.Contains(got.Message, "a failover loses no claim") {
		t.Errorf("a single Redis (redis.url, no Sentinel, no Cluster) with a replica attached: doctor says %s %q; nothing fails over to that replica, so this is README's \"one Redis, AOF appendfsync everysec\" row (a crash of the host can lose the last second of claims), not the Sentinel row", strings.ToUpper(got.Status), got.Message)
	}
}
