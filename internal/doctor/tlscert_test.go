package doctor

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestDoctorShowsTheClientCertificateAndItsExpiry: with a client
// certificate to Redis (redis.tls_cert_file), doctor says which one (the
// file, its subject and issuer) and when it expires: a pass with 30 days
// left, a warning to renew it with 13 (under CertRenewWithin), a failure
// once it has expired or before it is valid. None of it shows the key.
func TestDoctorShowsTheClientCertificateAndItsExpiry(t *testing.T) {
	t.Parallel()
	ca, err := redistest.NewCA("tidings test CA")
	if err != nil {
		t.Fatal(err)
	}
	notBefore, notAfter := time.Now().Add(-time.Hour), time.Now().Add(60*24*time.Hour)
	certFile, keyFile := ca.ClientCert(t, "tidings-worker", notBefore, notAfter)
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	e := &environment.Environment{Name: "staging", Redis: environment.Redis{TLS: true,
		TLSFiles: environment.RedisTLS{CertFile: certFile, KeyFile: keyFile}}}
	for _, tc := range []struct {
		name   string
		now    time.Time
		status string
		want   []string
	}{
		{"30 days left", notAfter.Add(-30*24*time.Hour - time.Minute), Pass, []string{"in 30 days"}},
		{"13 days left", notAfter.Add(-13*24*time.Hour - time.Minute), Warn, []string{"in 13 day(s)", "renew it"}},
		{"expired", notAfter.Add(time.Minute), Fail, []string{"expired at " + notAfter.UTC().Format(time.RFC3339), "renew it", "redis.tls_cert_file"}},
		{"not yet valid", notBefore.Add(-time.Minute), Fail, []string{"is not valid before", "clock"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := clientCert(e, tc.now)
			if !ok {
				t.Fatal("no check for the client certificate")
			}
			if c.Status != tc.status {
				t.Errorf("status %s, want %s: %s", c.Status, tc.status, c.Message)
			}
			for _, w := range append(tc.want, certFile, `"tidings-worker"`, `issued by "tidings test CA"`) {
				if !strings.Contains(c.Message, w) {
					t.Errorf("%q; want it to say %q", c.Message, w)
				}
			}
			if strings.Contains(c.Message, string(key[40:80])) {
				t.Errorf("%q shows the key", c.Message)
			}
		})
	}
	if _, ok := clientCert(&environment.Environment{Name: "staging"}, time.Now()); ok {
		t.Error("a check for a client certificate where none is set")
	}
}
