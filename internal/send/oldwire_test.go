package send

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tidings-mail/tidings/internal/address"
)

// The writer as it was at b31791d, before the cuts of the 2026-12-05
// morning (one-pass parts, dataOf, wordLen, bracketed, the 32-byte
// isASCIIFast), kept here as the reference FuzzWireAsBefore compares the
// writer with: a message's DATA bytes are the contract with every SMTP
// server, and a cut may only make them faster, never other. Only the
// functions the cuts changed are copied; the rest is the package's.

// oldFields is a fieldWriter whose encoded-words and mailboxes are
// written as before.
type oldFields struct{ *fieldWriter }

func (w oldFields) text(name, v string) {
	w.start(name)
	if plainFits(v, w.firstBudget()) {
		w.tokens(v)
	} else {
		w.encodedWords(v)
	}
	w.end()
}

func (w oldFields) mailbox(field, name, addr string) {
	w.start(field)
	switch {
	case name == "":
	case isPrintableASCII(name) && !strings.Contains(name, "=?"):
		q := quote(name)
		if plainFits(q, w.firstBudget()) {
			w.tokens(q)
			break
		}
		w.encodedWords(name)
	default:
		w.encodedWords(name)
	}
	w.token(angleAddr(addr))
	w.end()
}

// angleAddr is the mailbox's "<addr>" as it was made before bracketAddr:
// a local part that is not a dot-atom quoted, in its brackets.
func angleAddr(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	local := addr[:at]
	if address.IsDotAtom(local) {
		return "<" + addr + ">"
	}
	return "<" + quote(local) + addr[at:] + ">"
}

func (w oldFields) encodedWords(v string) {
	q := 0
	for i := 0; i < len(v); i++ {
		q += qLen(v[i])
	}
	useQ := q <= (len(v)+2)/3*4
	room := min(maxWordLen, w.firstBudget()) - wordExtra
	for v != "" {
		n, size := 0, 0
		for n < len(v) {
			_, rl := utf8.DecodeRuneInString(v[n:])
			s := size
			if useQ {
				for i := n; i < n+rl; i++ {
					s += qLen(v[i])
				}
			} else {
				s = (n + rl + 2) / 3 * 4
			}
			if s > room && n > 0 {
				break
			}
			n, size = n+rl, s
		}
		w.space(wordExtra + size)
		if useQ {
			w.b.WriteString(wordPrefixQ)
			for i := 0; i < n; i++ {
				switch c := v[i]; {
				case c == ' ':
					w.b.WriteByte('_')
				case qSafe(c):
					w.b.WriteByte(c)
				default:
					w.b.Write([]byte{'=', upperHex[c>>4], upperHex[c&0x0f]})
				}
			}
		} else {
			w.b.WriteString(wordPrefixB)
			w.b.WriteString(base64.StdEncoding.EncodeToString([]byte(v[:n])))
		}
		w.b.WriteString(wordSuffix)
		v = v[n:]
		room = maxWordLen - wordExtra
	}
}

// uris is the List-Unsubscribe writer as it was before its one-piece
// tokens were written without making them, with one change of contract
// since (red team 40): a URI that fits a line of maxLineLen is never
// split (TestListUnsubscribeURIIsWholeOnItsLine).
func (w oldFields) uris(name string, uris []string) {
	w.start(name)
	for i, u := range uris {
		tok := "<" + u + ">"
		if i < len(uris)-1 {
			tok += ","
		}
		if w.any && 1+len(tok) <= maxLineLen || !w.any && w.col+1+len(tok) <= maxLineLen {
			w.token(tok)
			continue
		}
		for tok != "" {
			room := lineLen - 1
			switch {
			case !w.any:
				room = max(w.firstBudget(), 1)
			case w.col+1+len(tok) <= lineLen:
				room = len(tok) // it fits on this line
			}
			n := min(len(tok), room)
			w.token(tok[:n])
			tok = tok[n:]
		}
	}
	w.end()
}

