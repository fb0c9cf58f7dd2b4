package send

import (
	"bytes"
	"mime"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"testing"
)

// parseField reads one header field as a mail parser does (unfolded) and
// checks its lines: at most lineLen characters (maxLineLen when long says
// the value cannot be split), continuation lines starting with a space and
// the value starting on the header line.
func parseField(t *testing.T, raw []byte, name string, long bool) string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(raw), "\r\n"), "\r\n")
	for i, l := range lines {
		limit := lineLen
		if long {
			limit = maxLineLen
		}
		if len(l) > limit {
			t.Errorf("line %d is %d characters, want at most %d: %q", i, len(l), limit, l)
		}
		if i > 0 && !strings.HasPrefix(l, " ") {
			t.Errorf("continuation line %d does not start with a space: %q", i, l)
		}
	}
	if !strings.HasPrefix(lines[0], name+":") {
		t.Fatalf("field does not start with %s: %q", name, raw)
	}
	if rest := lines[0][len(name)+1:]; rest != "" && (len(rest) < 2 || rest[0] != ' ' || rest[1] == ' ') {
		t.Errorf("value does not start on the header line: %q", lines[0])
	}
	h, err := textproto.NewReader(bufioReader(append(raw, "\r\n"...))).ReadMIMEHeader()
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return h.Get(name)
}

func TestTextField(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, value string }{
		{"Subject", ""},
		{"Subject", "Hello world"},
		{"Subject", strings.Repeat("Lorem ipsum dolor sit amet ", 12)},
		{"Subject", strings.Repeat("x", 1000)},
		{"Subject", "see " + strings.Repeat("y", 75) + " here"},
		{"Subject", "=?UTF-8?B?QmNjOiB2aWN0aW1AZXZpbC50ZXN0?="},
		{"Subject", "a =? b"},
		{"Subject", "Willkommen zurück 🎉 – bitte neu registrieren"},
		{"Subject", "【要対応】新しい Altea コミュニティへの再登録のお願い"},
		{"Subject", strings.Repeat("🎉", 300)},
		{"Subject", strings.Repeat("é", 500)},
		{"Subject", "_under_score_ and = equals ?"},
		// As written: French typography, a run of spaces, an ideographic
		// space; cleaned: a line break smuggling a header.
		{"Subject", "Action requise\u00a0: réinscrivez-vous\u202f!"},
		{"Subject", "two  spaces, three   here"},
		{"Subject", "対応のお願い\u3000新しいコミュニティ"},
		{"Subject", "Hi\r\nBcc: victim@evil.test"},
		{"X-Tidings-Campaign", "altea-reregistration"},
		{"X-" + strings.Repeat("N", 60), "Grüße"},
		{"X-" + strings.Repeat("N", 74), "a"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		w := fieldWriter{b: &b}
		tt.value = clean(tt.value) // as prepare does
		w.text(tt.name, tt.value)
		long := len(tt.name) > 60 // no room for a value on the header line
		got := parseField(t, b.Bytes(), tt.name, long)
		dec, err := new(mime.WordDecoder).DecodeHeader(got)
		if err != nil || dec != tt.value {
			t.Errorf("%s %.40q: decoded %q (%v)\nfrom %q", tt.name, tt.value, dec, err, b.String())
		}
	}
}

