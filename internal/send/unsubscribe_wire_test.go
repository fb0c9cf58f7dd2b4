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

// TestListUnsubscribeURIIsWholeOnItsLine: a List-Unsubscribe URI longer
// than the 60 characters left on the header line (most real ones: the
// recipient's id and address, a campaign name) was folded inside its
// brackets. RFC 2369 asks readers to drop white space inside the brackets,
// but receivers that run one-click (RFC 8058) unfold the field and keep the
// folding space in the URL ("...&e =zoe%40..."), so the POST goes to a URL
// that names nobody and the opt-out is lost, silently; folding is only
// where the grammar allows white space, between URIs. The URI now goes on
// one line, the header line or a continuation line of its own, longer
// than 78 characters when it must (never more than 998). Found by red team
// 40 in a rehearsal's .eml files.
func TestListUnsubscribeURIIsWholeOnItsLine(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	content := send.Content{Lang: "fr", Subject: "Bienvenue", Text: "Bonjour"}
	for _, tt := range []struct{ tmpl, id, want string }{
		{"https://altea.example/abmelden/désinscription?id={id}&e={email}&c=altea-migration-demo", "jösé/../x",
			"https://altea.example/abmelden/d%C3%A9sinscription?id=j%C3%B6s%C3%A9%2F..%2Fx&e=zoe%40example.org&c=altea-migration-demo"},
		{"https://altea.example/unsubscribe?id={id}", "u1", "https://altea.example/unsubscribe?id=u1"},
		{"mailto:unsubscribe@altea.example?subject=unsubscribe%20{id}%20from%20altea-migration-demo&body={email}", "=?utf-8?q?x?=",
			"mailto:unsubscribe@altea.example?subject=unsubscribe%20%3D%3Futf-8%3Fq%3Fx%3F%3D%20from%20altea-migration-demo&body=zoe%40example.org"},
	} {
		t.Run(tt.tmpl, func(t *testing.T) {
			t.Parallel()
			c, err := send.NewComposer(send.ComposerConfig{Campaign: "altea-migration-demo", From: "community@altea.example", ListUnsubscribe: tt.tmpl})
			if err != nil {
				t.Fatal(err)
			}
			srv := startCapture(t, smtpcapture.Config{})
			p := newPool(t, plainConfig(srv), 1)
			if err := sendOne(t, p, c.Message(tt.id, "zoe@example.org", "Zoë", content, now)); err != nil {
				t.Fatalf("send: %v", err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("captured %d messages, want 1", len(msgs))
			}
			var field string
			for _, f := range headerLines(t, msgs[0].Data) {
				if strings.HasPrefix(f, "List-Unsubscribe:") {
					field = f
				}
			}
			lines := strings.Split(field, "\r\n")
			whole := false
			for i, l := range lines {
				if len(l) > 998 {
					t.Errorf("line %d is %d bytes", i, len(l))
				}
				whole = whole || strings.HasSuffix(l, " <"+tt.want+">")
			}
			if !whole {
				t.Errorf("List-Unsubscribe is written\n%s\nwant <%s> whole on one line", field, tt.want)
			}
		})
	}
}
