package render

import "unicode/utf8"

// Clip shortens a value a recipients file holds (a locale, a count) to
// at most 40 runes, ending in "…" when cut, for a message or a table on
// screen: a cell of 10 KB (a column shifted by an export) must not fill
// the operator's terminal. The rejects file keeps the value whole.
func Clip(s string) string {
	const most = 40
	if utf8.RuneCountInString(s) <= most {
		return s
	}
	return string([]rune(s)[:most]) + "…"
}
