package doctor_test

import (
	"path/filepath"
	"testing"

	"github.com/tidings-mail/tidings/internal/demo"
	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

func TestTemplates(t *testing.T) {
	t.Parallel()
	b, err := demo.Load(filepath.Join(t.TempDir(), "demo"))
	if err != nil {
		t.Fatal(err)
	}
	checks := doctor.Templates(b.Engine)
	if n, infra := doctor.Failed(checks); n != 1 || infra || len(checks) != 10 {
		t.Fatalf("%d of %d checks failed (infra %v), want pt alone of 10", n, len(checks), infra)
	}
	for _, c := range checks {
		if (c.Name == "template pt") != (c.Status == doctor.Fail) {
			t.Errorf("%+v", c)
		}
	}
}

// TestSMTP: a plain server passes with a warning (mail would go
// unencrypted); a closed port fails as unreachable.
func TestSMTP(t *testing.T) {
	t.Parallel()
	srv, err := smtpcapture.Start(t.Context(), smtpcapture.Config{})
	if err != nil {
		t.Fatal(err)
	}
	port := srv.Port()
	checks := doctor.SMTP(t.Context(), send.Config{Host: srv.Host(), Port: port, TLS: send.TLSNone})
	status := map[string]string{}
	for _, c := range checks {
		status[c.Name] = c.Status
	}
	if status["smtp connect"] != doctor.Pass || status["smtp starttls"] != doctor.Warn {
		t.Errorf("checks %+v", checks)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	checks = doctor.SMTP(t.Context(), send.Config{Host: "127.0.0.1", Port: port, TLS: send.TLSNone})
	if n, infra := doctor.Failed(checks); n != 1 || !infra {
		t.Errorf("closed port: %+v", checks)
	}
}
