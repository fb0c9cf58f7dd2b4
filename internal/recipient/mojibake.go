package recipient

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// mojibakeSeq is one sequence of a value that is a character written as
// UTF-8, read back as Windows-1252 and written as UTF-8 again: "Ã©" for é.
type mojibakeSeq struct {
	text string // the sequence as the value holds it, "Ã©"
	was  rune   // the character it was, é
	at   int    // its byte offset in the value
}

// firstMojibake returns the first mojibake sequence of v. It looks only at
// the leads that such sequences of Latin letters and punctuation have: Â,
// Ã, Ä, Å (the bytes 0xC2-0xC5, which start é, ü, ł, š, a no-break space
// ...) followed by one character that Windows-1252 writes as a UTF-8
// continuation byte (0x80-0xBF: ©, ¼, €, ™ ...), and â (0xE2, which starts
// ’, “, ”, –, —, …, €) followed by two; and only when those bytes decode
// to a printable character. No language writes Ã© or â€™ as text, while
// São, JOÃO, Åsa, Ärger or voilà» are not such sequences.
func firstMojibake(v string) (mojibakeSeq, bool) {
	if strings.IndexByte(v, 0xC3) < 0 { // the first byte of Â, Ã, Ä, Å and â

		return mojibakeSeq{}, false
	}
	for i, c := range v {
		var n int // continuation bytes the lead needs
		switch {
		case c >= 0xC2 && c <= 0xC5:
			n = 1
		case c == 0xE2:
			n = 2
		default:
			continue
		}
		b := []byte{byte(c)}
		j := i + utf8.RuneLen(c)
		for len(b) <= n && j < len(v) {
			cc, size := utf8.DecodeRuneInString(v[j:])
			cb, ok := charmap.Windows1252.EncodeRune(cc)
			if !ok || cb < 0x80 || cb > 0xBF {
				break
			}
			b = append(b, cb)
			j += size
		}
		if len(b) != n+1 || n == 1 && endsCapitalWord(v, i, j) {
			continue
		}
		if was, _ := utf8.DecodeRune(b); was != utf8.RuneError && unicode.IsPrint(was) || was == '\u00a0' {
			return mojibakeSeq{text: v[i:j], was: was, at: i}, true
		}
	}
	return mojibakeSeq{}, false
}

// wordEnders are the characters that come right after a word's last
// letter: closing quotes and guillemets, an ellipsis, dashes. Windows-1252
// writes each as a UTF-8 continuation byte, so Ã, Å, Â or Ä followed by one
// is also a mojibake sequence (Ã» is û, Ã… is Å).
const wordEnders = "»›”’…—–"

// endsCapitalWord reports whether v[i:j], a lead (Â, Ã, Ä, Å) and one
// continuation character, is rather the last letter of a word in capitals
// followed by punctuation: the lead comes after a capital letter, the
// continuation is a wordEnders character, and no letter follows it
// ("«IRMÃ»", "AMANHÃ…", "“PÅ”"). The same inside a word ("BJÃ–RK" for
// BJÖRK) or after a small letter ("sÄ…" for są) is mojibake.
func endsCapitalWord(v string, i, j int) bool {
	before, _ := utf8.DecodeLastRuneInString(v[:i])
	_, lead := utf8.DecodeRuneInString(v[i:])
	cont, _ := utf8.DecodeRuneInString(v[i+lead:])
	after, _ := utf8.DecodeRuneInString(v[j:])
	return unicode.IsUpper(before) && strings.ContainsRune(wordEnders, cont) && !unicode.IsLetter(after)
}

// unmojibake returns v with every mojibake sequence replaced by the
// character it was.
func unmojibake(v string) string {
	var b strings.Builder
	for {
		m, ok := firstMojibake(v)
		if !ok {
			b.WriteString(v)
			return b.String()
		}
		b.WriteString(v[:m.at])
		b.WriteRune(m.was)
		v = v[m.at+len(m.text):]
	}
}

// mojibakeAt is the first value read with a mojibake sequence, while no
// value before held a character beyond ASCII that is not one.
type mojibakeAt struct {
	line  int
	field string
	seq   mojibakeSeq
}

func (m mojibakeSeq) String() string {
	return fmt.Sprintf("%q is %c (U+%04X)", m.text, m.was, m.was)
}

// checkMojibake, given a value holding a character beyond ASCII
// (nonASCII), returns the row error of a value of line's field holding a
// mojibake sequence, or, for the second such value in a file (CSV or
// JSONL) where no value before held a character beyond ASCII but in such
// sequences, the error that ends the reading: the whole file was
// converted twice, and every row with an accented letter would be left
// out, the others sent.
func (r *Reader) checkMojibake(line int, field, v string, nonASCII bool) error {
	if !nonASCII {
		return nil
	}
	m, ok := firstMojibake(v)
	if !ok {
		r.sawClean = true
		return nil
	}
	if !r.sawClean {
		if f := r.firstMoji; f != nil {
			back, escapes := "utf8.csv", ""
			if r.format == FormatJSONL {
				back, escapes = "utf8.jsonl", "; characters written as \\u escapes stay so: export such a file again"
			}
			return fmt.Errorf("%s:%d: %s: %s written as UTF-8 and read as Windows-1252, and so is %q of line %d (%s), and no line before holds a character beyond ASCII that is not such a pair: "+
				"the file was converted to UTF-8 twice (saved as UTF-8, then read as Windows-1252 or Latin-1 and saved again), and every row with an accented letter would be refused: "+
				"export it again as UTF-8 from its source, or convert it back (iconv -f UTF-8 -t WINDOWS-1252 %s > %s, then name %s in the campaign file%s); no row from line %d on was read",
				r.name, line, field, m, f.seq.text, f.line, f.field, r.name, back, back, escapes, line)
		}
		r.firstMoji = &mojibakeAt{line: line, field: field, seq: m}
	}
	return r.rowErr(line, field, CodeMojibake, fmt.Sprintf(
		"%q holds %q, which is %c (U+%04X) written as UTF-8 read as Windows-1252 (mojibake: the text was converted to UTF-8 twice), and the recipient would see it so: the value is %q; fix the value at its source, or write it so in the file",
		v, m.text, m.was, m.was, unmojibake(v)))
}
