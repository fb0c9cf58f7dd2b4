package send

import (
	"bytes"
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/tidings-mail/tidings/internal/address"
)

// Header fields are written here, not by go-mail: go-mail folds only at
// spaces (a long token such as a 1,000-character name goes out as one line,
// which servers refuse above 998 bytes), its address formatting (net/mail's
// Address.String) leaves a literal "=?UTF-8?B?...?=" in a name for mail
// clients to decode, its List-Unsubscribe setters take the value as is (CR and
// LF included), and a long encoded Subject begins with a fold. Every value
// written here is data to show literally, never header syntax:
//
//   - every line is at most lineLen (78) characters where the value allows it
//     (an address, a Message-ID, the campaign's name in
//     X-Tidings-Campaign or a List-Unsubscribe URI cannot be split) and
//     never more than maxLineLen (998), RFC 5322 section 2.1.1;
//   - a value starts on its header line; folds go only before a token;
//   - text that is not plain printable ASCII, that contains "=?" (which a
//     decoder would take for an encoded-word), that has a token too long
//     for a line or white space other than single spaces between words
//     (which unfolding and parsing would not keep: a run of spaces, a
//     no-break space) is written as RFC 2047 encoded-words, each at most 75
//     characters, Q or B, whichever is shorter, which carry every
//     character as it is;
//   - values are cleaned of control characters (CR and LF included) before
//     they get here (clean), so no value can start a header of its own.

const (
	// lineLen is the line length RFC 5322 asks for (SHOULD, without CRLF).
	lineLen = 78
	// maxLineLen is the line length RFC 5322 requires (MUST, without CRLF).
	maxLineLen = 998
	// maxWordLen is the longest encoded-word RFC 2047 allows.
	maxWordLen = 75
)

// fieldWriter writes header fields into a buffer, folding between tokens.
type fieldWriter struct {
	b   *bytes.Buffer
	col int  // length of the current line
	any bool // a token is on the current field's current line
}

// start begins the field name.
func (w *fieldWriter) start(name string) {
	w.b.WriteString(name)
	w.b.WriteByte(':')
	w.col, w.any = len(name)+1, false
}

// firstBudget is the room for the first token on the header line of the
// field being written.
func (w *fieldWriter) firstBudget() int { return lineLen - w.col - 1 }

// token writes one token of the value, preceded by a space, on the current
// line when it fits there and on a new (folded) line otherwise. The first
// token of a field always stays on the header line.
func (w *fieldWriter) token(tok string) {
	w.space(len(tok))
	w.b.WriteString(tok)
}

// bracketed writes the token "<" + tok + ">" without making it.
func (w *fieldWriter) bracketed(tok string) {
	w.space(len(tok) + 2)
	w.b.WriteByte('<')
	w.b.WriteString(tok)
	w.b.WriteByte('>')
}

// space folds if a token of n characters does not fit on the current line,
// writes the space before it and counts it; the caller writes the token.
func (w *fieldWriter) space(n int) {
	if w.any && w.col+1+n > lineLen {
		w.b.WriteString("\r\n")
		w.col = 0
	}
	w.b.WriteByte(' ')
	w.col += 1 + n
	w.any = true
}

// end ends the field.
func (w *fieldWriter) end() { w.b.WriteString("\r\n") }

// raw writes a field whose value is known to be one short ASCII token or
// fixed text (Date, Message-ID, MIME-Version).
func (w *fieldWriter) raw(name, value string) {
	w.start(name)
	w.token(value)
	w.end()
}

// text writes an unstructured field (RFC 5322 3.2.5: Subject, Content-
// Language, X- fields) with the cleaned value v.
func (w *fieldWriter) text(name, v string) {
	w.start(name)
	if plainFits(v, w.firstBudget()) {
		w.tokens(v)
	} else {
		w.encodedWords(v)
	}
	w.end()
}

// tokens writes v's space-separated words as tokens.
func (w *fieldWriter) tokens(v string) {
	for v != "" {
		tok, rest, _ := strings.Cut(v, " ")
		if tok != "" {
			w.token(tok)
		}
		v = rest
	}
}

