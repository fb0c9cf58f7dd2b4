package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestDoctorShowsTheCAAndItsExpiry: with a CA to trust for Redis
// (redis.tls_ca_file), doctor says which one (the file, its subject) and
// when it expires: a pass with 30 days left, a warning with 13 (under
// CertRenewWithin) saying to get its renewed certificate, a failure once
// it has expired (Redis's certificate no longer trusted) or before it is
// valid. A file of two CAs (one being replaced by the other) is judged by
// the one valid longest and names the other; a file with no certificate
// fails naming the setting.
func TestDoctorShowsTheCAAndItsExpiry(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notBefore, notAfter := time.Now().Add(-time.Hour), time.Now().Add(60*24*time.Hour)
	caFile := writeCA(t, dir, "private redis CA", notBefore, notAfter)
	e := &environment.Environment{Name: "staging", Redis: environment.Redis{TLS: true,
		TLSFiles: environment.RedisTLS{CAFile: caFile}}}
	checkExpiry(t, notBefore, notAfter, map[string][]string{
		"30 days left": {"in 30 days"},
		"13 days left": {"in 13 day(s)", "renewed certificate"},
		"expired":      {"no longer trusted", "redis.tls_ca_file"},
	}, func(now time.Time) (Check, bool) { return caCert(e, now) },
		caFile, `"private redis CA"`)

	// A bundle: the old CA (expiring in 2 days) and its successor (a
	// year): a pass, judged by the successor, naming the old one.
	old := writeCA(t, dir, "old redis CA", notBefore, time.Now().Add(2*24*time.Hour))
	next := writeCA(t, dir, "new redis CA", notBefore, time.Now().Add(365*24*time.Hour))
	var bundle []byte
	for _, f := range []string{old, next} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		bundle = append(bundle, b...)
	}
	e.Redis.TLSFiles.CAFile = filepath.Join(dir, "bundle.pem")
	if err := os.WriteFile(e.Redis.TLSFiles.CAFile, bundle, 0o600); err != nil {
		t.Fatal(err)
	}
	c, ok := caCert(e, time.Now())
	if !ok || c.Status != Pass {
		t.Errorf("a bundle of an old CA and its successor: %s %q, want a pass", c.Status, c.Message)
	}
	for _, w := range []string{`"new redis CA"`, `"old redis CA"`, "2 certificates"} {
		if !strings.Contains(c.Message, w) {
			t.Errorf("bundle: %q; want it to say %q", c.Message, w)
		}
	}

	e.Redis.TLSFiles.CAFile = filepath.Join(dir, "not.pem")
	if err := os.WriteFile(e.Redis.TLSFiles.CAFile, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, ok := caCert(e, time.Now()); !ok || c.Status != Fail || !strings.Contains(c.Message, "redis.tls_ca_file") {
		t.Errorf("a CA file with no certificate: %s %q, want a failure naming redis.tls_ca_file", c.Status, c.Message)
	}
	if _, ok := caCert(&environment.Environment{Name: "staging"}, time.Now()); ok {
		t.Error("a check for a CA where none is set")
	}
}

// writeCA writes the certificate of a new CA named name, valid from
// notBefore to notAfter, to a file in dir and returns its path.
func writeCA(t *testing.T, dir, name string, notBefore, notAfter time.Time) string {
	t.Helper()
	ca, err := redistest.NewCAValid(name, notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".pem")
	if err := ca.WriteFile(file); err != nil {
		t.Fatal(err)
	}
	return file
}
