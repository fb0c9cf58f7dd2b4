package redisconn_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// trustedCA signs the certificates this machine trusts: TestMain points
// SSL_CERT_FILE at it before any test runs (Go reads the system's CAs
// once a process), as the README tells an operator whose Redis has a
// private CA.
var trustedCA *redistest.CA

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "redisconn-ca-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	trustedCA, err = redistest.NewCA("tidings test CA")
	if err == nil {
		err = trustedCA.WriteFile(filepath.Join(dir, "ca.pem"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("SSL_CERT_FILE", filepath.Join(dir, "ca.pem"))
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// tlsEnv loads environment staging with Redis at url and password pw,
// from variables alone.
func tlsEnv(t *testing.T, url, pw string) *environment.Environment {
	t.Helper()
	return mtlsEnv(t, map[string]string{"TIDINGS_REDIS_URL": url, "TIDINGS_REDIS_PASSWORD": pw})
}

// TestRedisOverTLSSaysWhatIsWrongWithTheCertificate: a managed Redis is
// reached with rediss://. With a certificate this machine trusts
// (SSL_CERT_FILE) and the password, Dial works. When the TLS handshake
// fails, the error is an *UnreachableError (a command exits 3) that
// names the environment and address and the TLS error, and its advice
// (what doctor and every command print after it) says what to do about
// that certificate: trust its CA (SSL_CERT_FILE), write the name it is
// for, renew it, or change the URL's scheme, never "check that Redis
// runs there" (it does, and it answered). The password is never in the
// message.
//
// Found by this red team: every TLS failure said "check redis.url /
// TIDINGS_REDIS_URL and that Redis runs there", and a plain redis:// URL
// at a TLS port said only "EOF".
func TestRedisOverTLSSaysWhatIsWrongWithTheCertificate(t *testing.T) {
	t.Parallel()
	const pw = "tls-secret-pw-7781"
	now := time.Now()
	loop := []net.IP{net.IPv4(127, 0, 0, 1)}
	good, goodAddr := startTLS(t, trustedCA, loop, now.Add(-time.Hour), now.Add(time.Hour))
	other, err := redistest.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	_, untrustedAddr := startTLS(t, other, loop, now.Add(-time.Hour), now.Add(time.Hour))
	_, expiredAddr := startTLS(t, trustedCA, loop, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	_, port, _ := net.SplitHostPort(goodAddr)
	if err := good.Client().ConfigSet(t.Context(), "requirepass", pw).Err(); err != nil {
		t.Fatal(err)
	}

	t.Run("works", func(t *testing.T) {
		rdb, err := redisconn.Dial(t.Context(), tlsEnv(t, "rediss://"+goodAddr+"/0", pw))
		if err != nil {
			t.Fatalf("Dial rediss://%s with a trusted certificate and the password: %v", goodAddr, err)
		}
		defer rdb.Close()
		if err := rdb.Set(t.Context(), "tidings:tls", "1", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if v, _ := good.Client().Get(t.Context(), "tidings:tls").Result(); v != "1" {
			t.Errorf("written over TLS, read on the plain port: %q, want 1", v)
		}
	})
	for _, tc := range []struct {
		name, url string
		want      []string // in the error or its advice
	}{
		{"unknown authority", "rediss://" + untrustedAddr + "/0",
			[]string{untrustedAddr, "certificate signed by unknown authority", "SSL_CERT_FILE", "CA"}},
		{"another host", "rediss://localhost:" + port + "/0",
			[]string{"localhost:" + port, "for 127.0.0.1, not localhost", "redis.url / TIDINGS_REDIS_URL"}},
		{"expired", "rediss://" + expiredAddr + "/0",
			[]string{expiredAddr, "expired", "renew"}},
		{"plain URL at a TLS port", "redis://" + goodAddr + "/0",
			[]string{goodAddr, "rediss://"}},
		{"TLS URL at a plain port", "rediss://" + good.Addr + "/0",
			[]string{good.Addr, "takes TLS at that port", "write redis://"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rdb, err := redisconn.Dial(t.Context(), tlsEnv(t, tc.url, pw))
			if err == nil {
				rdb.Close()
				t.Fatalf("Dial %s: no error", tc.url)
			}
			var ue *redisconn.UnreachableError
			if !errors.As(err, &ue) {
				t.Fatalf("Dial %s: %T %v; want an *UnreachableError (exit 3)", tc.url, err, err)
			}
			msg := ue.Error() + "; " + ue.Advice()
			for _, w := range append(tc.want, "staging") {
				if !strings.Contains(msg, w) {
					t.Errorf("Dial %s: %q; want it to say %q", tc.url, msg, w)
				}
			}
			if strings.Contains(msg, "runs there") && !strings.HasPrefix(tc.url, "rediss://"+good.Addr) {
				t.Errorf("Dial %s: %q; Redis runs there and answered: the advice is about TLS, not whether it runs", tc.url, msg)
			}
			if strings.Contains(msg, pw) {
				t.Errorf("Dial %s: %q shows the password", tc.url, msg)
			}
		})
	}
}

// startTLS starts a redis-server whose TLS port shows a certificate for
// ips signed by ca, valid from notBefore to notAfter.
func startTLS(t *testing.T, ca *redistest.CA, ips []net.IP, notBefore, notAfter time.Time) (*redistest.Redis, string) {
	t.Helper()
	certFile, keyFile := ca.ServerCert(t, ips, notBefore, notAfter)
	return redistest.StartTLSServer(t, certFile, keyFile)
}
