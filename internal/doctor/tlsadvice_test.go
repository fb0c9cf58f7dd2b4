package doctor_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/worker"
)

// TestDoctorTLSAdviceNamesASettingThatExists: against a relay whose
// STARTTLS certificate does not verify (a self-signed test relay, the
// staging relay of many shops), doctor fails "smtp starttls" and its
// message says what to do: with settings an environment has (trust the CA
// here, SSL_CERT_FILE; smtp.tls), never one the config file refuses as an
// unknown key.
//
// Found by a red team: the advice was "or set insecure_skip_verify for a
// test server", after a field of send.Config that no environment key or
// variable sets.
func TestDoctorTLSAdviceNamesASettingThatExists(t *testing.T) {
	t.Parallel()
	srv, err := smtpcapture.Start(t.Context(), smtpcapture.Config{StartTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })

	dir := t.TempDir()
	base := fmt.Sprintf("environments:\n  staging:\n    allow: [example.com]\n    smtp:\n      host: %s\n      port: %d\n      tls: starttls\n", srv.Host(), srv.Port())
	file := filepath.Join(dir, "tidings.yaml")
	if err := os.WriteFile(file, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	env, err := environment.Load([]byte(base), file, "staging", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var starttls *doctor.Check
	checks := doctor.SMTP(t.Context(), worker.SMTPConfig(env.SMTP), "")
	for i := range checks {
		if checks[i].Name == "smtp starttls" {
			starttls = &checks[i]
		}
	}
	if starttls == nil || starttls.Status != doctor.Fail {
		t.Fatalf("checks %+v: want smtp starttls to fail against a self-signed certificate", checks)
	}
	if !strings.Contains(starttls.Message, "SSL_CERT_FILE") {
		t.Errorf("doctor: %q; want the advice to trust the relay's CA on this machine (SSL_CERT_FILE)", starttls.Message)
	}
	const advised = "insecure_skip_verify"
	if !strings.Contains(starttls.Message, advised) {
		return // the advice names no setting that does not exist
	}
	t.Logf("doctor: %s", starttls.Message)
	// Follow the advice where a setting of the SMTP server would be.
	for _, where := range []string{
		base + "      insecure_skip_verify: true\n",
		base + "    insecure_skip_verify: true\n",
	} {
		_, err := environment.Load([]byte(where), file, "staging", func(string) string { return "" })
		if err == nil {
			return // a key the advice names is accepted
		}
		t.Logf("with the advised key: %v", err)
	}
	if strings.Contains(environment.Reference(), advised) {
		return
	}
	t.Errorf("doctor advises %q, but no environment key or variable of that name exists (tidings help environments lists none; the config file refuses it as an unknown key): the operator is told to set what cannot be set", advised)
}
