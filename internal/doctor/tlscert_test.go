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
	checkExpiry(t, notBefore, notAfter, map[string][]string{
		"30 days left": {"in 30 days"},
		"13 days left": {"in 13 day(s)", "renew it"},
		"expired":      {"renew it", "redis.tls_cert_file"},
	}, func(now time.Time) (Check, bool) { return clientCert(e, now) },
		certFile, `"tidings-worker"`, `issued by "tidings test CA"`)
	for _, now := range []time.Time{notBefore.Add(time.Minute), notAfter.Add(time.Minute)} {
		if c, _ := clientCert(e, now); strings.Contains(c.Message, string(key[40:80])) {
			t.Errorf("%q shows the key", c.Message)
		}
	}
	if _, ok := clientCert(&environment.Environment{Name: "staging"}, time.Now()); ok {
		t.Error("a check for a client certificate where none is set")
	}
}

// checkExpiry checks what check says of a certificate valid from
// notBefore to notAfter: a pass with 30 days left, a warning with 13, a
// failure once expired (saying when) and before it is valid (saying to
// check the clock); each message holds want[the case's name] ("30 days
// left", "13 days left", "expired", "not yet valid") and always.
func checkExpiry(t *testing.T, notBefore, notAfter time.Time, want map[string][]string, check func(now time.Time) (Check, bool), always ...string) {
	t.Helper()
	for _, tc := range []struct {
		name   string
		now    time.Time
		status string
		want   []string
	}{
		{"30 days left", notAfter.Add(-30*24*time.Hour - time.Minute), Pass, nil},
		{"13 days left", notAfter.Add(-13*24*time.Hour - time.Minute), Warn, nil},
		{"expired", notAfter.Add(time.Minute), Fail, []string{"expired at " + notAfter.UTC().Format(time.RFC3339)}},
		{"not yet valid", notBefore.Add(-time.Minute), Fail, []string{"is not valid before", "clock"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := check(tc.now)
			if !ok {
				t.Fatal("no check")
			}
			if c.Status != tc.status {
				t.Errorf("status %s, want %s: %s", c.Status, tc.status, c.Message)
			}
			for _, w := range append(append(tc.want, want[tc.name]...), always...) {
				if !strings.Contains(c.Message, w) {
					t.Errorf("%q; want it to say %q", c.Message, w)
				}
			}
		})
	}
}
