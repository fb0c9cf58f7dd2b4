package doctor_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestDoctorRefusesAWrongHostCertificate: against a relay whose
// certificate is for other names than the host tidings dials, over
// STARTTLS or implicit TLS, doctor fails the TLS step (smtp starttls,
// smtp connect) with a message naming the host dialled, the names in the
// certificate and the setting to fix (smtp.host), and goes no further: no
// AUTH is tried (the password never goes to a server that is not the one
// meant), nothing is sent.
func TestDoctorRefusesAWrongHostCertificate(t *testing.T) {
	t.Parallel()
	cert, _, err := smtpcapture.SelfSigned("relay.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, implicit := range []bool{false, true} {
		t.Run(fmt.Sprintf("implicit %v", implicit), func(t *testing.T) {
			t.Parallel()
			srv, err := smtpcapture.Start(t.Context(), smtpcapture.Config{Certificate: cert, ImplicitTLS: implicit, Username: "mailer", Password: "s3cret"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Close() })
			cfg := send.Config{Host: srv.Host(), Port: srv.Port(), TLS: send.TLSStartTLS, Username: "mailer", Password: "s3cret", Timeout: time.Minute}
			step := "smtp starttls"
			if implicit {
				cfg.TLS, step = send.TLSImplicit, "smtp connect"
			}
			checks := doctor.SMTP(t.Context(), cfg, "")
			last := checks[len(checks)-1]
			if last.Name != step || last.Status != doctor.Fail {
				t.Fatalf("checks %+v: want %s to fail, and be the last", checks, step)
			}
			for _, want := range []string{"127.0.0.1", "the host tidings dialled", "relay.example", "smtp.host"} {
				if !strings.Contains(last.Message, want) {
					t.Errorf("%s: %q does not say %q", step, last.Message, want)
				}
			}
			if srv.Count() != 0 {
				t.Errorf("the relay received %d messages", srv.Count())
			}
		})
	}
}
