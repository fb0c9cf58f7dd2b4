package send_test

import (
	"cmp"
	"errors"
	"mime"
	"net/mail"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// Tests for issue 11, "valid on the wire": each failed before the change.

// captured sends m through a capture server with cfg and returns what the
// server received.
func captured(t *testing.T, cfg smtpcapture.Config, m *send.Message) smtpcapture.Message {
	t.Helper()
	srv := startCapture(t, cfg)
	p := newPool(t, plainConfig(srv), 1)
	if err := sendOne(t, p, m); err != nil {
		t.Fatalf("send: %v", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("captured %d messages, want 1", len(msgs))
	}
	return msgs[0]
}

// headerLines returns the header section of data, one field per entry,
// lines still folded.
func headerLines(t *testing.T, data []byte) []string {
	t.Helper()
	head, _, ok := strings.Cut(string(data), "\r\n\r\n")
	if !ok {
		t.Fatalf("no end of header in %q", data)
	}
	var fields []string
	for _, l := range strings.Split(head, "\r\n") {
		if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			fields[len(fields)-1] += "\r\n" + l
			continue
		}
		fields = append(fields, l)
	}
	return fields
}

// TestSendFoldsLongHeaders: a 1,000-character token from data in a name,
// the Subject or List-Unsubscribe went out as one line, which a strict
// server refuses (here: 554, a line over 998 characters). Every line must be
// at most 78 characters, 998 ever.
func TestSendFoldsLongHeaders(t *testing.T) {
	t.Parallel()
	token := strings.Repeat("x", 1000)
	tests := []struct {
		name string
		edit func(m *send.Message)
	}{
		{"to name", func(m *send.Message) { m.ToName = token }},
		{"from name", func(m *send.Message) { m.From = token + " <community@altea.example>" }},
		{"subject", func(m *send.Message) { m.Subject = "Willkommen " + token }},
		{"non-ascii subject", func(m *send.Message) { m.Subject = strings.Repeat("ü", 1000) }},
		{"list-unsubscribe", func(m *send.Message) {
			m.Headers = []send.Header{{Name: "List-Unsubscribe", Value: "<https://altea.example/unsub?id=" + token + ">"}}
		}},
		{"other header", func(m *send.Message) { m.Headers = []send.Header{{Name: "X-Note", Value: token}} }},
		{"long body line", func(m *send.Message) { m.Text = token + "\n" + strings.Repeat("é", 1000) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := sampleMessage("zoe@example.org")
			tt.edit(m)
			got := captured(t, smtpcapture.Config{MaxLineLength: 1000}, m)
			head, _, _ := strings.Cut(string(got.Data), "\r\n\r\n")
			for _, l := range strings.Split(string(got.Data), "\r\n") {
				if len(l) > 998 {
					t.Errorf("line of %d characters", len(l))
				}
			}
			for _, l := range strings.Split(head, "\r\n") {
				if len(l) > 78 {
					t.Errorf("header line of %d characters: %q", len(l), l)
				}
			}
			if _, err := mail.ReadMessage(strings.NewReader(string(got.Data))); err != nil {
				t.Errorf("parse: %v", err)
			}
		})
	}
}

// TestSendShowsEncodedWordsLiterally: an encoded-word in data ("=?UTF-8?B?
// ...?=" in a name or subject) went out as is, and mail clients decoded it
// to "Bcc: victim@evil.test". Data is text: it must decode to itself, also
// with a lenient decoder that decodes encoded-words anywhere (inside quotes
// too), as mail clients do.
func TestSendShowsEncodedWordsLiterally(t *testing.T) {
	t.Parallel()
	const evil = "=?UTF-8?B?QmNjOiB2aWN0aW1AZXZpbC50ZXN0?=" // "Bcc: victim@evil.test"
	tests := []struct {
		name, field string
		edit        func(m *send.Message)
	}{
		{"to name", "To", func(m *send.Message) { m.ToName = evil }},
		{"to name among words", "To", func(m *send.Message) { m.ToName = "Eve " + evil + " Smith" }},
		// From is configured in RFC 5322 form, where a quoted-string is
		// literal text.
		{"from name", "From", func(m *send.Message) { m.From = `"` + evil + `" <community@altea.example>` }},
		{"subject", "Subject", func(m *send.Message) { m.Subject = evil }},
		{"subject among words", "Subject", func(m *send.Message) { m.Subject = "Hello " + evil }},
		{"other header", "X-Note", func(m *send.Message) { m.Headers = []send.Header{{Name: "X-Note", Value: evil}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := sampleMessage("zoe@example.org")
			tt.edit(m)
			got := captured(t, smtpcapture.Config{}, m)
			msg, err := mail.ReadMessage(strings.NewReader(string(got.Data)))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			raw := msg.Header.Get(tt.field)
			lenient, err := new(mime.WordDecoder).DecodeHeader(raw)
			if err != nil {
				t.Fatalf("decode %q: %v", raw, err)
			}
			if strings.Contains(lenient, "Bcc:") || !strings.Contains(lenient, evil) {
				t.Errorf("%s: %q shows as %q, want the text %q literally", tt.field, raw, lenient, evil)
			}
			if tt.field == "To" || tt.field == "From" {
				a, err := mail.ParseAddress(raw)
				if err != nil || !strings.Contains(a.Name, evil) {
					t.Errorf("%s: parsed name %q (%v), want it to hold %q", tt.field, a.Name, err, evil)
				}
			}
		})
	}
}

// TestSendOneClickUnsubscribe: with an https List-Unsubscribe URL the
// message carries List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC
// 8058), and only then.
func TestSendOneClickUnsubscribe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		unsubscribe string
		wantPost    bool
	}{
		{"<https://altea.example/unsub?id=42>", true},
		{"https://altea.example/unsub?id=42", true},
		{"<mailto:unsub@altea.example>, <https://altea.example/unsub?id=42>", true},
		{"<HTTPS://altea.example/unsub>", true},
		{"<http://altea.example/unsub?id=42>", false},
		{"<mailto:unsub@altea.example?subject=42>", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.unsubscribe, func(t *testing.T) {
			t.Parallel()
			m := sampleMessage("zoe@example.org")
			m.Headers = []send.Header{{Name: "X-Tidings-Campaign", Value: "c"}}
			if tt.unsubscribe != "" {
				m.Headers = append(m.Headers, send.Header{Name: "List-Unsubscribe", Value: tt.unsubscribe})
			}
			got := captured(t, smtpcapture.Config{}, m)
			msg, err := mail.ReadMessage(strings.NewReader(string(got.Data)))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			post := msg.Header["List-Unsubscribe-Post"]
			if tt.wantPost != (len(post) == 1 && post[0] == "List-Unsubscribe=One-Click") || len(post) > 1 {
				t.Errorf("List-Unsubscribe-Post = %q, want it %v", post, tt.wantPost)
			}
			if lu := msg.Header.Get("List-Unsubscribe"); tt.unsubscribe != "" && !strings.HasPrefix(lu, "<") {
				t.Errorf("List-Unsubscribe = %q", lu)
			}
		})
	}
	// Set by the sender only: a caller cannot claim one-click for a URL
	// that is not https.
	m := sampleMessage("zoe@example.org")
	m.Headers = []send.Header{{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"}}
	if _, _, err := send.BuildForTest(m, true, "b"); !errors.Is(err, send.ErrInvalidMessage) {
		t.Errorf("List-Unsubscribe-Post from the caller: err = %v, want ErrInvalidMessage", err)
	}
}

// TestSendSubjectStartsOnItsLine: a long or encoded Subject began with a
// fold ("Subject:" alone on its line), which strict parsers read as a value
// with a leading space.
func TestSendSubjectStartsOnItsLine(t *testing.T) {
	t.Parallel()
	for _, subject := range []string{
		"Willkommen zurück 🎉 – bitte neu registrieren",
		"【要対応】新しい Altea コミュニティへの再登録のお願い",
		"Action needed: re-register for the new Altea community, before the end of the month",
		strings.Repeat("Zürich ", 30),
		"x" + strings.Repeat("y", 90),
	} {
		m := sampleMessage("zoe@example.org")
		m.Subject = subject
		raw, _, err := send.BuildForTest(m, true, "b")
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range headerLines(t, raw) {
			if !strings.HasPrefix(f, "Subject:") {
				continue
			}
			if !strings.HasPrefix(f, "Subject: ") || strings.HasPrefix(f, "Subject:  ") || strings.HasPrefix(f, "Subject: \r\n") {
				t.Errorf("%.30q: the value does not start on the Subject line: %q", subject, f)
			}
		}
	}
}

// TestSendEnvelopeAddresses: the envelope uses the A-label of an
// internationalised domain; a non-ASCII local part goes out with SMTPUTF8
// when the server offers it, and is refused for good, with a reason a person
// understands, when it does not. SMTPUTF8 is not claimed for ASCII
// addresses, which any server can relay.
func TestSendEnvelopeAddresses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		to, from   string
		noUTF8     bool // the server does not offer SMTPUTF8
		wantTo     string
		wantFrom   string
		wantUTF8   bool
		wantRefuse bool
		wantTemp   bool // refused for now: the sender's address, not the recipient's
		// wantFromField is the address in the From field, when it is not
		// "<" + wantFrom + ">"
		wantFromField string
	}{
		{name: "ascii", to: "zoe@example.org", wantTo: "zoe@example.org", wantFrom: "community@altea.example"},
		{name: "idn domain", to: "user@bücher.test", wantTo: "user@xn--bcher-kva.test", wantFrom: "community@altea.example"},
		{name: "idn domain without smtputf8", to: "user@bücher.test", noUTF8: true, wantTo: "user@xn--bcher-kva.test", wantFrom: "community@altea.example"},
		// A local part that is not a dot-atom is quoted, in the envelope
		// as in the From field (bracketAddr, made once for both).
		{name: "quoted sender", to: "zoe@example.org", from: `Desk <"news desk"@altea.example>`, wantTo: "zoe@example.org", wantFrom: "news desk@altea.example", wantFromField: `<"news desk"@altea.example>`},
		{name: "idn sender", to: "zoe@example.org", from: "Bücher <news@bücher.test>", wantTo: "zoe@example.org", wantFrom: "news@xn--bcher-kva.test"},
		{name: "utf-8 local part", to: "josé@bücher.test", wantTo: "josé@xn--bcher-kva.test", wantFrom: "community@altea.example", wantUTF8: true},
		{name: "utf-8 local part without smtputf8", to: "josé@bücher.test", noUTF8: true, wantRefuse: true},
		{name: "utf-8 sender without smtputf8", to: "zoe@example.org", from: "José <josé@bücher.test>", noUTF8: true, wantRefuse: true, wantTemp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startCapture(t, smtpcapture.Config{NoSMTPUTF8: tt.noUTF8})
			p := newPool(t, plainConfig(srv), 1)
			m := sampleMessage(tt.to)
			if tt.from != "" {
				m.From = tt.from
			}
			err := sendOne(t, p, m)
			if tt.wantRefuse {
				ce := send.Classify(err)
				if !errors.Is(err, send.ErrSMTPUTF8Required) || ce == nil || ce.Temporary != tt.wantTemp || ce.InDoubt {
					t.Fatalf("send = %v (%+v), want ErrSMTPUTF8Required, temporary %v", err, ce, tt.wantTemp)
				}
				if !strings.Contains(err.Error(), "josé@bücher.test") || !strings.Contains(err.Error(), "does not offer") {
					t.Errorf("error %q does not say which address and why", err)
				}
				if srv.Count() != 0 {
					t.Errorf("the server received %d messages", srv.Count())
				}
				return
			}
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			got := srv.Messages()[0]
			if len(got.To) != 1 || got.To[0] != tt.wantTo || got.From != tt.wantFrom || got.SMTPUTF8 != tt.wantUTF8 {
				t.Errorf("envelope %q -> %q SMTPUTF8 %v, want %q -> %q SMTPUTF8 %v", got.From, got.To, got.SMTPUTF8, tt.wantFrom, tt.wantTo, tt.wantUTF8)
			}
			msg, err := mail.ReadMessage(strings.NewReader(string(got.Data)))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if to, err := mail.ParseAddress(msg.Header.Get("To")); err != nil || to.Address != tt.wantTo {
				t.Errorf("To header %q (%v), want address %q", msg.Header.Get("To"), err, tt.wantTo)
			}
			if want := cmp.Or(tt.wantFromField, "<"+tt.wantFrom+">"); !strings.HasSuffix(msg.Header.Get("From"), " "+want) {
				t.Errorf("From header %q, want the address %s", msg.Header.Get("From"), want)
			}
		})
	}
}