// oldWriteMessage is writeMessage as it was: it reported 8bit only.
func oldWriteMessage(b *bytes.Buffer, p *prepared, c capability, boundary string) (eightBit bool) {
	w := oldFields{&fieldWriter{b: b}}
	w.raw("Date", formatDate(p.date))
	w.mailbox("From", p.from.name, p.from.addr)
	if p.replyTo.addr != "" {
		w.mailbox("Reply-To", p.replyTo.name, p.replyTo.addr)
	}
	w.mailbox("To", p.to.name, p.to.addr)
	w.text("Subject", p.subject)
	w.raw("Message-ID", "<"+p.messageID+">")
	for _, h := range p.headers {
		if strings.EqualFold(h.Name, campaignHeader) && isToken(h.Value) {
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
		return oldWritePart(b, contentType, body, c)
	}
	w.start("Content-Type")
	w.token("multipart/alternative;")
	w.token("boundary=" + boundary)
	w.end()
	b.WriteString("\r\n--" + boundary + "\r\n")
	eightBit = oldWritePart(b, "text/plain; charset=UTF-8", p.text, c)
	b.WriteString("\r\n--" + boundary + "\r\n")
	eightBit = oldWritePart(b, "text/html; charset=UTF-8", p.html, c) || eightBit
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return eightBit
}

// oldWritePart is writePart as it was: scanned first (with the byte-wise
// ASCII test), written with the line-wise writeCanonical.
func oldWritePart(b *bytes.Buffer, contentType, s string, c capability) (eightBit bool) {
	st := scanText(s)
	st.nonASCII = !isASCII(s)
	t := chooseTransfer(st, c)
	var qp bytes.Buffer
	if t == transferQP {
		if len(s)+2*qpEscapes(s) > base64Len(st.canonicalLen(s)) {
			t = transferBase64
		} else {
			if st.cr && st.bare > 0 {
				var c bytes.Buffer
				oldWriteCanonical(&c, s, st)
				writeQP(&qp, c.Bytes())
			} else {
				writeQP(&qp, s)
			}
			if qp.Len() > base64Len(st.canonicalLen(s)) {
				t = transferBase64
			}
		}
	}
	b.WriteString("Content-Type: " + contentType + "\r\nContent-Transfer-Encoding: " + t.String() + "\r\n\r\n")
	switch t {
	case transfer7bit, transfer8bit:
		oldWriteCanonical(b, s, st)
	case transferQP:
		b.Write(qp.Bytes())
	case transferBase64:
		writeBase64(b, s, st)
	}
	return t == transfer8bit
}

func oldWriteCanonical(b *bytes.Buffer, s string, st textStats) {
	for {
		var i int
		if st.cr {
			i = strings.IndexAny(s, "\r\n")
		} else {
			i = strings.IndexByte(s, '\n')
		}
		if i < 0 {
			b.WriteString(s)
			return
		}
		b.WriteString(s[:i])
		b.WriteString("\r\n")
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
	}
}

// oldData is what SendChecked gave the server before dataOf: the message
// through the dotStuffer.
func oldData(raw []byte) []byte {
	var d dotStuffer
	d.reset()
	_, _ = d.Write(raw)
	return d.finish()
}

// FuzzWireAsBefore is the differential check of the cuts: for messages
// made of random display names, subject, header field, text and HTML, for
// servers with and without 8BITMIME, the writer now (writeMessage, then
// dataOf as SendChecked calls it) gives the very DATA bytes, and the same
// BODY=8BITMIME, that the writer of b31791d gave (oldWriteMessage through
// the dotStuffer). The seeds run with go test and hold what each cut
// treats apart: dots at line starts (and a field name starting with one),
// lines over 998 bytes, CR and NUL, 8-bit text, names and subjects as Q
// and B encoded-words of 1- to 4-byte characters and invalid UTF-8,
// quoted local parts (of From: a recipient's is bare), and a body with no line break at the end.
func FuzzWireAsBefore(f *testing.F) {
	long := strings.Repeat("x", 1000)
	for _, s := range []struct{ name, subject, field, text, html, from, to string }{
		{"Zoë Müller", "Willkommen zurück 🎉", "X-Note", "Hallo,\nbitte neu registrieren.\n", "<p>Hallo</p>", "Altea <community@altea.example>", "zoe@example.org"},
		{"", "plain subject", ".X-Dot", "text", "", "community@altea.example", "zoe@example.org"},
		{"O'Brien, \"Z\"", "【要対応】新しい Altea コミュニティへの再登録のお願い", "X-Note", ".dot\n..two\nend", "", `Z <"z x"@altea.example>`, "a.b+x@example.org"},
		{strings.Repeat("n", 200), strings.Repeat("é", 90), "X-Long", "a\n." + long + "\n.after", "<p>" + long + "</p>", "community@altea.example", "a.b@example.org"},
		{"bad \xff utf-8", "bad \xe3\x81 end", "X-Note", "cr\r\n.lf\rbare\x00nul", "\n.é", "community@altea.example", "zoe@example.org"},
		{"🎉🎉🎉", strings.Repeat("🎉", 30), "X-Note", strings.Repeat("語\n", 300), "no break at the end", "community@altea.example", "zoe@example.org"},
		{"x", "=?UTF-8?Q?x?= a_b=c?d", "X-Tidings-Campaign", "ends with a lone CR\r", "ends with CRLF\r\n", "community@altea.example", "zoe@example.org"},
		{"", "", "X-Note", "", "<p>html only</p>", "community@altea.example", "zoe@example.org"},
		// List-Unsubscribe: the field's value is the subject's; URIs that
		// fit a line, that end exactly at its end, that must be split.
		{"Ada Lovelace", "<https://altea.example/unsubscribe?id=u1>", "List-Unsubscribe", "t", "<p>h</p>", "Bench <bench@tidings.example>", "user0@bench.example"},
		{"Ada Lovelace", "<mailto:unsub@altea.example?subject=u1>, <https://altea.example/unsubscribe?id=u1&x=" + strings.Repeat("y", 11) + ">", "List-Unsubscribe", "t", "", "community@altea.example", "zoe@example.org"},
		{"Ada Lovelace", "<mailto:u@a.example>, <https://altea.example/" + strings.Repeat("p", 40) + ">, <https://altea.example/" + strings.Repeat("q", 100) + ">", "list-unsubscribe", "t", "", "community@altea.example", "zoe@example.org"},
		{"Ada Lovelace", "https://altea.example/" + strings.Repeat("r", 200), "List-Unsubscribe", "t", "", "community@altea.example", "zoe@example.org"},
		// Display names quoted as they are, around a line's length.
		{strings.Repeat("n", 59), "s", "X-Note", "t", "", `"` + strings.Repeat("m", 60) + `" <community@altea.example>`, "zoe@example.org"},
		{"a " + strings.Repeat("n", 76) + " b", "s", "X-Note", "t", "", "A  B <community@altea.example>", "zoe@example.org"},
	} {
		f.Add(s.name, s.subject, s.field, s.text, s.html, s.from, s.to, true)
		f.Add(s.name, s.subject, s.field, s.text, s.html, s.from, s.to, false)
	}
	f.Fuzz(func(t *testing.T, name, subject, field, text, html, from, to string, eightBit bool) {
		p, err := prepare(&Message{
			From: from, To: to, ToName: name,
			Subject: subject, Text: text, HTML: html, MessageID: "c.1@altea.example",
			Date:    time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC),
			Headers: []Header{{Name: field, Value: subject}},
		})
		if err != nil {
			t.Skip("not a message:", err.Error()) // made-up input prepare refuses
		}
		c := capability{eightBit: eightBit}
		var old bytes.Buffer
		oldEight := oldWriteMessage(&old, &p, c, "b0undary")
		want := oldData(old.Bytes())
		var raw bytes.Buffer
		wr := writeMessage(&raw, &p, c, []byte("b0undary"))
		d := getStuffer()
		defer putStuffer(d)
		if got := dataOf(&raw, wr.dotLine, d); !bytes.Equal(got, want) || wr.eightBit != oldEight {
			t.Errorf("name %q subject %q field %q text %q html %q from %q to %q 8BITMIME %v:\ngot  8bit %v %q\nwant 8bit %v %q",
				name, subject, field, text, html, from, to, eightBit, wr.eightBit, got, oldEight, want)
		}
	})
}
