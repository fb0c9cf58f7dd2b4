package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestCampaignOnClusterOverMutualTLS runs a campaign with the binary on a
// Redis Cluster of 3 masters (one replica each, min-replicas-to-write 1)
// that takes clients only over TLS with a certificate of its private CA
// (tls-auth-clients yes), whose cluster bus and replication speak TLS too
// (tls-cluster, tls-replication): the config names the nodes' TLS ports,
// redis.tls_ca_file, redis.tls_cert_file and redis.tls_key_file. doctor
// passes Redis's reachability and shows the CA and the client
// certificate. When a third is received, the campaign is paused (status
// says so) and the master of its slot fails over to its replica (CLUSTER
// FAILOVER): the workers, whose dispatch loops read the campaign all
// along, and status are redirected (MOVED) to the new master's TLS port;
// resume continues on the new master, and the campaign reaches done with
// every recipient received exactly once and reported sent (or in doubt,
// never twice).
func TestCampaignOnClusterOverMutualTLS(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{TLS: true, ServerConfig: clusterReplicaFloor})
	ca := cl.TLS()
	now := time.Now()
	certFile, keyFile := ca.CA.ClientCert(t, "tidings-e2e", now.Add(-time.Hour), now.Add(24*time.Hour))
	srv := startSMTPSink(t)
	e := newEnvWith(t, fmt.Sprintf("cluster: [%s]\n      tls: true\n      tls_ca_file: %s\n      tls_cert_file: %s\n      tls_key_file: %s",
		strings.Join(cl.TLSAddrs(), ", "), ca.CAFile, certFile, keyFile), srv.Port(), 4)

	doc := e.run("doctor", "--env", envName)
	for _, want := range []string{"PASS  redis reachable", "redis client certificate", "tidings-e2e", "redis CA certificate", ca.CAFile} {
		if !strings.Contains(doc.stdout, want) {
			t.Errorf("doctor on a Cluster over mutual TLS: no %q\n%s", want, doc)
		}
	}

	const name, n = "e2e-cluster-tls", 900
	rows := e.stageOnCluster(name, n, "150/s")
	w1 := e.startWorker("worker-1", 4)
	w2 := e.startWorker("worker-2", 4)
	wait.For(t, 2*time.Minute, fmt.Sprintf("%d messages", n/3), func() bool { return srv.Count() >= n/3 })

	// Paused first, so that the campaign cannot end before the failover:
	// the workers' dispatch loops read its keys all along.
	e.mustRun("pause", name, "--env", envName, "--reason", "cluster over TLS")
	if st := e.status(name); st.State != "paused" {
		t.Errorf("after pause: state %s", st.State)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	oldMaster, newMaster, err := cl.Failover(ctx, "{"+name+"}") // every key of the campaign is in this slot
	if err != nil {
		t.Fatal(err)
	}
	atFailover := srv.Count()
	if res := e.run("status", name, "--env", envName); res.code != 0 || !strings.Contains(res.stdout, "paused") {
		t.Errorf("status after the failover: want exit 0 saying paused: %s", res)
	}
	e.mustRun("resume", name, "--env", envName)
	st := waitDoneOnce(t, e, srv, name, rows, 4*time.Minute, w1, w2)
	if atFailover >= n {
		t.Errorf("all %d received before the failover: the test shows no redirection", atFailover)
	}
	t.Logf("failed the campaign's slot over from %s to %s with %d received; %d received in all, counts %v", oldMaster, newMaster, atFailover, srv.Count(), st.Counts)
}
