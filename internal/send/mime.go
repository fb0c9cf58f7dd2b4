package send

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"mime"
	"mime/quotedprintable"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// The MIME form of a message is the one go-mail (v0.8.1) writes for it,
// byte for byte apart from the random multipart boundary and generated
// Message-ID (TestMIMEMatchesGoMail holds the two together). It is written
// here, into one reused buffer, because go-mail's general-purpose writer
// cost about 15 µs and 180 allocations per message, a fifth of the worker's
// CPU budget.

// maxHeaderLength is the line length at which header values are folded, as
// in go-mail.
const maxHeaderLength = 76

// headerCharset is the charset of RFC 2047 encoded words in headers.
const headerCharset = "UTF-8"

// newBoundary returns a random multipart boundary: 30 random bytes in hex,
// like mime/multipart's. It needs to be unique, not secret; math/rand/v2's
// generator is seeded from the operating system.
func newBoundary() string {
	var b [32]byte
	for i := 0; i < len(b); i += 8 {
		v := rand.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return hex.EncodeToString(b[:30])
}

var hostnameOnce = sync.OnceValue(func() string {
	h, err := hostname()
	if err != nil || h == "" {
		return "localhost.localdomain"
	}
	return h
})

// newMessageID returns a random Message-ID value (without brackets) of the
// form go-mail generates: 22 random letters and digits at the host name.
func newMessageID() string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b [22]byte
	for i := range b {
		b[i] = chars[rand.IntN(len(chars))]
	}
	return string(b[:]) + "@" + hostnameOnce()
}

// writeMIME writes p as a complete RFC 5322 message with CRLF line ends:
// headers (generic ones sorted by name, then From, To, Reply-To), then a
// multipart/alternative body with the given boundary when p has both a text
// and an HTML part, else a single part; parts are quoted-printable UTF-8.
func writeMIME(b *bytes.Buffer, p *prepared, boundary string) {
	id := p.messageID
	if id == "" {
		id = newMessageID()
	}
	gen := [...]Header{
		{"Date", p.date.Format(time.RFC1123Z)},
		{"MIME-Version", "1.0"},
		{"Message-ID", "<" + id + ">"},
		{"Subject", p.subject},
	}
	headers := append(gen[:], p.headers...)
	// Sorted by name; a repeated name keeps its last value (go-mail keeps
	// generic headers in a map).
	slices.SortStableFunc(headers, func(a, b Header) int { return strings.Compare(a.Name, b.Name) })
	for i, h := range headers {
		if i+1 < len(headers) && headers[i+1].Name == h.Name {
			continue
		}
		writeHeader(b, h.Name, mime.QEncoding.Encode(headerCharset, h.Value))
	}
	writeHeader(b, "From", p.from.String())
	writeHeader(b, "To", p.to.String())
	if p.replyTo != nil {
		writeHeader(b, "Reply-To", p.replyTo.String())
	}

	switch {
	case p.text != "" && p.html != "":
		b.WriteString("Content-Type: multipart/alternative;\r\n boundary=")
		b.WriteString(boundary)
		b.WriteString("\r\n\r\n--")
		b.WriteString(boundary)
		b.WriteString("\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n")
		writeQP(b, p.text)
		b.WriteString("\r\n--")
		b.WriteString(boundary)
		b.WriteString("\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n")
		writeQP(b, p.html)
		b.WriteString("\r\n--")
		b.WriteString(boundary)
		b.WriteString("--\r\n")
	case p.html != "":
		writeHeader(b, "Content-Transfer-Encoding", "quoted-printable")
		writeHeader(b, "Content-Type", "text/html; charset=UTF-8")
		b.WriteString("\r\n")
		writeQP(b, p.html)
	default:
		writeHeader(b, "Content-Transfer-Encoding", "quoted-printable")
		writeHeader(b, "Content-Type", "text/plain; charset=UTF-8")
		b.WriteString("\r\n")
		writeQP(b, p.text)
	}
}

var qpPool = sync.Pool{New: func() any { return new(qpWriter) }}

// qpWriter lets one quotedprintable.Writer be reused for many parts.
type qpWriter struct {
	qp    *quotedprintable.Writer
	fresh quotedprintable.Writer // qp's state when new, to reset it
	dst   *bytes.Buffer
}

func (w *qpWriter) Write(p []byte) (int, error) { return w.dst.Write(p) }

func writeQP(b *bytes.Buffer, s string) {
	w := qpPool.Get().(*qpWriter)
	w.dst = b
	if w.qp == nil {
		w.qp = quotedprintable.NewWriter(w)
		w.fresh = *w.qp
	}
	*w.qp = w.fresh
	// The writer only reads the bytes, so the string's memory can be shared
	// rather than copied. Writes into a bytes.Buffer do not fail.
	_, _ = w.qp.Write(unsafe.Slice(unsafe.StringData(s), len(s)))
	_ = w.qp.Close()
	w.dst = nil
	qpPool.Put(w)
}

// writeHeader writes "key: value\r\n", folding the value at spaces so that
// lines stay within maxHeaderLength, exactly as go-mail's msgWriter does.
func writeHeader(b *bytes.Buffer, key, value string) {
	start := b.Len()
	charLength := maxHeaderLength - 2 - len(key)
	b.WriteString(key)
	b.WriteString(": ")
	charLength -= 2
	folded := false
	for rest, more := value, true; more; {
		var word string
		word, rest, more = strings.Cut(rest, " ")
		if charLength-len(word) <= 1 {
			b.WriteString("\r\n ")
			charLength = maxHeaderLength - 3
			folded = true
		}
		b.WriteString(word)
		if more {
			b.WriteByte(' ')
			charLength--
		}
		charLength -= len(word)
	}
	if folded {
		line := bytes.ReplaceAll(b.Bytes()[start:], []byte(" \r\n"), []byte("\r\n"))
		b.Truncate(start)
		b.Write(line)
	}
	b.WriteString("\r\n")
}
