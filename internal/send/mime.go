package send

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"mime/quotedprintable"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The MIME form of a message is written here, with the standard library's
// quoted-printable and base64 encoders, rather than by go-mail's Msg.WriteTo,
// for one measured reason: CPU. BenchmarkBuild (the bench's six-language
// messages, about 3.6 KB of text and HTML each; medians of 5 interleaved
// runs on the 2-core development machine, CPU time from getrusage) took
// 8.9 µs and 19 allocations per message here with 8bit bodies, and 40-44 µs
// and 169 allocations with go-mail v0.8.1 in the same run (8bit, bodies
// handed over without a copy), 77-85 µs with its default quoted-printable.
// The worker's whole budget is 1.5 times a bare pipelined sender's CPU per
// message (issue 13), and the bare sender's messages are already built, so
// 30-35 µs more per message is most of that margin. go-mail is used for what
// it does well here, dialling and authenticating (see Pool); BenchmarkBuild
// keeps the comparison runnable should go-mail get faster. Header fields are
// written by header.go, for reasons of correctness given there.
//
// The writer claims no byte-identity with go-mail; tests check what matters
// instead: every line within RFC 5322's limits, the message parses and
// decodes back to the input with net/mail, mime and mime/multipart, and the
// transfer encoding of each part is the smallest correct one (golden files
// in testdata/golden show the exact bytes).

// capability is what the connection a message goes over can carry.
type capability struct {
	eightBit bool // the server offers 8BITMIME (RFC 6152)
}

// emlCapability is the form of .eml files: previews and rehearsals show what
// a server without 8BITMIME would receive, which any mail program reads.
var emlCapability = capability{}

// transfer is a Content-Transfer-Encoding.
type transfer uint8

const (
	transfer7bit transfer = iota
	transfer8bit
	transferQP
	transferBase64
)

func (t transfer) String() string {
	switch t {
	case transfer7bit:
		return "7bit"
	case transfer8bit:
		return "8bit"
	case transferQP:
		return "quoted-printable"
	default:
		return "base64"
	}
}

// newBoundary returns a random multipart boundary: 30 random bytes in hex,
// like mime/multipart's. It needs to be unique, not secret; math/rand/v2's
// generator is seeded from the operating system. It is an array, not a
// string, so that it costs no allocation: writeMessage writes its bytes.
func newBoundary() [60]byte {
	return boundaryOf([4]uint64{rand.Uint64(), rand.Uint64(), rand.Uint64(), rand.Uint64()})
}

// boundaryOf returns the first 30 bytes of v, each word little-endian, in
// lower-case hex, written straight from the words: 853 instructions a
// call against 1,328 for laying the bytes out and hex.Encode.
func boundaryOf(v [4]uint64) [60]byte {
	const digits = "0123456789abcdef"
	var x [64]byte
	for w, u := range v {
		o := x[w*16 : w*16+16]
		for j := 0; j < 16; j += 2 {
			o[j], o[j+1] = digits[u>>4&0x0f], digits[u&0x0f]
			u >>= 8
		}
	}
	return [60]byte(x[:60])
}

var hostnameOnce = sync.OnceValue(func() string {
	h, err := hostname()
	if err != nil || h == "" {
		return "localhost.localdomain"
	}
	return h
})

// newMessageID returns a random Message-ID value (without brackets): 22
// random letters and digits at the host name.
func newMessageID() string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b [22]byte
	for i := range b {
		b[i] = chars[rand.IntN(len(chars))]
	}
	return string(b[:]) + "@" + hostnameOnce()
}

