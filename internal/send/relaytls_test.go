package send_test

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/rawsmtp"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestTLSRefusalSaysWhatToDo: an environment that requires TLS
// (tls: starttls) and a relay that does not offer STARTTLS, or offers it
// with a certificate this machine does not trust: nothing goes out in
// clear (the relay sees EHLO and nothing after it; the capture server
// receives no message), the failure is temporary (the campaign's error
// rate pauses it rather than failing everyone for good), and its text,
// which status and the auto-pause reason show, says what the relay did
// and what to do about it.
func TestTLSRefusalSaysWhatToDo(t *testing.T) {
	t.Parallel()
	t.Run("STARTTLS not offered", func(t *testing.T) {
		t.Parallel()
		relay := rawsmtp.Start(t, rawsmtp.Options{})
		cfg := relay.Config()
		cfg.TLS = send.TLSStartTLS
		cfg.Username, cfg.Password = "mailer", "s3cret"
		err := getAndSend(t, newPool(t, cfg, 1), sampleMessage("jane@example.org"))
		temporarySaying(t, err, "does not offer STARTTLS", "nothing was sent", "port that offers STARTTLS", "tls: tls")
		if cmds := relay.Commands(); len(cmds) != 1 || !strings.HasPrefix(cmds[0], "EHLO ") {
			t.Errorf("relay received %q, want EHLO alone (nothing in clear)", cmds)
		}
		if relay.Accepted() != 0 {
			t.Errorf("relay accepted %d messages", relay.Accepted())
		}
	})
	t.Run("certificate not trusted", func(t *testing.T) {
		t.Parallel()
		srv := startCapture(t, smtpcapture.Config{StartTLS: true})
		cfg := plainConfig(srv)
		cfg.TLS = send.TLSStartTLS
		err := getAndSend(t, newPool(t, cfg, 1), sampleMessage("jane@example.org"))
		temporarySaying(t, err, "certificate", "nothing was sent", "trust its CA here")
		if srv.Count() != 0 {
			t.Errorf("capture server received %d messages", srv.Count())
		}
	})
}

// getAndSend is sendOne for a connection that may fail to be made: the
// error of Get or of Send.
func getAndSend(t *testing.T, p *send.Pool, m *send.Message) error {
	t.Helper()
	c, err := p.Get(t.Context())
	if err != nil {
		return err
	}
	defer p.Put(c)
	return c.Send(t.Context(), m)
}

// temporarySaying fails t unless err is a temporary failure, not in
// doubt, whose words say each of wants.
func temporarySaying(t *testing.T, err error, wants ...string) {
	t.Helper()
	ce := send.Classify(err)
	if ce == nil || !ce.Temporary || ce.InDoubt {
		t.Fatalf("Send = %v (%+v), want a temporary failure", err, ce)
	}
	for _, want := range wants {
		if !strings.Contains(ce.Msg, want) {
			t.Errorf("error %q does not say %q", ce.Msg, want)
		}
	}
}
