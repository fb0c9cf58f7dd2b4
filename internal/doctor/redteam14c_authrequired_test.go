package doctor_test

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/wneessen/go-mail/smtp"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestRedteam14CDoctorSeesARelayThatRequiresAuth: internal/doctor's package
// doc promises it checks "its SMTP server (connect, EHLO, STARTTLS as the
// TLS policy requires, AUTH)" and that a check "passes, passes with a
// warning (a risk the operator must know of), or fails, and its message
// says what to do"; README (Commands) calls doctor the "preflight checks".
//
// What happens: the relay advertises AUTH and refuses MAIL FROM without it
// (530 5.7.0 Authentication required: every relay that is not an open
// relay; this one answers 502 5.7.0 "Please authenticate first"), and
// the environment has no smtp.username (a forgotten
// TIDINGS_SMTP_USERNAME in one deployment). doctor says PASS "auth: no
// credentials configured: not authenticating" — every SMTP line passes —
// while every message of the campaign will be refused (5.7.0). The
// operator learns it from the canary's failures, not from the preflight.
//
// Guessed cause: internal/send/check.go:131 passes the auth step whenever
// no username is configured, without looking at the AUTH the server
// advertises (or trying MAIL FROM, which the sender will need).
func TestRedteam14CDoctorSeesARelayThatRequiresAuth(t *testing.T) {
	t.Parallel()
	srv, err := smtpcapture.Start(t.Context(), smtpcapture.Config{Username: "tidings", Password: "relay-pw"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })

	// The relay refuses a message without AUTH.
	conn, err := net.Dial("tcp", net.JoinHostPort(srv.Host(), strconv.Itoa(srv.Port())))
	if err != nil {
		t.Fatal(err)
	}
	c, err := smtp.NewClient(conn, srv.Host())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hello("localhost"); err != nil {
		t.Fatal(err)
	}
	mailErr := c.Mail("community@altea.example")
	_ = c.Close()
	if mailErr == nil || !strings.Contains(mailErr.Error(), "5.7.0") {
		t.Fatalf("MAIL FROM without AUTH: %v, want the relay's refusal (5.7.0)", mailErr)
	}

	checks := doctor.SMTP(t.Context(), send.Config{Host: srv.Host(), Port: srv.Port(), TLS: send.TLSNone})
	var auth doctor.Check
	for _, ch := range checks {
		if ch.Name == "smtp auth" {
			auth = ch
		}
	}
	if auth.Status == doctor.Pass {
		t.Errorf("the relay refuses every MAIL FROM without AUTH (%v) and no smtp.username is set, but doctor says PASS %q %q: the preflight passes a relay that will refuse every message",
			mailErr, auth.Name, auth.Message)
	}
}