// writeMessage writes p as a complete RFC 5322 message with CRLF line ends,
// for a connection with capability c: the header, then a multipart/
// alternative body with the given boundary when p has both a text and an
// HTML part, else a single part. Each part is UTF-8 in the smallest correct
// transfer encoding (see chooseTransfer). It reports whether a part went
// out as 8bit, which MAIL FROM must declare with BODY=8BITMIME, and whether
// a line may start with "." (see written).
func writeMessage(b *bytes.Buffer, p *prepared, c capability, boundary []byte) written {
	id := p.messageID
	if id == "" {
		id = newMessageID()
	}
	w := fieldWriter{b: b}
	w.raw("Date", formatDate(p.date))
	w.mailbox("From", p.from)
	if p.replyTo.addr != "" {
		w.mailbox("Reply-To", p.replyTo)
	}
	w.mailbox("To", p.to)
	b.Write(p.subjectField)
	w.start("Message-ID")
	w.bracketed(id)
	w.end()
	var dotField bool // a field's name starts with "."
	for _, h := range p.headers {
		dotField = dotField || h.Name[0] == '.'
		if strings.EqualFold(h.Name, campaignHeader) && isToken(h.Value) {
			// An identifier tools match as text (a campaign name is up to
			// 63 of [a-z0-9-]): as it is, never as encoded-words.
			w.raw(h.Name, h.Value)
			continue
		}
		w.text(h.Name, h.Value)
	}
	if len(p.unsubscribe) > 0 {
		w.uris("List-Unsubscribe", p.unsubscribe)
		if p.oneClick {
			w.raw("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
		}
	}
	w.raw("MIME-Version", "1.0")

	if p.text == "" || p.html == "" {
		contentType, body := "text/plain; charset=UTF-8", p.text
		if p.html != "" {
			contentType, body = "text/html; charset=UTF-8", p.html
		}
		wr := writePart(b, contentType, body, c)
		wr.dotLine = wr.dotLine || dotField
		return wr
	}
	w.start("Content-Type")
	w.token("multipart/alternative;")
	w.space(len("boundary=") + len(boundary))
	w.b.WriteString("boundary=")
	w.b.Write(boundary)
	w.end()
	b.WriteString("\r\n--")
	b.Write(boundary)
	b.WriteString("\r\n")
	text := writePart(b, "text/plain; charset=UTF-8", p.text, c)
	b.WriteString("\r\n--")
	b.Write(boundary)
	b.WriteString("\r\n")
	html := writePart(b, "text/html; charset=UTF-8", p.html, c)
	b.WriteString("\r\n--")
	b.Write(boundary)
	b.WriteString("--\r\n")
	return written{eightBit: text.eightBit || html.eightBit, dotLine: text.dotLine || html.dotLine || dotField}
}

// written is what writeMessage and writePart report of what they wrote.
type written struct {
	eightBit bool // a part went out as 8bit
	// dotLine is set when a line may start with ".", which SMTP's DATA must
	// double (dataOf). Unset, none does: every line writeMessage writes
	// starts with a field name, a space (a folded field), "--" (a
	// boundary) or is empty, but for a field name starting with "." and
	// the parts' text, which writeLines checks line by line and the other
	// writers (quoted-printable, text with CR or NUL) do not.
	dotLine bool
}

// dateCache is the Date field last formatted: messages sent in the same
// second have the same one.
var dateCache atomic.Pointer[formattedDate]

type formattedDate struct {
	sec  int64          // t.Unix()
	loc  *time.Location // t.Location()
	text string         // t.Format(time.RFC1123Z)
}

// formatDate returns t.Format(time.RFC1123Z), which depends only on t's
// second and its location (a *time.Location does not change once used),
// from the cache when the last date formatted had both.
func formatDate(t time.Time) string {
	sec, loc := t.Unix(), t.Location()
	if d := dateCache.Load(); d != nil && d.sec == sec && d.loc == loc {
		return d.text
	}
	text := t.Format(time.RFC1123Z)
	dateCache.Store(&formattedDate{sec: sec, loc: loc, text: text})
	return text
}

// writePart writes the Content-Type and Content-Transfer-Encoding fields, a
// blank line and s in the transfer encoding chooseTransfer picks. Rendered
// text (LF line breaks, no NUL) that can go as 7bit or 8bit is written in
// one pass (writeLines); anything else is measured first
// (writePartScanned).
func writePart(b *bytes.Buffer, contentType, s string, c capability) written {
	if wr, ok := writeLines(b, contentType, s, c); ok {
		return wr
	}
	return writePartScanned(b, contentType, s, c)
}

// writeLines writes the part as 7bit (ASCII) or 8bit (other text, when the
// server offers 8BITMIME) when s has no CR and no NUL, copying its lines
// with CRLF line breaks as it finds them, and reports ok. A line longer
// than maxLineLen makes it remove what it wrote and report !ok: such text
// is not 7bit or 8bit (chooseTransfer). This is writePartScanned's choice
// and bytes (TestWritePartOnePass) with one pass over the lines instead of
// two (scanText's, then writeCanonical's); it notes whether a line starts
// with ".".
func writeLines(b *bytes.Buffer, contentType, s string, c capability) (wr written, ok bool) {
	ascii := isASCIIFast(s)
	if !ascii && !c.eightBit || strings.IndexByte(s, '\r') >= 0 || strings.IndexByte(s, 0) >= 0 {
		return wr, false
	}
	t := transfer7bit
	if !ascii {
		t = transfer8bit
	}
	mark := b.Len()
	writePartHeader(b, contentType, t)
	b.Grow(len(s) + len(s)/8 + 2) // room for a CR per 8 bytes: no append below grows for common text
	out := b.AvailableBuffer()
	for {
		i := strings.IndexByte(s, '\n')
		line := s
		if i >= 0 {
			line = s[:i]
		}
		if len(line) > maxLineLen {
			b.Truncate(mark)
			return written{}, false
		}
		if len(line) > 0 && line[0] == '.' {
			wr.dotLine = true
		}
		out = append(out, line...)
		if i < 0 {
			break
		}
		out = append(out, '\r', '\n')
		s = s[i+1:]
	}
	b.Write(out) // in place unless an append grew out elsewhere
	wr.eightBit = t == transfer8bit
	return wr, true
}

// writePartHeader writes the part's Content-Type and
// Content-Transfer-Encoding fields and the blank line after them.
func writePartHeader(b *bytes.Buffer, contentType string, t transfer) {
	b.WriteString("Content-Type: ")
	b.WriteString(contentType)
	b.WriteString("\r\nContent-Transfer-Encoding: ")
	b.WriteString(t.String())
	b.WriteString("\r\n\r\n")
}

// writePartScanned is writePart for any text: scanText measures it, then
// it is written in the transfer encoding chooseTransfer picks. Whether a
// line starts with "." it leaves to dataOf.
func writePartScanned(b *bytes.Buffer, contentType, s string, c capability) written {
	st := scanText(s)
	t := chooseTransfer(st, c)
	var qp *bytes.Buffer
	if t == transferQP {
		// The smaller of quoted-printable and base64: encode as
		// quoted-printable unless even its lower bound loses, then compare.
		if len(s)+2*qpEscapes(s) > base64Len(st.canonicalLen(s)) {
			t = transferBase64
		} else {
			qp = getBuffer()
			defer putBuffer(qp)
			if st.cr && st.bare > 0 {
				// quotedprintable.Writer takes a CR, an encoded byte and
				// an LF for one line break: give it CRLFs only.
				c := getBuffer()
				defer putBuffer(c)
				writeCanonical(c, s, st)
				writeQP(qp, c.Bytes())
			} else {
				writeQP(qp, s)
			}
			if qp.Len() > base64Len(st.canonicalLen(s)) {
				t = transferBase64
			}
		}
	}
	writePartHeader(b, contentType, t)
	switch t {
	case transfer7bit, transfer8bit:
		writeCanonical(b, s, st)
	case transferQP:
		b.Write(qp.Bytes())
	case transferBase64:
		writeBase64(b, s, st)
	}
	return written{eightBit: t == transfer8bit, dotLine: t != transferBase64}
}

// textStats describes a part's text for chooseTransfer.
type textStats struct {
	nonASCII bool // a byte >= 0x80
	nul      bool // a NUL byte, which no 7bit or 8bit text may hold
	longest  int  // the longest line in bytes, without its line break
	bare     int  // lone LFs and lone CRs: each becomes CRLF
	cr       bool // a CR, alone or in CRLF
}

// canonicalLen is the length of s with every line break as CRLF.
func (st textStats) canonicalLen(s string) int { return len(s) + st.bare }

// scanText measures s. Rendered text has LF line breaks only; for it the
// lines are found with strings.IndexByte, and the bytes are tested eight at
// a time.
func scanText(s string) textStats {
	st := textStats{nonASCII: !isASCIIFast(s), nul: strings.IndexByte(s, 0) >= 0}
	st.cr = strings.IndexByte(s, '\r') >= 0
	if !st.cr {
		for rest := s; ; {
			i := strings.IndexByte(rest, '\n')
			if i < 0 {
				st.longest = max(st.longest, len(rest))
				return st
			}
			st.longest = max(st.longest, i)
			st.bare++
			rest = rest[i+1:]
		}
	}
	line := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n':
			if i == 0 || s[i-1] != '\r' {
				st.bare++
			}
		case '\r':
			if i+1 == len(s) || s[i+1] != '\n' {
				st.bare++
			}
		default:
			line++
			continue
		}
		st.longest = max(st.longest, line)
		line = 0
	}
	st.longest = max(st.longest, line)
	return st
}

