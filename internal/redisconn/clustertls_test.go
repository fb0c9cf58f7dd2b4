package redisconn_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestClusterOverTLSWithoutTLSClusterSaysSo: a Cluster whose nodes take
// TLS (tls-port) but run with tls-cluster no tells a TLS client the
// nodes' plain ports (CLUSTER SLOTS), where its handshake fails. Dial,
// seeded with the nodes' TLS ports (which answer), fails; the advice says
// the Cluster named a plain port (the address it dialled) and to set
// tls-cluster yes on every node, not to write redis:// (the seeds speak
// TLS). With tls-cluster yes, the same environment dials and writes.
func TestClusterOverTLSWithoutTLSClusterSaysSo(t *testing.T) {
	t.Parallel()
	for _, tlsCluster := range []string{"no", "yes"} {
		t.Run("tls-cluster "+tlsCluster, func(t *testing.T) {
			t.Parallel()
			cl := redistest.StartCluster(t, redistest.ClusterOptions{TLS: true, Replicas: -1,
				ServerConfig: []string{"tls-cluster " + tlsCluster, "tls-replication " + tlsCluster}})
			now := time.Now()
			certFile, keyFile := cl.TLS().CA.ClientCert(t, "tidings", now.Add(-time.Hour), now.Add(time.Hour))
			e := mtlsEnv(t, map[string]string{"TIDINGS_REDIS_CLUSTER_ADDRS": strings.Join(cl.TLSAddrs(), ","), "TIDINGS_REDIS_TLS": "true",
				"TIDINGS_REDIS_TLS_CA_FILE": cl.TLS().CAFile, "TIDINGS_REDIS_TLS_CERT_FILE": certFile, "TIDINGS_REDIS_TLS_KEY_FILE": keyFile})
			rdb, err := redisconn.Dial(t.Context(), e)
			if tlsCluster == "yes" {
				if err != nil {
					t.Fatalf("Dial the Cluster over TLS with tls-cluster yes: %v", err)
				}
				defer rdb.Close()
				if err := rdb.Set(t.Context(), "tidings:cluster-tls", "1", 0).Err(); err != nil {
					t.Fatalf("SET over TLS: %v", err)
				}
				return
			}
			if err == nil {
				rdb.Close()
				t.Fatal("Dial worked on a Cluster that names its plain ports to TLS clients")
			}
			var ue *redisconn.UnreachableError
			if !errors.As(err, &ue) {
				t.Fatalf("Dial: %v, want an *UnreachableError", err)
			}
			advice := ue.Advice()
			for _, want := range []string{"tls-cluster yes", "plain port"} {
				if !strings.Contains(advice, want) {
					t.Errorf("advice %q; want it to say %q", advice, want)
				}
			}
			if !slices.ContainsFunc(cl.Addrs(), func(a string) bool { return strings.Contains(advice, a) }) {
				t.Errorf("advice %q names none of the plain addresses %v", advice, cl.Addrs())
			}
			if strings.Contains(advice, "redis://") {
				t.Errorf("advice %q says to write redis://, but the seeds speak TLS", advice)
			}
		})
	}
}
