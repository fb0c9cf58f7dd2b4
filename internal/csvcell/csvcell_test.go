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

// TestInvisible: Invisible finds the first character a spreadsheet shows
// as nothing or as a space although it is not one, and where it is;
// WithoutInvisible drops them all and keeps the rest.
func TestInvisible(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		r       rune
		at      int
		ok      bool
		without string
	}{
		{"email", 0, 0, false, "email"},
		{"first name", 0, 0, false, "first name"},
		{"\ufeffemail", 0xFEFF, 0, true, "email"},
		{"id\u200b", 0x200B, 2, true, "id"},
		{"Na\u00adme", 0x00AD, 2, true, "Name"},
		{"de\u00a0CH", 0x00A0, 2, true, "deCH"},
		{"é\u2060x\u200by", 0x2060, 2, true, "éxy"},
		{"tab\there", '\t', 3, true, "tabhere"},
	}
	for _, tt := range tests {
		r, at, ok := csvcell.Invisible(tt.in)
		if r != tt.r || at != tt.at || ok != tt.ok {
			t.Errorf("Invisible(%q) = %U, %d, %v; want %U, %d, %v", tt.in, r, at, ok, tt.r, tt.at, tt.ok)
		}
		if got := csvcell.WithoutInvisible(tt.in); got != tt.without {
			t.Errorf("WithoutInvisible(%q) = %q, want %q", tt.in, got, tt.without)
		}
	}
}
