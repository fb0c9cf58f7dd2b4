package recipient

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestLatin1FileIsRefusedAsAFile (red team 30) holds the reader to
// PRODUCT.md's accounting of every row and to README.md (Recipients file):
// the file is UTF-8, and a UTF-16 file is refused as a file, with what to do.
//
// What happened before the fix: a migration export saved by a spreadsheet as
// "CSV (comma delimited)" (Latin-1 / Windows-1252) was read row by row:
// every row whose name held an accented letter (Jürg, José, Zoë) became an
// invalid row of its own ("name: is not valid UTF-8 (byte 0xE9 at offset
// 3): save the file as UTF-8"), while the rows of plain ASCII were
// accepted. plan showed "200000 rows: 141000 accepted, 59000 invalid", and
// `send --skip-invalid` (the flag an operator passes for the few bad rows
// every export has) would have staged the file without every German,
// French and Spanish user. Now the second row that is not UTF-8, in a file
// where no row before held a UTF-8 character, ends the reading: the file
// is refused once, naming both lines, the byte as Windows-1252 reads it,
// and how to save it as UTF-8. A single such row, or rows after UTF-8
// characters (a UTF-8 file with a broken row), stay invalid rows.
func TestLatin1FileIsRefusedAsAFile(t *testing.T) {
	t.Parallel()
	type row struct {
		line int
		code string // "" for an accepted row
	}
	for _, tc := range []struct {
		name, input string
		rows        []row    // the rows read before the end
		fatal       []string // parts of the file's error; nil: the file is read to its end
		not         []string // parts it must not hold
	}{
		{"Latin-1 export",
			"email,locale,name\r\na@x.test,en,Ada\r\nb@x.test,es,Jos\xe9\r\nc@x.test,de,J\xfcrg\r\nd@x.test,en,Dee\r\n",
			[]row{{2, ""}, {3, CodeInvalidUTF8}},
			[]string{"r.csv:4: name: byte 0xFC (ü in Windows-1252) is not UTF-8, nor is byte 0xE9 (é) of line 3 (name), and no line before holds a UTF-8 character",
				"the file looks like Latin-1 or Windows-1252",
				`save it as "CSV UTF-8 (comma delimited)"`, "iconv -f WINDOWS-1252 -t UTF-8",
				"no row from line 4 on was read"},
			[]string{"Mac Roman", "MACINTOSH"}},
		// Excel for Mac's "CSV (Macintosh)": Mac Roman, lines ending in CR.
		// It was named Windows-1252, "byte 0x8E (Ž in Windows-1252)" for
		// the é of José, and iconv -f WINDOWS-1252 made valid UTF-8 of
		// "JosŽ" and "MŸller", accepted and sent (found by a red team).
		{"Mac Roman export: CR line ends",
			"email,locale,name\ra@x.test,en,Ada\rb@x.test,es,Jos\x8e\rc@x.test,de,M\x9fller\rd@x.test,en,Dee\r",
			[]row{{2, ""}, {3, CodeInvalidUTF8}},
			[]string{"r.csv:4: name: byte 0x9F (ü in Mac Roman, Ÿ in Windows-1252) is not UTF-8, nor is byte 0x8E (é in Mac Roman, Ž in Windows-1252) of line 3 (name)",
				`the file's lines end in CR, as Excel for Mac saves "CSV (Macintosh)" in Mac Roman`,
				"iconv -f MACINTOSH -t UTF-8 r.csv > utf8.csv", "iconv -f WINDOWS-1252 -t UTF-8",
				"no row from line 4 on was read"},
			nil},
		{"Windows-1252 quote in an extra column, far apart",
			"email,locale,name,note\na@x.test,en,Ada,it\x92s\nb@x.test,en,Bob,ok\nc@x.test,fr,Cy,\x93hi\x94\n",
			[]row{{2, CodeInvalidUTF8}, {3, ""}},
			[]string{"r.csv:4: note: byte 0x93 (“ in Windows-1252) is not UTF-8, nor is byte 0x92 (’) of line 2 (note)"}, nil},
		{"UTF-8 file with broken rows",
			"email,locale,name\na@x.test,de,M\u00fcller\nb@x.test,es,Jos\xe9\nc@x.test,de,J\xfcrg\n",
			[]row{{2, ""}, {3, CodeInvalidUTF8}, {4, CodeInvalidUTF8}},
			nil, nil},
		{"one row not UTF-8",
			"email,locale,name\na@x.test,en,Ada\nb@x.test,es,Jos\xe9\nc@x.test,en,Cy\n",
			[]row{{2, ""}, {3, CodeInvalidUTF8}, {4, ""}},
			nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			read, fatal := readRows(t, tc.input)
			var got []row
			for _, r := range read {
				code := ""
				if r.err != nil {
					code = r.err.Code
				}
				got = append(got, row{r.rcp.Line, code})
			}
			if len(got) != len(tc.rows) {
				t.Fatalf("rows read: got %v, want %v (fatal: %v)", got, tc.rows, fatal)
			}
			for i := range got {
				if got[i] != tc.rows[i] {
					t.Errorf("row %d: got %v, want %v", i, got[i], tc.rows[i])
				}
			}
			wantFatal(t, fatal, tc.fatal)
			for _, part := range tc.not {
				if strings.Contains(fatal.Error(), part) {
					t.Errorf("error %q\nholds %q", fatal, part)
				}
			}
		})
	}
}

// readRow is a row Next returned: the recipient, and its error if the row
// is invalid.
type readRow struct {
	rcp Recipient
	err *RowError
}

// readRows reads the CSV input named r.csv to its end, or to the error
// that ends the reading (fatal).
func readRows(t *testing.T, input string) (rows []readRow, fatal error) {
	t.Helper()
	return readRowsOf(t, "r.csv", input)
}

// readRowsOf reads input, a file named name (its format is the name's),
// as readRows does.
func readRowsOf(t *testing.T, name, input string) (rows []readRow, fatal error) {
	t.Helper()
	rd, err := NewReader(strings.NewReader(input), ReaderConfig{Name: name})
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	for {
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		var re *RowError
		if err != nil && !errors.As(err, &re) {
			return rows, err
		}
		rows = append(rows, readRow{r, re})
	}
}

// wantFatal checks the error that ended a reading: nil when parts is nil,
// else one holding every part.
func wantFatal(t *testing.T, fatal error, parts []string) {
	t.Helper()
	if parts == nil {
		if fatal != nil {
			t.Fatalf("the file was refused: %v", fatal)
		}
		return
	}
	if fatal == nil {
		t.Fatalf("the file was read to its end; want it refused saying %q", parts)
	}
	for _, part := range parts {
		if !strings.Contains(fatal.Error(), part) {
			t.Errorf("error %q\nlacks %q", fatal, part)
		}
	}
}
