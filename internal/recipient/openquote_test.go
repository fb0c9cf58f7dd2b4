package recipient

import (
	"strings"
	"testing"
)

// TestQuoteLeftOpenAtTheEnd (red team 38) holds the reader to README.md
// (Recipients file): an error says where the problem is and what to do.
// A quote opened in the file's last row and never closed (a CRM export cut
// short, a hand-edited file) was reported as `the value of column "name"
// is quoted, and has a quote (") inside it that is not doubled (line 3,
// column 17)`: column 17 is past the end of the line, and there is no
// quote inside the value to double. Now the row says that the quote
// opened at its line and column is never closed, the file ending inside
// it; and when that quote runs over several lines (every row after it read
// as one value, which ends the reading), the file's error says the file
// ends inside it. A quote closed and followed by text stays the error it
// was.
func TestQuoteLeftOpenAtTheEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, input string
		rows        int      // rows read, the last invalid
		want        []string // parts of the last row's reason or, with fatal, of the file's error
		not         string   // a part neither may hold
		fatal       bool
	}{
		{"last row, no final line end",
			"email,locale,name\na@x.test,en,Ada\nd@x.test,de,\"Dee", 2,
			[]string{`r.csv:3: name: the value of column "name" opens a quote at line 3, column 13 that is never closed: the file ends inside it: close the quote at the end of the value`},
			"not doubled", false},
		{"last row, with a final line end",
			"email,locale,name\r\na@x.test,en,Ada\r\nd@x.test,de,\"Dee\r\n", 2,
			[]string{`r.csv:3: name: the value of column "name" opens a quote at line 3, column 13 that is never closed`},
			"not doubled", false},
		{"rows after it",
			"email,locale,name\na@x.test,en,\"Ada\nb@x.test,de,Bob\nc@x.test,fr,Cy\n", 0,
			[]string{`r.csv:2: a quote opened on this line is not closed (column 13): the file ends inside it, so lines 2 to 4 were read as one value: close the quote; no row from line 2 on was read`},
			"", true},
		{"closed, then text",
			"email,locale,name\na@x.test,en,Ada\nd@x.test,de,\"Dee\"x\n", 2,
			[]string{`is quoted, and has a quote (") inside it that is not doubled (line 3, column 17)`},
			"never closed", false},
		{"closed by a later row's quote",
			"email,locale,name\na@x.test,en,\"Ada\nb@x.test,de,\"Bob\"\n", 0,
			[]string{`r.csv:2: a quote opened on this line is not closed (the file was read up to line 3 as one field)`},
			"the file ends inside it", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			read, fatal := readRows(t, tc.input)
			if len(read) != tc.rows {
				t.Fatalf("read %d rows, want %d (fatal: %v)", len(read), tc.rows, fatal)
			}
			var text string
			switch {
			case tc.fatal:
				if fatal == nil {
					t.Fatalf("the file was read to its end; want it refused")
				}
				text = fatal.Error()
			case fatal != nil:
				t.Fatalf("the file was refused: %v", fatal)
			default:
				last := read[len(read)-1]
				if last.err == nil || last.err.Code != CodeBadRow {
					t.Fatalf("the last row is %+v, want a bad-row", last)
				}
				text = last.err.Error()
			}
			for _, part := range tc.want {
				if !strings.Contains(text, part) {
					t.Errorf("%q\nlacks %q", text, part)
				}
			}
			if tc.not != "" && strings.Contains(text, tc.not) {
				t.Errorf("%q\nholds %q", text, tc.not)
			}
		})
	}
}
