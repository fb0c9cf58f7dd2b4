package send

import (
	"bytes"
	"mime"
	netmail "net/mail"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzHeaderValue writes messages with random display names, subjects and
// List-Unsubscribe URLs (data, hostile or not) and checks what a receiver
// sees: the message parses with net/mail; no line is longer than 998
// characters and no header line longer than 78; exactly the header fields
// that were set appear (data never starts one); the Subject decodes with
// mime.WordDecoder, and the display name with net/mail, to the cleaned
// input (the input as written, Unicode spaces and runs of spaces included,
// but for control characters and line separators); the List-Unsubscribe
// URI is the sanitised input; Show reads the same values back.
func FuzzHeaderValue(f *testing.F) {
	f.Add("Zoë Müller 🎉", "Willkommen zurück 🎉 – bitte neu registrieren", "https://altea.example/unsub?id=42")
	f.Add("=?UTF-8?B?QmNjOiB2aWN0aW1AZXZpbC50ZXN0?=", "=?UTF-8?Q?Bcc:_x@y?=", "mailto:u@altea.example")
	f.Add("Eve\r\nBcc: victim@evil.test", "Hi\nBcc: victim@evil.test", "https://x.example/\r\nBcc: x@y")
	f.Add(strings.Repeat("n", 1000), strings.Repeat("s", 1000), "https://x.example/?t="+strings.Repeat("u", 1000))
	f.Add(`O'Brien, "Zoë" \ (x)`, "【要対応】新しい Altea コミュニティへの再登録のお願い", "https://bücher.example/ü <>\"")
	f.Add("", "", "")
	f.Add("山田\u3000花子", "Action requise\u00a0: réinscrivez-vous\u202f!", "https://x.example/\u00a0")
	f.Add("Altea  Café \u2028Bcc: x@y", " two  spaces\u0085Bcc: x@y ", "https://x.example/\u2028Bcc: x@y")
	f.Fuzz(func(t *testing.T, name, subject, url string) {
		m := &Message{
			From: "Altea <community@altea.example>", ReplyTo: "support@altea.example",
			To: "zoe@example.org", ToName: name, Subject: subject,
			Text: "text", HTML: "<p>html</p>", MessageID: "c.1@altea.example",
			Date:    time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC),
			Headers: []Header{{Name: "X-Tidings-Campaign", Value: "c"}},
		}
		wantFields := []string{"Date", "From", "Reply-To", "To", "Subject", "Message-ID", "X-Tidings-Campaign"}
		// A bare URI: no leading space or "<" once trimmed (trimming a
		// Unicode space such as U+0085 can uncover another "<").
		bare := url
		for t := ""; t != bare; {
			t, bare = bare, strings.TrimLeft(strings.TrimSpace(bare), "<")
		}
		uri := cleanURI(bare)
		if uri != "" {
			m.Headers = append(m.Headers, Header{Name: "List-Unsubscribe", Value: bare})
			wantFields = append(wantFields, "List-Unsubscribe")
			if strings.HasPrefix(strings.ToLower(uri), "https://") && len(uri) > len("https://") {
				wantFields = append(wantFields, "List-Unsubscribe-Post")
			}
		}
		wantFields = append(wantFields, "MIME-Version", "Content-Type")

		p, err := prepare(m)
		if err != nil {
			t.Fatalf("prepare: %v", err)
		}
		var b bytes.Buffer
		writeMessage(&b, &p, capability{eightBit: true}, []byte("b0undary"))
		raw := b.String()
		head, _, ok := strings.Cut(raw, "\r\n\r\n")
		if !ok {
			t.Fatalf("no end of header: %q", raw)
		}
		var fields []string
		for _, l := range strings.Split(head, "\r\n") {
			if !strings.HasPrefix(l, " ") {
				n, _, _ := strings.Cut(l, ":")
				fields = append(fields, n)
			}
			// Only a List-Unsubscribe URI may make a line longer: it goes
			// whole on its line (TestListUnsubscribeURIIsWholeOnItsLine).
			if len(l) > lineLen && (fields[len(fields)-1] != "List-Unsubscribe" || !wholeURILine(l)) {
				t.Errorf("header line of %d characters: %q", len(l), l)
			}
		}
		for _, l := range strings.Split(raw, "\r\n") {
			if len(l) > maxLineLen {
				t.Errorf("line of %d characters", len(l))
			}
		}
		if strings.Join(fields, ",") != strings.Join(wantFields, ",") {
			t.Fatalf("fields %v, want %v:\n%s", fields, wantFields, head)
		}

		msg, err := netmail.ReadMessage(strings.NewReader(raw))
		if err != nil {
			t.Fatalf("parse: %v\n%s", err, head)
		}
		got, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if want := clean(subject); err != nil || got != want {
			t.Errorf("Subject decodes to %q (%v), want %q\n%s", got, err, want, head)
		}
		to, err := netmail.ParseAddress(msg.Header.Get("To"))
		if want := clean(name); err != nil || to.Name != want || to.Address != "zoe@example.org" {
			t.Errorf("To parses to %+v (%v), want name %q\n%s", to, err, want, head)
		}
		if uri != "" {
			lu := strings.Join(strings.Fields(msg.Header.Get("List-Unsubscribe")), "")
			if lu != "<"+uri+">" {
				t.Errorf("List-Unsubscribe %q, want <%s>", lu, uri)
			}
		}
		// What a gallery card shows is the same.
		sh, err := Show([]byte(raw))
		wantTo := "zoe@example.org"
		if n := clean(name); n != "" {
			wantTo = n + " <zoe@example.org>"
		}
		if err != nil || sh.Subject != clean(subject) || sh.To != wantTo || uri != "" && sh.ListUnsubscribe != "<"+uri+">" {
			t.Errorf("Show: %+q (%v), want subject %q, To %q, List-Unsubscribe <%s>", sh, err, clean(subject), wantTo, uri)
		}
	})
}

