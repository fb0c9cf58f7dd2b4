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

// TestDoctorDoesNotPromiseAFailoverWithoutSentinel: README (Guarantees)
// gives each deployment its row, and doctor's "at most once" line says
// which is yours. A single Redis (redis.url, no Sentinel, no Cluster) with
// a replica attached by hand (replicaof, for backups or reads) is the "one
// Redis, AOF appendfsync everysec" row: nothing promotes that replica, and
// a restarted master resynchronises it from its own file, dropping what it
// had acknowledged. doctor must not say "a failover loses no claim".
//
// Found by a red team: the line judged by the replica acknowledgements
// alone (auto = 1 with a replica connected) and said PASS, the Sentinel
// row. It now judges a single Redis by its append-only file, replicas or
// not, and says why its replicas change nothing.
func TestDoctorDoesNotPromiseAFailoverWithoutSentinel(t *testing.T) {
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
	if got.Status != doctor.Warn || strings.Contains(got.Message, "a failover loses no claim") || !strings.Contains(got.Message, "the last second") {
		t.Errorf("a single Redis (redis.url, no Sentinel, no Cluster) with a replica attached: doctor says %s %q; nothing fails over to that replica, so this is README's \"one Redis, AOF appendfsync everysec\" row (a crash of the host can lose the last second of claims), not the Sentinel row", strings.ToUpper(got.Status), got.Message)
	}
}
