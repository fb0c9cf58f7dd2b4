// Package csvcell writes text that came from outside into CSV files that
// people open in spreadsheets: a cell that would start a formula is
// defused (Cell), exactly reversibly (Uncell), so that tidings can read its
// own files back unchanged; and it finds the characters a spreadsheet
// shows as nothing or as a space (Invisible), which make a value that looks
// right read as another.
package csvcell

import (
	"strings"
	"unicode"
)

// formulaStart holds the first characters that make a spreadsheet read a
// cell as a formula, and the quote Cell adds (so that Uncell is exact).
const formulaStart = "=+-@\t\r'"

// Cell returns s as a CSV cell no spreadsheet opens as a formula: a value
// starting with =, +, -, @, a tab, a carriage return or a quote gets a
// leading quote. Uncell(Cell(s)) == s for every s.
func Cell(s string) string {
	if s != "" && strings.IndexByte(formulaStart, s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// Uncell reverses Cell.
func Uncell(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.IndexByte(formulaStart, s[1]) >= 0 {
		return s[1:]
	}
	return s
}

// Invisible returns the first character of s that a spreadsheet shows as
// nothing or as a space although it is not one (a zero-width or no-break
// space, a byte order mark, a soft hyphen, a direction mark: a format
// character, or white space other than the space U+0020) and its byte
// offset; ok is false when s has none.
func Invisible(s string) (r rune, at int, ok bool) {
	for i, c := range s {
		if invisible(c) {
			return c, i, true
		}
	}
	return 0, 0, false
}

// WithoutInvisible returns s without the characters Invisible finds: what
// a spreadsheet shows of it.
func WithoutInvisible(s string) string {
	if _, _, ok := Invisible(s); !ok {
		return s
	}
	return strings.Map(func(c rune) rune {
		if invisible(c) {
			return -1
		}
		return c
	}, s)
}

func invisible(c rune) bool {
	return unicode.Is(unicode.Cf, c) || (unicode.IsSpace(c) && c != ' ')
}

// DirectionControl returns the first direction control of s (see
// IsDirectionControl) and its byte offset; ok is false when s has none.
func DirectionControl(s string) (r rune, at int, ok bool) {
	if strings.IndexByte(s, 0xe2) < 0 { // each is E2 80 xx or E2 81 xx in UTF-8
		return 0, 0, false
	}
	for i, c := range s {
		if IsDirectionControl(c) {
			return c, i, true
		}
	}
	return 0, 0, false
}

// IsDirectionControl reports whether c is a bidirectional embedding,
// override or isolate control (U+202A-U+202E, U+2066-U+2069): it changes
// the order in which the text after it is shown. The marks U+200E, U+200F
// and U+061C are not: right-to-left text uses them, and they move nothing
// but neutral characters.
func IsDirectionControl(c rune) bool {
	return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)
}
