// Package oneline makes text one line of a mail header. Package render
// makes every subject with it and package send every header value it
// writes (display names, Subject, other text fields), so that the subject
// QA signs off in a preview is the one that goes on the wire, and the wire
// keeps what the author wrote: only what a header cannot carry is replaced.
package oneline

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Of returns s as one line of text: each run of control characters (C0,
// CR, LF and tab included; DEL; C1, NEL U+0085 included) and of line and
// paragraph separators (U+2028, U+2029) becomes one space, invalid UTF-8
// becomes U+FFFD, and white space around the text is trimmed (a header
// value starts after the space that follows the colon, and parsers drop
// white space at its end). Everything else stays as written: runs of
// spaces, no-break spaces (U+00A0, U+202F), the ideographic space U+3000.
// Of(Of(s)) == Of(s).
func Of(s string) string {
	if Is(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	run := false
	for _, r := range s { // an invalid byte comes as utf8.RuneError, U+FFFD
		if mustGo(r) {
			if !run {
				b.WriteByte(' ')
			}
			run = true
			continue
		}
		run = false
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// Is reports whether Of(s) == s, without allocating: s is valid UTF-8
// without control characters or line separators, and does not start or
// end with white space.
func Is(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || mustGo(r) {
			return false
		}
		i += n
	}
	return len(strings.TrimSpace(s)) == len(s)
}

// mustGo reports whether r cannot stay in a header line: a control
// character (C0, DEL, C1) or a line or paragraph separator.
func mustGo(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}
