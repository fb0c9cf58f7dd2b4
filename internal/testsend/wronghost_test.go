package testsend_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/testsend"
)

// TestRunRefusesAWrongHostCertificate: test-send to a relay whose
// STARTTLS certificate is for another host than the one dialled sends
// nothing (the relay captures no message) and fails with a *ConnectError
// that names the host dialled, the certificate's names and smtp.host.
func TestRunRefusesAWrongHostCertificate(t *testing.T) {
	t.Parallel()
	cert, _, err := smtpcapture.SelfSigned("relay.example")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := smtpcapture.Start(t.Context(), smtpcapture.Config{Certificate: cert})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	_, err = testsend.Run(t.Context(), testsend.Config{Bundle: sample(t), To: "qa@example.org",
		SMTP: send.Config{Host: srv.Host(), Port: srv.Port(), TLS: send.TLSStartTLS, Timeout: time.Minute}})
	var ce *testsend.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *ConnectError", err)
	}
	for _, want := range []string{"127.0.0.1", "the host tidings dialled", "relay.example", "smtp.host", "nothing was sent"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
	if srv.Count() != 0 {
		t.Errorf("the relay received %d messages", srv.Count())
	}
}
