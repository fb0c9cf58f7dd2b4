package send_test

import (
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestListUnsubscribeTemplateIsOneURIOnTheWire: a list_unsubscribe the
// composer accepts (unsubscribe.Check, as plan and send do) goes on every
// message as one URI in angle brackets. A ">" in the template (a typo,
// "...?id={id}>", or a path holding one) ended the URI early in the
// header: the composer accepted it, and every recipient's message was then
// refused as invalid after its claim (permanent failures), or went out
// with a second URI the reviewer of the file never saw as one (an https
// one, which gets one-click, RFC 8058). Found by red team 40.
func TestListUnsubscribeTemplateIsOneURIOnTheWire(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	content := send.Content{Lang: "de", Subject: "Willkommen", Text: "Hallo"}
	for _, tmpl := range []string{
		"https://altea.example/unsubscribe?id={id}",
		"https://altea.example/unsubscribe?id={id}>",
		"https://altea.example/a>b/unsubscribe?id={id}",
		"https://altea.example/a<b>/unsubscribe?id={id}",
		"https://altea.example/unsubscribe?id={id}>, <https://collect.example/c?e={email}",
		"mailto:unsubscribe@altea.example?subject={id}>",
	} {
		t.Run(tmpl, func(t *testing.T) {
			t.Parallel()
			c, err := send.NewComposer(send.ComposerConfig{Campaign: "altea", From: "community@altea.example", ListUnsubscribe: tmpl})
			if err != nil {
				return // refused before anything is staged: fine
			}
			srv := startCapture(t, smtpcapture.Config{})
			p := newPool(t, plainConfig(srv), 1)
			if err := sendOne(t, p, c.Message("u1", "zoe@example.org", "Zoë", content, now)); err != nil {
				t.Fatalf("the composer accepted %q, and the message was refused: %v", tmpl, err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("captured %d messages, want 1", len(msgs))
			}
			msg, err := mail.ReadMessage(strings.NewReader(string(msgs[0].Data)))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			lu := strings.Join(strings.Fields(msg.Header.Get("List-Unsubscribe")), "")
			if !strings.HasPrefix(lu, "<") || !strings.HasSuffix(lu, ">") || strings.Count(lu, "<") != 1 || strings.Count(lu, ">") != 1 {
				t.Errorf("the composer accepted %q, and List-Unsubscribe is %q: want one URI in angle brackets", tmpl, lu)
			}
		})
	}
}
