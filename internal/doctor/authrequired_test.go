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

// TestDoctorSeesARelayThatRequiresAuth: the relay advertises AUTH and
// refuses MAIL FROM without it (530 5.7.0 Authentication required: every
// relay that is not an open relay; this one answers 502 5.7.0 "Please
// authenticate first"), and the environment has no smtp.username (a
// forgotten TIDINGS_SMTP_USERNAME). Every message of the campaign would be
// refused: doctor's "smtp auth" must fail and say what to set, not pass
// with "no credentials configured".
//
// Found by a red team: the auth step passed whenever no username was
// configured, without asking the server. Without credentials doctor now
// starts a transaction as the sender would (MAIL FROM:<>, then RSET:
// nothing is sent) and fails when the server asks for authentication.
func TestDoctorSeesARelayThatRequiresAuth(t *testing.T) {
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

	checks := doctor.SMTP(t.Context(), send.Config{Host: srv.Host(), Port: srv.Port(), TLS: send.TLSNone}, "")
	var auth doctor.Check
	for _, ch := range checks {
		if ch.Name == "smtp auth" {
			auth = ch
		}
	}
	if auth.Status != doctor.Fail || !strings.Contains(auth.Message, "smtp.username") || !strings.Contains(auth.Message, "TIDINGS_SMTP_USERNAME") {
		t.Errorf("the relay refuses every MAIL FROM without AUTH (%v) and no smtp.username is set, but doctor says %s %q %q: want a failure naming smtp.username / TIDINGS_SMTP_USERNAME",
			mailErr, strings.ToUpper(auth.Status), auth.Name, auth.Message)
	}

	// A relay that takes mail without AUTH (and offers none) still passes.
	open, err := smtpcapture.Start(t.Context(), smtpcapture.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = open.Close() })
	for _, ch := range doctor.SMTP(t.Context(), send.Config{Host: open.Host(), Port: open.Port(), TLS: send.TLSNone}, "") {
		if ch.Name == "smtp auth" && ch.Status != doctor.Pass {
			t.Errorf("a relay that takes mail without AUTH: %s %q %q, want pass", ch.Status, ch.Name, ch.Message)
		}
	}
	if got := open.Messages(); len(got) != 0 {
		t.Errorf("doctor's probe delivered %d message(s), want none", len(got))
	}

	// A relay that offers AUTH and takes mail without it (it relays for
	// its own network, or refuses the recipients later): a warning that
	// says which settings to set if it does.
	optional, err := smtpcapture.Start(t.Context(), smtpcapture.Config{Username: "tidings", Password: "relay-pw", AuthOptional: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = optional.Close() })
	for _, ch := range doctor.SMTP(t.Context(), send.Config{Host: optional.Host(), Port: optional.Port(), TLS: send.TLSNone}, "") {
		if ch.Name == "smtp auth" && (ch.Status != doctor.Warn || !strings.Contains(ch.Message, "offers AUTH") || !strings.Contains(ch.Message, "smtp.username")) {
			t.Errorf("a relay that offers AUTH and takes mail without it: %s %q %q, want a warning naming smtp.username", ch.Status, ch.Name, ch.Message)
		}
	}
}
