package send

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// canonical is s with every line break (CRLF, lone LF, lone CR) as CRLF.
func canonical(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// decodePart undoes transfer encoding t.
func decodePart(t *testing.T, tr transfer, body []byte) string {
	t.Helper()
	switch tr {
	case transferQP:
		b, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil {
			t.Fatalf("decode quoted-printable: %v", err)
		}
		return string(b)
	case transferBase64:
		b, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(body), "\r\n", ""))
		if err != nil {
			t.Fatalf("decode base64: %v", err)
		}
		return string(b)
	}
	return string(body)
}

// writtenPart writes s with writePart and returns the encoding it chose and
// the body.
func writtenPart(t *testing.T, s string, eightBit bool) (transfer, []byte, bool) {
	t.Helper()
	var b bytes.Buffer
	used := writePart(&b, "text/plain; charset=UTF-8", s, capability{eightBit: eightBit}).eightBit
	head, body, ok := bytes.Cut(b.Bytes(), []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no blank line after the part header: %q", b.Bytes())
	}
	cte := string(head[bytes.LastIndex(head, []byte(": "))+2:])
	for _, tr := range []transfer{transfer7bit, transfer8bit, transferQP, transferBase64} {
		if tr.String() == cte {
			return tr, body, used
		}
	}
	t.Fatalf("unknown Content-Transfer-Encoding %q", cte)
	return 0, nil, false
}

// TestTransferEncoding: 7bit for ASCII text that fits SMTP's lines; 8bit
// when the server offers 8BITMIME and the lines fit; else the smaller of
// quoted-printable and base64. Every choice decodes to the text with CRLF
// line breaks, and no body line exceeds 998 characters.
func TestTransferEncoding(t *testing.T) {
	t.Parallel()
	mix := func(lang, ext string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "mix", lang+"."+ext))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name       string
		text       string
		with8bit   transfer // the server offers 8BITMIME
		without    transfer
		wantMarked bool // with 8BITMIME: the part needs BODY=8BITMIME
	}{
		{"ascii", "Hello,\nplease re-register.\n", transfer7bit, transfer7bit, false},
		{"ascii html", mix("en", "html"), transfer7bit, transfer7bit, false},
		{"german", mix("de", "txt"), transfer8bit, transferQP, true},
		{"french html", mix("fr", "html"), transfer8bit, transferQP, true},
		{"japanese", mix("ja", "txt"), transfer8bit, transferBase64, true},
		{"arabic", mix("ar", "txt"), transfer8bit, transferBase64, true},
		{"ascii line over 998", strings.Repeat("a", 999), transferQP, transferQP, false},
		{"latin line over 998", strings.Repeat("un café au lait, s'il vous plaît ", 40), transferQP, transferQP, false},
		{"dense latin", strings.Repeat("é", 600), transferBase64, transferBase64, false},
		{"cjk line over 998", strings.Repeat("語", 400), transferBase64, transferBase64, false},
		{"line of exactly 998", strings.Repeat("a", 998) + "\n", transfer7bit, transfer7bit, false},
		{"nul byte", "a\x00b", transferQP, transferQP, false},
		{"crlf and bare cr", "one\r\ntwo\rthree\nfour", transfer7bit, transfer7bit, false},
		{"empty", "", transfer7bit, transfer7bit, false},
		{"equals and trailing space", "a=b \nc\t\n", transfer7bit, transfer7bit, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, eightBit := range []bool{true, false} {
				want := tt.without
				if eightBit {
					want = tt.with8bit
				}
				got, body, marked := writtenPart(t, tt.text, eightBit)
				if got != want || marked != (eightBit && tt.wantMarked) {
					t.Errorf("8BITMIME %v: %s (8bit used %v), want %s", eightBit, got, marked, want)
				}
				if dec := decodePart(t, got, body); dec != canonical(tt.text) {
					t.Errorf("8BITMIME %v: %s decodes to %.60q, want %.60q", eightBit, got, dec, canonical(tt.text))
				}
				for _, l := range strings.Split(string(body), "\r\n") {
					if len(l) > maxLineLen {
						t.Errorf("8BITMIME %v: %s body line of %d characters", eightBit, got, len(l))
					}
				}
				if got == transferQP || got == transferBase64 {
					assertSmallest(t, tt.text, got, len(body))
				}
			}
		})
	}
}

// assertSmallest checks that the chosen encoding (n bytes) is no larger
// than the other, encoded with the standard library.
func assertSmallest(t *testing.T, s string, got transfer, n int) {
	t.Helper()
	var qp bytes.Buffer
	w := quotedprintable.NewWriter(&qp)
	// Canonical first: the writer takes CR, an encoded byte, LF for one
	// line break (see writePart).
	_, _ = w.Write([]byte(canonical(s)))
	_ = w.Close()
	b64 := base64.StdEncoding.EncodeToString([]byte(canonical(s)))
	b64n := len(b64) + (len(b64)+75)/76*2
	other := map[transfer]int{transferQP: b64n, transferBase64: qp.Len()}[got]
	if n > other {
		t.Errorf("%s is %d bytes, the other encoding %d", got, n, other)
	}
}