// mailbox writes an address field: the cleaned display name of mb
// (omitted when empty) and its address in angle brackets (mb.bracketed).
func (w *fieldWriter) mailbox(field string, mb mailbox) {
	w.start(field)
	switch name := mb.name; {
	case name == "":
	case isPrintableASCII(name) && !strings.Contains(name, "=?"):
		// A quoted-string: FWS may fold it at its spaces (RFC 5322 3.2.4).
		if !strings.ContainsAny(name, `"\`) {
			// The usual name, quoted as it is: written without making
			// the quoted string.
			if quotedFits(name, w.firstBudget()) {
				w.quotedTokens(name)
				break
			}
			w.encodedWords(name)
			break
		}
		q := quote(name)
		if plainFits(q, w.firstBudget()) {
			w.tokens(q)
			break
		}
		w.encodedWords(name)
	default:
		w.encodedWords(name)
	}
	w.bracketed(mb.bracketed)
	w.end()
}

// uris writes a List-Unsubscribe style field: URIs in angle brackets,
// separated by commas. The URIs must already be sanitised (see cleanURI).
// Folds go only between URIs: a URI longer than a line goes whole on the
// header line (the first) or on a continuation line of its own, longer
// than lineLen, since receivers that unsubscribe in one click (RFC 8058)
// keep a fold inside the brackets as a space in the URL, although RFC 2369
// section 2 says to drop it. Only a URI longer than maxLineLen allows is
// folded inside its brackets.
func (w *fieldWriter) uris(name string, uris []string) {
	w.start(name)
	for i, u := range uris {
		comma := i < len(uris)-1
		if n := len(u) + 2 + b2i(comma); n <= w.room(n) || w.fitsLongLine(n) {
			// The usual case, the token "<" + u + ">" (and its comma) in one
			// piece, written without making it (space folds before it when
			// it is not the first and does not fit on the current line).
			w.space(n)
			w.b.WriteByte('<')
			w.b.WriteString(u)
			w.b.WriteByte('>')
			if comma {
				w.b.WriteByte(',')
			}
			continue
		}
		tok := "<" + u + ">"
		if comma {
			tok += ","
		}
		for tok != "" {
			n := min(len(tok), w.room(len(tok)))
			w.token(tok[:n])
			tok = tok[n:]
		}
	}
	w.end()
}

// fitsLongLine reports whether a token of n characters fits whole, within
// maxLineLen, on the header line when it is the field's first, else on a
// continuation line of its own (where space puts it when it does not fit
// on the current line).
func (w *fieldWriter) fitsLongLine(n int) bool {
	if !w.any {
		return w.col+1+n <= maxLineLen
	}
	return 1+n <= maxLineLen
}

// room is how much of a token of n characters uris writes as one piece:
// the room on the header line for the field's first, n when it fits on the
// current line, else a whole line.
func (w *fieldWriter) room(n int) int {
	switch {
	case !w.any:
		return max(w.firstBudget(), 1)
	case w.col+1+n <= lineLen:
		return n
	}
	return lineLen - 1
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// plainFits reports whether v (cleaned: no white space at either end) can
// be written as it is: printable ASCII without "=?", words separated by
// single spaces (a parser reads a run of white space, a fold included, as
// one space), the first word within first characters and every other within
// a line.
func plainFits(v string, first int) bool {
	if !isPrintableASCII(v) || strings.Contains(v, "=?") || strings.Contains(v, "  ") {
		return false
	}
	budget := first
	for v != "" {
		tok, rest, _ := strings.Cut(v, " ")
		if len(tok) > budget {
			return false
		}
		budget = lineLen - 1
		v = rest
	}
	return true
}

// quotedFits is plainFits(`"` + v + `"`, first) for a v without '"' and
// '\\', without making the quoted string.
func quotedFits(v string, first int) bool {
	if !isPrintableASCII(v) || strings.Contains(v, "=?") || strings.Contains(v, "  ") {
		return false
	}
	budget, open := first, 1
	for {
		tok, rest, more := strings.Cut(v, " ")
		if len(tok)+open+b2i(!more) > budget {
			return false
		}
		if !more {
			return true
		}
		budget, open, v = lineLen-1, 0, rest
	}
}

// quotedTokens is tokens(`"` + v + `"`) for a v without '"' and '\\', without
// making the quoted string.
func (w *fieldWriter) quotedTokens(v string) {
	open := 1
	for {
		tok, rest, more := strings.Cut(v, " ")
		if n := len(tok) + open + b2i(!more); n > 0 {
			w.space(n)
			if open == 1 {
				w.b.WriteByte('"')
			}
			w.b.WriteString(tok)
			if !more {
				w.b.WriteByte('"')
			}
		}
		if !more {
			return
		}
		open, v = 0, rest
	}
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// quote returns s as an RFC 5322 quoted-string.
func quote(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return `"` + s + `"`
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// qSafe reports whether b stands for itself in a Q encoded-word anywhere,
// display names included (RFC 2047 section 5 (3)).
func qSafe(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
		b == '!' || b == '*' || b == '+' || b == '-' || b == '/'
}

// qLen is the length of b in a Q encoded-word: a space is "_", an unsafe
// byte "=XX".
func qLen(b byte) int {
	if qSafe(b) || b == ' ' {
		return 1
	}
	return 3
}

const (
	wordPrefixQ = "=?UTF-8?Q?"
	wordPrefixB = "=?UTF-8?B?"
	wordSuffix  = "?="
	wordExtra   = len(wordPrefixQ) + len(wordSuffix)
)

// encodedWords writes the whole of v as RFC 2047 encoded-words in UTF-8, each
// at most maxWordLen characters and the first sized to fit on the header
// line. Q is used when it is shorter than B (mostly Latin text), else B.
// Words break only between characters; decoders join adjacent encoded-words
// and drop the white space between them.
func (w *fieldWriter) encodedWords(v string) {
	q := 0
	for i := 0; i < len(v); i++ {
		q += qLen(v[i])
	}
	useQ := q <= (len(v)+2)/3*4
	room := min(maxWordLen, w.firstBudget()) - wordExtra
	valid := utf8.ValidString(v)
	for v != "" {
		n, size := wordLen(v, room, useQ, valid)
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
			var in [48]byte
			src := in[:copy(in[:], v[:n])]
			if n > len(in) {
				src = []byte(v[:n]) // not reached: room holds at most 45 bytes
			}
			w.b.Write(base64.StdEncoding.AppendEncode(w.b.AvailableBuffer(), src))
		}
		w.b.WriteString(wordSuffix)
		v = v[n:]
		room = maxWordLen - wordExtra
	}
}

// wordLen returns how many bytes of v the next encoded-word takes, as many
// whole characters as fit in room encoded characters (at least one), and
// their encoded size, in Q (useQ) or B. For valid UTF-8 (valid; clean makes
// every header value so) it finds the characters' ends from the bytes
// alone: where a character starts (utf8.RuneStart) one ends, and B's size
// depends only on the byte count, so B takes the most bytes that fit and
// steps back to a character's start. Anything else is sized by
// wordLenRunes, which decodes each character; FuzzWordLen checks the two
// agree.
func wordLen(v string, room int, useQ, valid bool) (n, size int) {
	if !valid {
		return wordLenRunes(v, room, useQ)
	}
	if !useQ {
		n = room / 4 * 3 // the most bytes (n+2)/3*4 <= room allows
		if n >= len(v) {
			return len(v), (len(v) + 2) / 3 * 4
		}
		for n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		if n == 0 { // the first character alone does not fit: it goes anyway
			_, n = utf8.DecodeRuneInString(v)
		}
		return n, (n + 2) / 3 * 4
	}
	s := 0 // the size of v[:i]
	for i := 0; i < len(v); i++ {
		if i > 0 && utf8.RuneStart(v[i]) { // a character ends at i
			if s > room && n > 0 {
				return n, size
			}
			n, size = i, s
		}
		s += qLen(v[i])
	}
	if s > room && n > 0 {
		return n, size
	}
	return len(v), s
}

// wordLenRunes is wordLen for any string: it decodes each character
// (utf8.DecodeRuneInString, which takes an invalid byte as one).
func wordLenRunes(v string, room int, useQ bool) (n, size int) {
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
	return n, size
}

const upperHex = "0123456789ABCDEF"

// bracketAddr returns addr as it is written between angle brackets: addr
// itself, with a local part that is not a dot-atom quoted (RFC 5322
// 3.4.1), as net/mail does. The brackets are the writers' (bracketed,
// transact), so an address of dot-atoms costs no allocation.
func bracketAddr(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	local := addr[:at]
	if address.IsDotAtom(local) {
		return addr
	}
	return quote(local) + addr[at:]
}
