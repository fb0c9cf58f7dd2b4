package csvcell_test

import (
	"testing"

	"github.com/tidings-mail/tidings/internal/csvcell"
)

// TestCell: no cell Cell returns starts a spreadsheet formula, and Uncell
// gives back exactly what was written (launch reads reports back to exclude
// who was delivered: an address changed on the way would be mailed twice).
func TestCell(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"ada@x.example", "ada@x.example"},
		{"=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"},
		{"+1", "'+1"},
		{"-dash@x.example", "'-dash@x.example"},
		{"@x", "'@x"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"'=x", "''=x"},
		{"'quoted", "''quoted"},
		{"'", "''"},
		{"", ""},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		got := csvcell.Cell(tt.in)
		if got != tt.want {
			t.Errorf("Cell(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if back := csvcell.Uncell(got); back != tt.in {
			t.Errorf("Uncell(Cell(%q)) = %q", tt.in, back)
		}
	}
}
