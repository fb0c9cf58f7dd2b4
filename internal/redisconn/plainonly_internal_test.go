package redisconn

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestPlainOnlyIsAPortThatSpeaksNoTLS: plainOnly, which makes a Cluster's
// error say "a port that takes no TLS: set tls-cluster yes", is true of a
// redis-server's plain port only. A TLS port whose certificate this client
// does not trust (another CA, or not for the host dialled) speaks TLS:
// tls-cluster is not what is wrong there. Before, any failed handshake
// was called a plain port.
func TestPlainOnlyIsAPortThatSpeaksNoTLS(t *testing.T) {
	t.Parallel()
	now := time.Now()
	ca, err := redistest.NewCA("tidings-plain-only")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := ca.ServerCert(t, []net.IP{net.IPv4(127, 0, 0, 1)}, now.Add(-time.Hour), now.Add(time.Hour))
	r, tlsAddr := redistest.StartTLSServer(t, certFile, keyFile)
	caFile := t.TempDir() + "/ca.pem"
	if err := ca.WriteFile(caFile); err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	trusted := x509.NewCertPool()
	if !trusted.AppendCertsFromPEM(pem) {
		t.Fatal("the CA's PEM holds no certificate")
	}
	for _, tc := range []struct {
		name  string
		addr  string
		conf  *tls.Config
		plain bool
	}{
		{"plain port", r.Addr, &tls.Config{RootCAs: trusted}, true},
		{"TLS port, trusted", tlsAddr, &tls.Config{RootCAs: trusted}, false},
		{"TLS port, another CA", tlsAddr, &tls.Config{RootCAs: x509.NewCertPool()}, false},
		{"TLS port, another host's name", tlsAddr, &tls.Config{RootCAs: trusted, ServerName: "redis.example"}, false},
	} {
		if got := plainOnly(t.Context(), tc.addr, tc.conf); got != tc.plain {
			t.Errorf("%s (%s): plainOnly %v, want %v", tc.name, tc.addr, got, tc.plain)
		}
	}
}
