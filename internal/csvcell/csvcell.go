// Package csvcell writes text that came from outside into CSV files that
// people open in spreadsheets: a cell that would start a formula is
// defused (Cell), exactly reversibly (Uncell), so that tidings can read its
// own files back unchanged.
package csvcell

import "strings"

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
