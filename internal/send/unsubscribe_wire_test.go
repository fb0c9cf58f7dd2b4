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
			data, err := sentThrough(t, c, "u1")
			if err != nil {
				t.Fatalf("the composer accepted %q, and the message was refused: %v", tmpl, err)
			}
			msg, err := mail.ReadMessage(strings.NewReader(string(data)))
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
			data, err := sentThrough(t, c, tt.id)
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			var field string
			for _, f := range headerLines(t, data) {
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

// TestListUnsubscribeIDNHostGoesAsALabel: a list_unsubscribe whose host is
// an internationalised domain (https://bücher.example/..., accepted as
// from's domain is) went on the wire with the host percent-encoded
// (https://b%C3%BCcher.example/...): browsers decode it, but HTTP clients
// that run one-click (RFC 8058) look up "b%C3%BCcher.example" or the
// Unicode name and find no such host, and RFC 3986 section 3.2.2 asks URI
// producers for the IDNA form. The host now goes as its A-label (red team
// 40).
func TestListUnsubscribeIDNHostGoesAsALabel(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ tmpl, want string }{
		{"https://bücher.example/abmelden?id={id}", "<https://xn--bcher-kva.example/abmelden?id=u1>"},
		{"https://Bücher.Example:8443/ab/ü?id={id}", "<https://xn--bcher-kva.example:8443/ab/%C3%BC?id=u1>"},
		{"http://bücher.example", "<http://xn--bcher-kva.example>"},
		{"https://altea.example/bücher.example?id={id}", "<https://altea.example/b%C3%BCcher.example?id=u1>"},
	} {
		t.Run(tt.tmpl, func(t *testing.T) {
			t.Parallel()
			c, err := send.NewComposer(send.ComposerConfig{Campaign: "altea", From: "community@altea.example", ListUnsubscribe: tt.tmpl})
			if err != nil {
				t.Fatal(err)
			}
			data, err := sentThrough(t, c, "u1")
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			msg, err := mail.ReadMessage(strings.NewReader(string(data)))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := strings.Join(strings.Fields(msg.Header.Get("List-Unsubscribe")), ""); got != tt.want {
				t.Errorf("List-Unsubscribe %q, want %q", got, tt.want)
			}
		})
	}
}

// sentThrough sends c's message to recipient id (zoe@example.org) through
// a real SMTP capture on loopback and returns the DATA it received, or the
// sender's error.
func sentThrough(t *testing.T, c *send.Composer, id string) ([]byte, error) {
	t.Helper()
	content := send.Content{Lang: "de", Subject: "Willkommen", Text: "Hallo"}
	m := c.Message(id, "zoe@example.org", "Zoë", content, time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	srv := startCapture(t, smtpcapture.Config{})
	if err := sendOne(t, newPool(t, plainConfig(srv), 1), m); err != nil {
		return nil, err
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("captured %d messages, want 1", len(msgs))
	}
	return msgs[0].Data, nil
}

// TestLinkIsTheHeaderOnTheWire: a recipient's unsubscribe URL is made once
// (Composer.Link, {token} included): the body shows its Web, and Message
// writes the List-Unsubscribe header from it, so the header that goes
// through a real SMTP server is "<" + the body's link + ">", byte for byte,
// for ids and addresses that need escaping (a CR LF in one stays escaped:
// no header is injected). A Link Message is given is the one written, not
// a second expansion of its own: a Link made under another secret goes
// out as given, which a Message that expands the URL again would not
// write.
func TestLinkIsTheHeaderOnTheWire(t *testing.T) {
	t.Parallel()
	const secret, other = "k9F2-unsubscribe-secret-of-the-site", "another-secret-of-another-site"
	tests := []struct {
		name, tmpl, id, email string
		linkSecret            string // the secret of the Link given to Message
		web                   bool   // the body shows the link
	}{
		{name: "token", tmpl: "https://altea.example/unsubscribe?id={id}&token={token}", id: "u 1+ü&x", email: "zoe@example.org", linkSecret: secret, web: true},
		{name: "email in path", tmpl: "http://altea.example/u/{email}/{id}/{token}", id: "r42", email: "Ana.Maria+x@example.org", linkSecret: secret, web: true},
		{name: "crlf in id", tmpl: "https://altea.example/unsubscribe?id={id}&token={token}", id: "x\r\nBcc: evil@attacker.example", email: "zoe@example.org", linkSecret: secret, web: true},
		{name: "another secret's link", tmpl: "https://altea.example/unsubscribe?id={id}&token={token}", id: "u1", email: "zoe@example.org", linkSecret: other, web: true},
		{name: "mailto", tmpl: "mailto:unsubscribe@altea.example?subject={id}", id: "u 1", email: "zoe@example.org", linkSecret: secret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			composer := func(s string) *send.Composer {
				c, err := send.NewComposer(send.ComposerConfig{Campaign: "altea", From: "community@altea.example",
					ListUnsubscribe: tt.tmpl, UnsubscribeSecret: []byte(s)})
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			link := composer(tt.linkSecret).Link(tt.id, tt.email)
			body := link.Web()
			if (body != "") != tt.web {
				t.Fatalf("the body's link %q, want one: %v", body, tt.web)
			}
			m := composer(secret).Message(tt.id, tt.email, "Zoë", send.Content{Lang: "de", Subject: "Willkommen", Text: "Hallo\n" + body, Link: link},
				time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
			srv := startCapture(t, smtpcapture.Config{})
			if err := sendOne(t, newPool(t, plainConfig(srv), 1), m); err != nil {
				t.Fatal(err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("captured %d messages, want 1", len(msgs))
			}
			msg, err := mail.ReadMessage(strings.NewReader(string(msgs[0].Data)))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if len(msg.Header["Bcc"]) > 0 || len(msg.Header["List-Unsubscribe"]) != 1 {
				t.Fatalf("headers %v: want one List-Unsubscribe and no Bcc", msg.Header)
			}
			header := strings.Join(strings.Fields(msg.Header.Get("List-Unsubscribe")), "")
			if strings.Count(header, "<") != 1 || !strings.HasPrefix(header, "<") || !strings.HasSuffix(header, ">") {
				t.Fatalf("List-Unsubscribe %q, want one URI in angle brackets", header)
			}
			if tt.web && header != "<"+body+">" {
				t.Errorf("List-Unsubscribe %q, body's link %q: want the same URL", header, body)
			}
		})
	}
}
