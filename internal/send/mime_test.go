package send

import (
	"bytes"
	"net/textproto"
	"strings"
	"testing"
	"time"

	mail "github.com/wneessen/go-mail"
)

// goMailMIME writes p with go-mail, as Send did before it wrote MIME itself:
// the reference that writeMIME must match byte for byte.
func goMailMIME(t *testing.T, p *prepared, boundary string) []byte {
	t.Helper()
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent(), mail.WithBoundary(boundary))
	msg.FromMailAddress(p.from)
	msg.ToMailAddress(p.to)
	if p.replyTo != nil {
		msg.ReplyToMailAddress(p.replyTo)
	}
	msg.Subject(p.subject)
	msg.SetDateWithValue(p.date)
	msg.SetMessageIDWithValue(p.messageID)
	for _, h := range p.headers {
		msg.SetGenHeader(mail.Header(h.Name), h.Value)
	}
	switch {
	case p.text != "" && p.html != "":
		msg.SetBodyString(mail.TypeTextPlain, p.text)
		msg.AddAlternativeString(mail.TypeTextHTML, p.html)
	case p.html != "":
		msg.SetBodyString(mail.TypeTextHTML, p.html)
	default:
		msg.SetBodyString(mail.TypeTextPlain, p.text)
	}
	var b bytes.Buffer
	if _, err := msg.WriteTo(&b); err != nil {
		t.Fatalf("go-mail WriteTo: %v", err)
	}
	return b.Bytes()
}

func TestMIMEMatchesGoMail(t *testing.T) {
	t.Parallel()
	base := func() *Message {
		return &Message{
			From:      "Altea Community <community@altea.example>",
			ReplyTo:   "support@altea.example",
			To:        "zoe@example.org",
			ToName:    "Zoë Müller 🎉",
			Subject:   "Willkommen zurück 🎉 – bitte neu registrieren",
			Text:      "Hallo Zoë,\nbitte registrieren Sie sich neu.\n",
			HTML:      "<p>Hallo Zo&euml;, <b>bitte</b> registrieren Sie sich neu.</p>",
			MessageID: "altea.42@tidings.example",
			Date:      time.Date(2026, 11, 21, 9, 0, 0, 0, time.FixedZone("CET", 3600)),
			Headers: []Header{
				{Name: "X-Tidings-Campaign", Value: "altea-reregistration"},
				{Name: "List-Unsubscribe", Value: "<https://altea.example/unsub?id=42>"},
			},
		}
	}
	long := strings.Repeat("word ", 40)
	tests := []struct {
		name string
		edit func(m *Message)
	}{
		{"sample", func(*Message) {}},
		{"text only", func(m *Message) { m.HTML = "" }},
		{"html only", func(m *Message) { m.Text = "" }},
		{"no body", func(m *Message) { m.Text, m.HTML = "", "" }},
		{"no reply-to, no headers, ascii names", func(m *Message) {
			m.ReplyTo, m.Headers, m.ToName, m.From = "", nil, "Zoe Miller", "community@altea.example"
		}},
		{"long ascii subject", func(m *Message) { m.Subject = long }},
		{"long non-ascii subject", func(m *Message) { m.Subject = strings.Repeat("Grüße aus Zürich ", 12) }},
		{"long word in header", func(m *Message) {
			m.Headers = []Header{{Name: "List-Unsubscribe", Value: "<https://altea.example/unsubscribe?token=" + strings.Repeat("a1", 60) + ">, <mailto:u@altea.example>"}}
		}},
		{"header exactly at the fold", func(m *Message) {
			m.Headers = []Header{{Name: "X-A", Value: strings.Repeat("x", 69)}, {Name: "X-B", Value: strings.Repeat("x", 70)}, {Name: "X-C", Value: "a " + strings.Repeat("y", 68)}}
		}},
		{"header names sort and repeat", func(m *Message) {
			m.Headers = []Header{{Name: "x-lower", Value: "1"}, {Name: "X-Upper", Value: "2"}, {Name: "A-First", Value: "3"}, {Name: "X-Upper", Value: "last wins"}, {Name: "Zz", Value: "4"}}
		}},
		{"non-ascii and hostile header values", func(m *Message) {
			m.Headers = []Header{{Name: "X-Name", Value: "Zoë\r\nBcc: x@y"}, {Name: "X-Tab", Value: "a\tb  c"}, {Name: "X-Empty", Value: ""}}
		}},
		{"names needing quotes and encoding", func(m *Message) {
			m.From = `"Altea, Inc. (Mail)" <community@altea.example>`
			m.ToName = `O'Brien, "Zoë"`
			m.ReplyTo = "Ünicode Support <support@altea.example>"
		}},
		{"body edge cases", func(m *Message) {
			m.Text = ".\n..\n.leading dot\nFrom the start\ntrailing space \ntab\t\n" + strings.Repeat("long line ", 30) + "\nbare\rcr\r\nwindows\r\n=equals=\nend\r"
			m.HTML = ".<p>" + strings.Repeat("é", 100) + "</p>\n.\n"
		}},
		{"date far from utc", func(m *Message) { m.Date = time.Date(2027, 1, 2, 3, 4, 5, 0, time.FixedZone("", -(9*3600+30*60))) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := base()
			tt.edit(m)
			p, err := prepare(m)
			if err != nil {
				t.Fatalf("prepare: %v", err)
			}
			const boundary = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
			var got bytes.Buffer
			writeMIME(&got, &p, boundary)
			want := goMailMIME(t, &p, boundary)
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("writeMIME differs from go-mail:\n got: %q\nwant: %q", got.Bytes(), want)
			}
		})
	}
}

func TestMIMEGeneratesMessageIDAndBoundary(t *testing.T) {
	t.Parallel()
	m := &Message{From: "a@example.org", To: "b@example.org", Text: "t", HTML: "h"}
	seen := map[string]bool{}
	for range 3 {
		var b bytes.Buffer
		if _, err := m.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		h, err := textproto.NewReader(bufioReader(b.Bytes())).ReadMIMEHeader()
		if err != nil {
			t.Fatalf("read header: %v", err)
		}
		id := strings.Trim(h.Get("Message-ID"), "<>")
		if !validMessageID(id) || seen[id] {
			t.Errorf("generated Message-ID %q is invalid or repeated", id)
		}
		seen[id] = true
		ct := h.Get("Content-Type")
		if seen[ct] || !strings.HasPrefix(ct, "multipart/alternative; boundary=") || len(ct) != len("multipart/alternative; boundary=")+60 {
			t.Errorf("Content-Type %q: want a fresh 60-character boundary", ct)
		}
		seen[ct] = true
	}
}