func TestMailboxField(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, addr string }{
		{"", "zoe@example.org"},
		{"Altea Community", "community@altea.example"},
		{"Zoë Müller 🎉", "zoe@example.org"},
		{`O'Brien, "Zoë"`, "zoe@example.org"},
		{`back\slash "and" quotes`, "a@example.org"},
		{"=?UTF-8?B?QmNjOiB2aWN0aW1AZXZpbC50ZXN0?=", "eve@example.org"},
		{strings.Repeat("n", 1000), "long@example.org"},
		{strings.Repeat("山田 太郎 ", 40), "yamada@example.org"},
		{"Ana", "josé@xn--bcher-kva.example"},
		{"Quoted Local", `"john doe"@example.org`},
		{"山田\u3000花子", "hanako@example.org"},
		{"Zoë\u00a0Okafor", "zoe@example.org"},
		{"Altea  Community", "community@altea.example"},
		{"Altea  Café", "community@altea.example"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		w := fieldWriter{b: &b}
		addr := tt.addr
		if strings.HasPrefix(addr, `"`) {
			addr = "john doe@example.org" // as net/mail returns it
		}
		w.mailbox("To", mailbox{name: tt.name, addr: addr, bracketed: bracketAddr(addr)})
		got := parseField(t, b.Bytes(), "To", false)
		a, err := netmail.ParseAddress(got)
		if err != nil {
			t.Errorf("%.40q: parse %q: %v", tt.name, got, err)
			continue
		}
		if a.Name != tt.name || a.Address != addr {
			t.Errorf("%.40q <%s>: parsed %q <%s> from %q", tt.name, addr, a.Name, a.Address, b.String())
		}
		// A lenient decoder (as mail clients are, decoding encoded-words
		// even inside quotes) must show the name literally too.
		if dec, _ := new(mime.WordDecoder).DecodeHeader(got); strings.Contains(tt.name, "=?") && !strings.Contains(dec, tt.name) {
			t.Errorf("%.40q: a lenient decoder shows %q", tt.name, dec)
		}
	}
}

func TestURIsField(t *testing.T) {
	t.Parallel()
	long := "https://altea.example/unsubscribe?token=" + strings.Repeat("a1", 500)
	tests := [][]string{
		{"https://altea.example/unsub?id=42"},
		{long},
		{"mailto:u@altea.example", long, "https://x.example/" + strings.Repeat("b", 60)},
		{strings.Repeat("c", 20), strings.Repeat("d", 20), strings.Repeat("e", 20), strings.Repeat("f", 20)},
	}
	for _, uris := range tests {
		var b bytes.Buffer
		w := fieldWriter{b: &b}
		w.uris("List-Unsubscribe", uris)
		// A URI longer than a line goes whole on a line of its own (at
		// most 998: TestListUnsubscribeURIIsWholeOnItsLine).
		got := parseField(t, b.Bytes(), "List-Unsubscribe", true)
		// White space inside the brackets is not part of a URI.
		var want, clean []string
		for _, u := range uris {
			want = append(want, "<"+u+">")
		}
		for _, item := range strings.Split(got, ",") {
			clean = append(clean, strings.Join(strings.Fields(item), ""))
		}
		if strings.Join(clean, ", ") != strings.Join(want, ", ") {
			t.Errorf("URIs %q written as %q", uris, b.String())
		}
	}
}

func TestCleanURI(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://altea.example/unsub?id=42", "https://altea.example/unsub?id=42"},
		{" https://x.example/a b ", "https://x.example/a%20b"},
		{"https://x.example/\r\nBcc: x@y", "https://x.example/%0D%0ABcc:%20x@y"},
		{"https://x.example/<>\"\\", "https://x.example/%3C%3E%22%5C"},
		{"https://bücher.example/ü", "https://b%C3%BCcher.example/%C3%BC"},
		{"https://x.example/?a==?UTF-8?B?QmNj?=", "https://x.example/?a==%3FUTF-8?B?QmNj?="},
	}
	for _, tt := range tests {
		if got := cleanURI(tt.in); got != tt.want {
			t.Errorf("cleanURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWireAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		utf8     bool
		bad      bool
	}{
		{in: "zoe@example.org", want: "zoe@example.org"},
		{in: "user@bücher.test", want: "user@xn--bcher-kva.test"},
		{in: "user@Bücher.TEST", want: "user@xn--bcher-kva.test"},
		{in: "user@xn--bcher-kva.test", want: "user@xn--bcher-kva.test"},
		{in: "josé@x.test", want: "josé@x.test", utf8: true},
		{in: "山田@例え.テスト", want: "山田@xn--r8jz45g.xn--zckzah", utf8: true},
		{in: "odd_host@mail_1.example", want: "odd_host@mail_1.example"}, // ASCII domains stay as given
		{in: "user@-bücher.test", bad: true},
		{in: strings.Repeat("l", 65) + "@x.test", bad: true},
		{in: "noat", bad: true},
	}
	for _, tt := range tests {
		got, utf8, err := wireAddress("recipient", tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("wireAddress(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want || utf8 != tt.utf8 {
			t.Errorf("wireAddress(%q) = %q, %v, %v; want %q, %v", tt.in, got, utf8, err, tt.want, tt.utf8)
		}
	}
}
