package redistest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestClusterOverMutualTLS: a cluster started with TLS settles (its bus
// and replication over TLS); a client on the TLS ports with a certificate
// of the cluster's CA is told the TLS ports (CLUSTER SLOTS) and redirected
// to them (MOVED), so a cluster client seeded with one TLS address writes
// and reads a key in every master's slots; the harness's plain clients
// are told the plain ports; a TLS client without a certificate is
// refused.
func TestClusterOverMutualTLS(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, ClusterOptions{TLS: true})
	ctx := t.Context()
	tlsAddrs := c.TLSAddrs()
	if len(tlsAddrs) != 6 || tlsAddrs[0] == "" || tlsAddrs[0] == c.Addrs()[0] {
		t.Fatalf("TLS addresses %v, plain %v", tlsAddrs, c.Addrs())
	}
	pem, err := os.ReadFile(c.TLS().CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	certFile, keyFile := c.TLS().CA.ClientCert(t, "client", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	conf := &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}

	one := redis.NewClient(&redis.Options{Addr: tlsAddrs[0], TLSConfig: conf})
	defer one.Close()
	slots, err := one.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatalf("CLUSTER SLOTS over TLS: %v", err)
	}
	for _, s := range slots {
		for _, n := range s.Nodes {
			if !slices.Contains(tlsAddrs, n.Addr) {
				t.Errorf("CLUSTER SLOTS over TLS names %s for slots %d-%d, none of the TLS addresses %v", n.Addr, s.Start, s.End, tlsAddrs)
			}
		}
	}
	plain, err := c.slots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range plain {
		if c.Node(s.Nodes[0].Addr) == nil {
			t.Errorf("CLUSTER SLOTS on the plain port names %s, none of the plain addresses %v", s.Nodes[0].Addr, c.Addrs())
		}
	}

	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: tlsAddrs[:1], TLSConfig: conf})
	defer cc.Close()
	masters, err := c.Masters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[*Node]bool{}
	for i := 0; len(seen) < len(masters) && i < 1000; i++ {
		k := fmt.Sprintf("key-%d", i)
		m, err := c.MasterForSlotOf(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if seen[m] {
			continue
		}
		seen[m] = true
		if err := cc.Set(ctx, k, m.Name(), 0).Err(); err != nil {
			t.Fatalf("SET %s over TLS through the cluster client: %v", k, err)
		}
		if got, err := m.Client().Get(ctx, k).Result(); err != nil || got != m.Name() {
			t.Errorf("GET %s on %s = %q, %v; want %q", k, m.Name(), got, err, m.Name())
		}
		// A plain client on the TLS port of another master is redirected
		// to the TLS port of the key's.
		other := masters[(slicesIndex(masters, m)+1)%len(masters)]
		err = redisOverTLS(t, other.TLSAddr(), conf).Get(ctx, k).Err()
		if err == nil || !strings.HasPrefix(err.Error(), "MOVED") || !strings.HasSuffix(err.Error(), m.TLSAddr()) {
			t.Errorf("GET %s over TLS on %s (not its master) = %v, want MOVED to %s", k, other.Name(), err, m.TLSAddr())
		}
	}
	if len(seen) != len(masters) {
		t.Fatalf("keys found for %d masters, want %d", len(seen), len(masters))
	}

	noCert := redisOverTLS(t, tlsAddrs[0], &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})
	if err := noCert.Ping(ctx).Err(); err == nil {
		t.Error("PING over TLS without a client certificate answered, want the connection refused")
	}
}

func redisOverTLS(t *testing.T, addr string, conf *tls.Config) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: conf, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
