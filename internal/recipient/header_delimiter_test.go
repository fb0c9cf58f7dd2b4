package recipient

import (
	"strings"
	"testing"
)

// TestHeaderOtherDelimiter: a header separated by semicolons or tabs
// whose names are quoted (a database dump, LibreOffice or a European
// Excel quoting every text) or hold a comma is named as such, at the
// header's line, with what to do; a comma-separated header with a broken
// quote names its line and column, never only encoding/csv's "parse error
// on line 1" (found by a red team).
func TestHeaderOtherDelimiter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, input, want string }{
		{"quoted semicolons", "\"email\";\"name\";\"locale\"\n\"a@x.test\";\"A\";\"de\"\n",
			`r.csv:1: the header is separated by semicolons, not commas (its columns would be "email", "name", "locale")`},
		{"quoted tabs", "\"email\"\t\"locale\"\n\"a@x.test\"\t\"de\"\n",
			`r.csv:1: the header is separated by tabs, not commas (its columns would be "email", "locale")`},
		{"quoted semicolons after blank lines", "\r\n\r\n\"email\";\"locale\"\r\n",
			`r.csv:3: the header is separated by semicolons, not commas`},
		{"semicolons and a comma in a name", "email;name, surname;locale\na@x.test;A, B;de\n",
			`r.csv:1: the header is separated by semicolons, not commas (its columns would be "email", "name, surname", "locale")`},
		{"space before a quote", "\"email\", \"locale\"\n\"a@x.test\", \"de\"\n",
			`r.csv:1: column 2: the name has a space before its opening quote (line 1, column 10): remove the space: a value is quoted only when the quote comes right after the comma`},
		{"space after a quote", "email,\"locale\" ,name\n",
			`r.csv:1: column 2: the name has a space after its closing quote (line 1, column 14): remove the space: the comma or the line end must come right after the closing quote`},
		{"broken quote", "email,\"loc\"ale,name\n",
			`r.csv:1: column 2: the header's column name has a quote (") in it (line 1, column 11): write the name without quotes`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewReader(strings.NewReader(tc.input), ReaderConfig{Name: "r.csv"})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("\n got %v\nwant %s...", err, tc.want)
			}
			if err != nil && (strings.Contains(tc.name, "semicolons") || strings.Contains(tc.name, "tabs")) && !strings.Contains(err.Error(), `save it as "CSV UTF-8 (comma delimited)"`) {
				t.Errorf("err = %v, want it to say how to save the file", err)
			}
		})
	}
}

// TestHeaderAfterWhiteSpaceLines: lines holding only spaces or tabs before
// the header are skipped as blank lines are, and the header's line is
// named; a file holding only white space is empty (found by a red team:
// it was "column 1 has no name" at line 1).
func TestHeaderAfterWhiteSpaceLines(t *testing.T) {
	t.Parallel()
	rd, err := NewReader(strings.NewReader("   \n\t\nemail,locale\na@x.test,de\n"), ReaderConfig{Name: "r.csv"})
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	if rd.headerLine != 3 {
		t.Errorf("header line %d, want 3", rd.headerLine)
	}
	r, err := rd.Next()
	if err != nil || r.Line != 4 || r.Email != "a@x.test" {
		t.Errorf("first row %+v, %v; want a@x.test at line 4", r, err)
	}
	for _, in := range []string{"   \n\t\n \r\n", "  "} {
		_, err := NewReader(strings.NewReader(in), ReaderConfig{Name: "r.csv"})
		if want := "r.csv: the file is empty (it holds only white space)"; err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: err = %v, want %s...", in, err, want)
		}
	}
}

// TestExcelSeparatorHint: a first line "sep=," (Excel's hint of the
// separator, which exports and operators add so that Excel opens the file
// right) was read as the header: "r.csv:1: column 2 has no name", or, as
// "sep=;", as a header of one column (found by a red team). "sep=," is now
// skipped as a blank line is, and the header's line named; "sep=;" or a
// tab says that the file is separated by them, with what to do.
func TestExcelSeparatorHint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, input, want string }{
		{"comma", "sep=,\r\nemail,locale\r\na@x.test,de\r\n", ""},
		{"comma after a byte order mark", "\ufeffsep=,\nemail,locale\na@x.test,de\n", ""},
		{"comma quoted, upper case", "\"SEP=,\"\nemail,locale\na@x.test,de\n", ""},
		{"semicolon", "sep=;\nemail;locale\na@x.test;de\n",
			`r.csv:1: the line "sep=;" says that the file is separated by semicolons, not commas: save it as "CSV UTF-8 (comma delimited)"`},
		{"tab", "sep=\t\nemail\tlocale\na@x.test\tde\n",
			`r.csv:1: the line "sep=\t" says that the file is separated by tabs, not commas: save it as "CSV UTF-8 (comma delimited)"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rd, err := NewReader(strings.NewReader(tc.input), ReaderConfig{Name: "r.csv"})
			if tc.want != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
					t.Errorf("\n got %v\nwant %s...", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			if rd.headerLine != 2 {
				t.Errorf("header line %d, want 2", rd.headerLine)
			}
			r, err := rd.Next()
			if err != nil || r.Line != 3 || r.Email != "a@x.test" || r.Locale != "de" {
				t.Errorf("first row %+v, %v; want a@x.test, de at line 3", r, err)
			}
		})
	}
}
