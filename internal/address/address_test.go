package address

import (
	"errors"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/idna"
)

func TestParse(t *testing.T) {
	t.Parallel()
	const (
		joseNFC = "jos\u00e9"  // é precomposed
		joseNFD = "jose\u0301" // e + combining acute
	)
	tests := []struct {
		name    string
		in      string
		str     string // String()
		ascii   string // ASCII()
		key     string // Key()
		utf8    bool   // NeedsSMTPUTF8()
		wantErr string // substring of the error; "" when valid
	}{
		{name: "plain", in: "a@example.com", str: "a@example.com", ascii: "a@example.com", key: "a@example.com"},
		{name: "mixed case domain", in: "Anna.B@Example.COM", str: "Anna.B@example.com", ascii: "Anna.B@example.com", key: "anna.b@example.com"},
		{name: "local part NFC kept", in: joseNFC + "@x.test", str: joseNFC + "@x.test", ascii: joseNFC + "@x.test", key: joseNFC + "@x.test", utf8: true},
		{name: "local part NFD normalised", in: joseNFD + "@x.test", str: joseNFC + "@x.test", ascii: joseNFC + "@x.test", key: joseNFC + "@x.test", utf8: true},
		{name: "upper NFD local", in: "JOSE\u0301@x.test", str: "JOS\u00c9@x.test", ascii: "JOS\u00c9@x.test", key: joseNFC + "@x.test", utf8: true},
		{name: "unicode both sides", in: "ünïcödé@exämple.de", str: "ünïcödé@exämple.de", ascii: "ünïcödé@xn--exmple-cua.de", key: "ünïcödé@exämple.de", utf8: true},
		{name: "unicode domain", in: "user@bücher.test", str: "user@bücher.test", ascii: "user@xn--bcher-kva.test", key: "user@bücher.test"},
		{name: "punycode domain", in: "user@xn--bcher-kva.test", str: "user@bücher.test", ascii: "user@xn--bcher-kva.test", key: "user@bücher.test"},
		{name: "upper punycode", in: "user@XN--BCHER-KVA.TEST", str: "user@bücher.test", ascii: "user@xn--bcher-kva.test", key: "user@bücher.test"},
		{name: "upper unicode domain", in: "user@BÜCHER.test", str: "user@bücher.test", ascii: "user@xn--bcher-kva.test", key: "user@bücher.test"},
		{name: "NFD domain", in: "user@bu\u0308cher.test", str: "user@bücher.test", ascii: "user@xn--bcher-kva.test", key: "user@bücher.test"},
		{name: "ideographic full stop", in: "用户@例子。广告", str: "用户@例子.广告", ascii: "用户@xn--fsqu00a.xn--4rr70v", key: "用户@例子.广告", utf8: true},
		{name: "eszett kept (nontransitional)", in: "a@straße.de", str: "a@straße.de", ascii: "a@xn--strae-oqa.de", key: "a@straße.de"},
		{name: "atext specials", in: "first.last+tag!#$%&'*/=?^_`{|}~-@sub.example.co.uk", str: "first.last+tag!#$%&'*/=?^_`{|}~-@sub.example.co.uk",
			ascii: "first.last+tag!#$%&'*/=?^_`{|}~-@sub.example.co.uk", key: "first.last+tag!#$%&'*/=?^_`{|}~-@sub.example.co.uk"},

		{name: "empty", in: "", wantErr: "is not an email address"},
		{name: "no at", in: "not-an-email", wantErr: `"not-an-email" is not an email address: write it as local@domain`},
		{name: "nothing before at", in: "@example.com", wantErr: "is not an email address"},
		{name: "nothing after at", in: "a@", wantErr: "is not an email address"},
		{name: "two ats", in: "a@b@example.com", wantErr: "not a valid email address"},
		{name: "no dot in domain", in: "a@localhost", wantErr: "has no valid domain"},
		{name: "trailing dot", in: "a@example.com.", wantErr: "domain ending with a dot"},
		{name: "trailing ideographic dot", in: "a@example.com。", wantErr: "domain ending with a dot"},
		{name: "double dot domain", in: "a@example..com", wantErr: "empty label"},
		{name: "leading dot domain", in: "a@.example.com", wantErr: "empty label"},
		{name: "hyphen label", in: "a@-x.example.com", wantErr: "starting or ending with '-'"},
		{name: "invalid punycode", in: "a@xn--zz.test", wantErr: "not a valid IDNA name"},
		{name: "empty punycode label", in: "a@xn--.test", wantErr: "starting or ending with '-'"},
		{name: "empty punycode label after mapping", in: "a@bücher.xn--.test", wantErr: "empty label"},
		{name: "underscore in domain", in: "a@foo_bar.test", wantErr: "not a valid IDNA name (idna: disallowed rune U+005F)"},
		{name: "hyphens in 3rd and 4th place", in: "a@ab--cd.test", wantErr: "not a valid IDNA name"},
		{name: "zero width joiner in domain", in: "a@b\u200d.test", wantErr: "invisible character U+200D at byte 3"},
		{name: "quoted local part", in: `"john doe"@example.com`, wantErr: "quoted local part"},
		{name: "address literal", in: "a@[127.0.0.1]", wantErr: "address literal"},
		{name: "display name", in: "A <a@example.com>", wantErr: "not a bare address"},
		{name: "angle brackets", in: "<a@example.com>", wantErr: "not a bare address"},
		{name: "comment", in: "a@example.com (work)", wantErr: "not a bare address"},
		{name: "space", in: "a b@example.com", wantErr: "not a bare address"},
		{name: "no-break space", in: "a\u00a0b@example.com", wantErr: "invisible character U+00A0 at byte 1"},
		{name: "double dot local", in: "a..b@example.com", wantErr: "not a valid email address"},
		{name: "leading dot local", in: ".a@example.com", wantErr: "not a valid email address"},
		{name: "greek question mark is a semicolon in NFC", in: "a\u037eb@example.com", wantErr: "not a valid email address"},
		{name: "long local part", in: strings.Repeat("a", 65) + "@example.com", wantErr: "longer than 64 bytes"},
		{name: "long label", in: "a@" + strings.Repeat("b", 64) + ".test", wantErr: "label longer than 63 bytes"},
		{name: "long domain", in: "a@" + strings.Repeat("b.", 130) + "test", wantErr: "domain longer than 253 bytes"},
		{name: "long address", in: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + ".test", wantErr: "longer than 254 bytes"},
		{name: "huge input", in: strings.Repeat("a", 5000) + "@example.com", wantErr: "longer than 254 bytes"},
		{name: "NUL", in: "a\x00b@example.com", wantErr: `"a\x00b@example.com" holds the control character U+0000 at byte 1`},
		{name: "CRLF", in: "a@example.com\r\nBcc: x@evil.test", wantErr: "control character U+000D"},
		{name: "C1 control", in: "a\u0085@example.com", wantErr: "control character U+0085"},
		{name: "invalid UTF-8", in: "a\xff@example.com", wantErr: "not valid UTF-8 (byte 0xFF at offset 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := Parse(tt.in)
			if tt.wantErr != "" {
				var ae *Error
				if !errors.As(err, &ae) {
					t.Fatalf("Parse(%q) = %v, %v; want an *Error containing %q", tt.in, a, err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.in, err, tt.wantErr)
				}
				if ae.Input != tt.in {
					t.Errorf("Error.Input = %q, want %q", ae.Input, tt.in)
				}
				if !a.IsZero() {
					t.Errorf("Parse(%q) returned %v with an error", tt.in, a)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			got := [...]string{a.String(), a.ASCII(), a.Key()}
			want := [...]string{tt.str, tt.ascii, tt.key}
			if got != want {
				t.Errorf("Parse(%q): String, ASCII, Key = %q, want %q", tt.in, got, want)
			}
			if a.NeedsSMTPUTF8() != tt.utf8 {
				t.Errorf("Parse(%q).NeedsSMTPUTF8() = %v, want %v", tt.in, a.NeedsSMTPUTF8(), tt.utf8)
			}
			if a.IsZero() {
				t.Errorf("Parse(%q).IsZero() = true", tt.in)
			}
		})
	}
}

// TestSameMailbox: every spelling of one mailbox has one key; different
// mailboxes have different keys.
func TestSameMailbox(t *testing.T) {
	t.Parallel()
	groups := [][]string{
		{"jos\u00e9@x.test", "jose\u0301@x.test", "JOS\u00c9@X.TEST", "Jose\u0301@x.Test"},
		{"user@bücher.test", "user@xn--bcher-kva.test", "USER@BÜCHER.TEST", "user@Xn--Bcher-Kva.Test", "user@bu\u0308cher.test"},
		{"a@example.com", "A@EXAMPLE.COM"},
		{"jose@x.test"},
		{"user@bucher.test"},
	}
	seen := map[string]int{}
	for gi, g := range groups {
		for _, s := range g {
			a, err := Parse(s)
			if err != nil {
				t.Fatalf("Parse(%q): %v", s, err)
			}
			k := a.Key()
			if prev, ok := seen[k]; ok && prev != gi {
				t.Errorf("%q has the key %q of group %d, want group %d", s, k, prev, gi)
			}
			seen[k] = gi
		}
	}
	if len(seen) != len(groups) {
		t.Errorf("%d distinct keys for %d mailboxes: %v", len(seen), len(groups), seen)
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 100) + "\x01@example.com"
	_, err := Parse(long)
	if err == nil {
		t.Fatal("Parse accepted a control character")
	}
	msg := err.Error()
	if !strings.Contains(msg, strings.Repeat("é", 60)+"…\" holds the control character U+0001") {
		t.Errorf("error = %q, want the input shortened to 60 characters", msg)
	}
	_, err = Parse("a@xn--zz.test")
	var ae *Error
	if !errors.As(err, &ae) || ae.Err == nil || errors.Unwrap(err) != ae.Err {
		t.Errorf("IDNA error not wrapped: %#v", err)
	}
}

func TestZero(t *testing.T) {
	t.Parallel()
	var a Address
	if !a.IsZero() || a.String() != "" || a.ASCII() != "" || a.Key() != "" || a.NeedsSMTPUTF8() {
		t.Errorf("zero Address = %q %q %q", a.String(), a.ASCII(), a.Key())
	}
}

// FuzzParse checks what Parse promises for any input: no panic; errors are
// *Error without control characters; a parsed address parses again, from
// any of its forms, to the same key (normalisation is idempotent); the
// envelope form is ASCII after @ and within the length limits.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"a@example.com", "jose\u0301@x.test", "user@xn--bcher-kva.test", "USER@BÜCHER.TEST",
		"用户@例子。广告", "a@exam\u00adple.com", "a@example.com.", "a@xn--.test", "\"q\"@x.test",
		"a\x00@x.test", "a@[1.2.3.4]", "a\u037e@x.test", "Ǆ@x.test", "İ@x.test",
		"a@ab--cd.test", "a@xn--bcher-kva.xn--a.test", "a@EXAMPLE.COM", "a@a-b.c-d.test",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("Parse(%q) error %T, want *Error", s, err)
			}
			if i := strings.IndexFunc(err.Error(), unicode.IsControl); i >= 0 {
				t.Fatalf("Parse(%q) error %q holds a control character", s, err)
			}
			return
		}
		if a.IsZero() {
			t.Fatalf("Parse(%q) returned the zero Address without error", s)
		}
		if len(a.ASCII()) > maxAddress || len(a.Local()) > maxLocal {
			t.Fatalf("Parse(%q) = %q, longer than allowed", s, a.ASCII())
		}
		if !isASCII(a.ASCIIDomain()) {
			t.Fatalf("Parse(%q).ASCIIDomain() = %q, not ASCII", s, a.ASCIIDomain())
		}
		// The fast path for plain ASCII domains agrees with IDNA.
		in := s[strings.LastIndexByte(s, '@')+1:]
		for _, d := range []string{in, a.Domain()} {
			if got, err := idna.Lookup.ToASCII(d); err != nil || got != a.ASCIIDomain() {
				t.Fatalf("Parse(%q): IDNA gives %q (%v) for %q, ASCIIDomain is %q", s, got, err, d, a.ASCIIDomain())
			}
		}
		if u, err := idna.Lookup.ToUnicode(a.ASCIIDomain()); err != nil || u != a.Domain() {
			t.Fatalf("Parse(%q): IDNA gives %q (%v), Domain is %q", s, u, err, a.Domain())
		}
		if a.String() != a.Local()+"@"+a.Domain() || a.ASCII() != a.Local()+"@"+a.ASCIIDomain() {
			t.Fatalf("Parse(%q): String %q, ASCII %q do not match the parts", s, a.String(), a.ASCII())
		}
		for _, form := range []string{a.String(), a.ASCII(), a.Key()} {
			b, err := Parse(form)
			if err != nil {
				t.Fatalf("Parse(%q) = %q, but Parse(%q): %v", s, a, form, err)
			}
			if b.Key() != a.Key() {
				t.Fatalf("Parse(%q).Key() = %q, but Parse(%q).Key() = %q", s, a.Key(), form, b.Key())
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"ascii", "first.last@example.com"},
		{"ascii-upper", "First.Last@Example.COM"},
		{"idn", "jose\u0301@bücher.test"},
		{"punycode", "user@xn--bcher-kva.test"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a, err := Parse(bc.in)
				if err != nil {
					b.Fatal(err)
				}
				_ = a.Key()
			}
		})
	}
}