// isASCIIFast reports whether s is ASCII, testing 32 bytes at a time, then
// eight.
func isASCIIFast(s string) bool {
	const high = 0x8080808080808080
	i := 0
	for ; i+32 <= len(s); i += 32 {
		if (load64(s[i:i+8])|load64(s[i+8:i+16])|load64(s[i+16:i+24])|load64(s[i+24:i+32]))&high != 0 {
			return false
		}
	}
	for ; i+8 <= len(s); i += 8 {
		if load64(s[i:i+8])&high != 0 {
			return false
		}
	}
	return isASCII(s[i:])
}

// load64 returns the eight bytes of s (len(s) == 8), little-endian: one
// load once compiled.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// qpEscapes counts the bytes of s that quoted-printable always writes as
// =XX (three characters): all but printable ASCII other than "=", white
// space and line breaks.
func qpEscapes(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x7f || c == '=' || c < ' ' && c != '\t' && c != '\r' && c != '\n' {
			n++
		}
	}
	return n
}

// chooseTransfer picks the transfer encoding of a text part: 7bit for ASCII
// text whose lines fit in SMTP's 998 bytes; 8bit for other such text when
// the server offers 8BITMIME; else quoted-printable, which writePart turns
// into base64 when that is smaller.
func chooseTransfer(st textStats, c capability) transfer {
	fits := !st.nul && st.longest <= maxLineLen
	switch {
	case fits && !st.nonASCII:
		return transfer7bit
	case fits && c.eightBit:
		return transfer8bit
	default:
		return transferQP
	}
}