// FuzzTransfer writes random text as a part, with and without 8BITMIME,
// and checks that it decodes to the text with CRLF line breaks, that no line
// exceeds 998 characters, that 8bit is used only when offered and 8-bit
// bytes only in an 8bit part, and that quoted-printable or base64 is the
// smaller of the two.
func FuzzTransfer(f *testing.F) {
	f.Add("Hello,\nplease re-register.\n", true)
	f.Add("Grüße aus Zürich\r\n", false)
	f.Add(strings.Repeat("語", 400), true)
	f.Add("a\x00b\rc\n.d=\t \n", false)
	f.Fuzz(func(t *testing.T, text string, eightBit bool) {
		if !utf8.ValidString(text) {
			t.Skip("rendered text is UTF-8")
		}
		tr, body, used := writtenPart(t, text, eightBit)
		if used != (tr == transfer8bit) || used && !eightBit {
			t.Errorf("%s, 8bit used %v, 8BITMIME offered %v", tr, used, eightBit)
		}
		if dec := decodePart(t, tr, body); dec != canonical(text) {
			t.Errorf("%s decodes to %q, want %q", tr, dec, canonical(text))
		}
		for _, l := range bytes.Split(body, []byte("\r\n")) {
			if len(l) > maxLineLen {
				t.Errorf("%s line of %d characters", tr, len(l))
			}
		}
		if tr != transfer8bit && !isASCII(string(body)) {
			t.Errorf("8-bit bytes in a %s part", tr)
		}
		if tr == transferQP || tr == transferBase64 {
			assertSmallest(t, text, tr, len(body))
		}
	})
}

// wholeURILine reports whether the header line l of a List-Unsubscribe
// field holds one URI in angle brackets, whole, and nothing else but the
// field name or the fold's space before it and a comma after it.
func wholeURILine(l string) bool {
	v := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(l, "List-Unsubscribe:"), " "), ",")
	return strings.HasPrefix(v, "<") && strings.HasSuffix(v, ">") && strings.Count(v, "<") == 1 && strings.Count(v, ">") == 1
}
