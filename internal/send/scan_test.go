package send

import (
	"bytes"
	"strings"
	"testing"
)

// TestIsASCIIFast puts one byte >= 0x80 at every position of strings of
// every length up to 100 (every offset in and after the blocks of 32 and
// 8 bytes isASCIIFast tests at once) and checks it agrees with isASCII.
func TestIsASCIIFast(t *testing.T) {
	t.Parallel()
	for n := range 101 {
		plain := strings.Repeat("a\n", n)[:n]
		if !isASCIIFast(plain) {
			t.Errorf("%d ASCII bytes: isASCIIFast says not ASCII", n)
		}
		for i := range n {
			for _, c := range []byte{0x80, 0xc3, 0xff} {
				s := plain[:i] + string([]byte{c}) + plain[i+1:]
				if got, want := isASCIIFast(s), isASCII(s); got != want {
					t.Errorf("length %d, %#x at %d: isASCIIFast %v, isASCII %v", n, c, i, got, want)
				}
			}
		}
	}
}

// TestWriteCanonical checks writeCanonical against canonical (every CRLF,
// lone LF and lone CR a CRLF) after text already in the buffer, for texts
// with each kind of line break at the start, the middle and the end.
func TestWriteCanonical(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"", "a", "\n", "\r", "\r\n", "\n\n", "\r\r", "\r\n\r\n", "\n\r",
		"line\nline\n", "line\r\nline\r\n", "cr\ralone\r", "no break at the end",
		"\nleading\nbreaks", "mixed\r\n\nand\r\rend\n", strings.Repeat("語\n", 300),
		"ends in CR\r", strings.Repeat("x", 5000) + "\n" + strings.Repeat("y", 3000),
	} {
		var b bytes.Buffer
		b.WriteString("head\r\n")
		writeCanonical(&b, s, scanText(s))
		if got, want := b.String(), "head\r\n"+canonical(s); got != want {
			t.Errorf("%q: got %q, want %q", s, got, want)
		}
	}
}

// TestWritePartOnePass checks writePart, which writes text with LF line
// breaks as 7bit or 8bit in one pass, against writePartScanned, which
// measures the text first: the same bytes and the same report of 8bit,
// for a server with and without 8BITMIME, for texts that take the one
// pass and texts that leave it midway (a line over 998 bytes after short
// ones) or never take it (CR, NUL, 8-bit text without 8BITMIME).
func TestWritePartOnePass(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", maxLineLen)
	for _, s := range []string{
		"", "a", "\n", "\n\n", "Hello,\nplease re-register.\n", "no break at the end",
		"Grüße\naus Zürich\n", strings.Repeat("語\n", 300), strings.Repeat("a", 20) + "\n" + strings.Repeat("b\n", 100),
		long, long + "\n" + long, long + "x", "short\n" + long + "y\nshort", "short\n" + long + "é",
		"cr\r\nlf\n", "bare\rcr", "nul\x00\n", ".dot\n..two\n", "=?UTF-8?Q?x?=\n",
	} {
		for _, eightBit := range []bool{true, false} {
			c := capability{eightBit: eightBit}
			var got, want bytes.Buffer
			got.WriteString("head\r\n")
			want.WriteString("head\r\n")
			gotUsed := writePart(&got, "text/plain; charset=UTF-8", s, c).eightBit
			wantUsed := writePartScanned(&want, "text/plain; charset=UTF-8", s, c).eightBit
			if got.String() != want.String() || gotUsed != wantUsed {
				t.Errorf("%.40q 8BITMIME %v: got 8bit %v %.200q,\nwant 8bit %v %.200q", s, eightBit, gotUsed, got.String(), wantUsed, want.String())
			}
		}
	}
}

// TestBoundaryFold checks the multipart Content-Type field's boundary
// parameter stays on the field's line while the line fits in 78
// characters and is folded onto the next when it does not: a boundary of
// up to 32 characters fits after "Content-Type: multipart/alternative;".
func TestBoundaryFold(t *testing.T) {
	t.Parallel()
	for _, n := range []int{8, 32, 33, 41, 60} {
		p, err := prepare(&Message{From: "a@altea.example", To: "b@example.org", Text: "t", HTML: "h", MessageID: "c.1@altea.example"})
		if err != nil {
			t.Fatal(err)
		}
		boundary := strings.Repeat("b", n)
		var b bytes.Buffer
		writeMessage(&b, &p, capability{}, []byte(boundary))
		oneLine := strings.Contains(b.String(), "Content-Type: multipart/alternative; boundary="+boundary+"\r\n")
		folded := strings.Contains(b.String(), "Content-Type: multipart/alternative;\r\n boundary="+boundary+"\r\n")
		if oneLine != (n <= 32) || folded != (n > 32) {
			t.Errorf("boundary of %d: on the field's line %v, folded %v", n, oneLine, folded)
		}
	}
}