// writeCanonical writes s with every line break as CRLF. The buffer is
// grown once and the lines copied into it, rather than written with two
// WriteStrings each.
func writeCanonical(b *bytes.Buffer, s string, st textStats) {
	if st.bare == 0 {
		b.WriteString(s)
		return
	}
	b.Grow(len(s) + st.bare)
	out := b.AvailableBuffer() // room for all of it: no append below grows
	for {
		var i int
		if st.cr {
			i = strings.IndexAny(s, "\r\n")
		} else {
			i = strings.IndexByte(s, '\n') // the common case, and faster
		}
		if i < 0 {
			out = append(out, s...)
			break
		}
		out = append(append(out, s[:i]...), '\r', '\n')
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
	}
	b.Write(out) // out is the buffer's own free space: Write keeps it in place
}

// writeQP writes s quoted-printable (text mode: line breaks become CRLF).
func writeQP[T string | []byte](b *bytes.Buffer, s T) {
	w := quotedprintable.NewWriter(b)
	var chunk [512]byte
	for len(s) > 0 {
		n := copy(chunk[:], s)
		_, _ = w.Write(chunk[:n]) // writes into a bytes.Buffer do not fail
		s = s[n:]
	}
	_ = w.Close()
}

// base64LineLen is the length of a base64 body line (RFC 2045 6.8: at most
// 76); base64LineIn is the input it encodes.
const (
	base64LineLen = 76
	base64LineIn  = base64LineLen / 4 * 3
)

// base64Len is the length of n bytes in base64 with a CRLF after every line.
func base64Len(n int) int {
	enc := (n + 2) / 3 * 4
	return enc + (enc+base64LineLen-1)/base64LineLen*2
}

// writeBase64 writes s, its line breaks made CRLF, in base64 lines.
func writeBase64(b *bytes.Buffer, s string, st textStats) {
	if st.bare == 0 {
		base64Lines(b, s)
		return
	}
	c := getBuffer()
	defer putBuffer(c)
	writeCanonical(c, s, st)
	base64Lines(b, c.Bytes())
}

func base64Lines[T string | []byte](b *bytes.Buffer, src T) {
	var in [base64LineIn]byte
	var line [base64LineLen + 2]byte
	for len(src) > 0 {
		n := copy(in[:], src)
		m := base64.StdEncoding.EncodedLen(n)
		base64.StdEncoding.Encode(line[:], in[:n])
		line[m], line[m+1] = '\r', '\n'
		b.Write(line[:m+2])
		src = src[n:]
	}
}

// campaignHeader names the campaign a message belongs to.
const campaignHeader = "X-Tidings-Campaign"

// isToken reports whether v is one word of printable ASCII, no longer than
// a campaign's name, that no decoder takes for an encoded-word.
func isToken(v string) bool {
	return v != "" && len(v) <= 63 && isPrintableASCII(v) && !strings.ContainsAny(v, " ") && !strings.Contains(v, "=?")
}
