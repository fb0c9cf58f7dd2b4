package recipient

import (
	"fmt"
	"strings"
	"testing"
)

// TestMojibakeInJSONL: a JSONL recipients file is held to the rule of
// TestMojibakeIsAnInvalidRow: a value that is UTF-8 read as Windows-1252
// ("JosÃ©", written as it is or as \u escapes) makes its row invalid
// (mojibake), and a file converted twice, where the first two values
// beyond ASCII are both such values, is refused as a whole. The JSONL
// reader refused the rows one by one and read the file to its end: every
// recipient with an accented letter left out, the others sent.
func TestMojibakeInJSONL(t *testing.T) {
	t.Parallel()
	type row struct {
		line  int
		code  string // "" for an accepted row
		field string
	}
	jsonl := func(names ...string) string {
		var b strings.Builder
		for i, n := range names {
			fmt.Fprintf(&b, `{"email":"r%d@x.test","locale":"es","name":"%s"}`+"\n", i, n)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name, input string
		rows        []row
		fatal       []string // parts of the file's error; nil: read to the end
	}{
		{"a name in a UTF-8 file", jsonl("Jürg", "JosÃ©", "Cy"),
			[]row{{1, "", ""}, {2, CodeMojibake, "name"}, {3, "", ""}}, nil},
		{"a name written as escapes in a UTF-8 file", jsonl("Jürg", `Jos\u00c3\u00a9`, "Cy"),
			[]row{{1, "", ""}, {2, CodeMojibake, "name"}, {3, "", ""}}, nil},
		{"letters that are letters", jsonl("São Paulo", "JOÃO", "Åsa", "ANA Ã"),
			[]row{{1, "", ""}, {2, "", ""}, {3, "", ""}, {4, "", ""}}, nil},
		{"a file converted twice", jsonl("Ada", "JosÃ©", "JÃ¼rg", "Dee"),
			[]row{{1, "", ""}, {2, CodeMojibake, "name"}},
			[]string{`r.jsonl:3: name: "Ã¼" is ü (U+00FC) written as UTF-8 and read as Windows-1252, and so is "Ã©" of line 2 (name)`,
				"the file was converted to UTF-8 twice",
				"iconv -f UTF-8 -t WINDOWS-1252 r.jsonl > utf8.jsonl",
				"no row from line 3 on was read"}},
		{"a file converted twice, as escapes", jsonl("Ada", `Jos\u00c3\u00a9`, `J\u00c3\u00bcrg`, "Dee"),
			[]row{{1, "", ""}, {2, CodeMojibake, "name"}},
			[]string{`r.jsonl:3: name: "Ã¼" is ü (U+00FC)`, "the file was converted to UTF-8 twice", `characters written as \u escapes stay so: export such a file again`, "no row from line 3 on was read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			read, fatal := readRowsOf(t, "r.jsonl", tc.input)
			var got []row
			for _, r := range read {
				if r.err == nil {
					got = append(got, row{r.rcp.Line, "", ""})
					continue
				}
				got = append(got, row{r.rcp.Line, r.err.Code, r.err.Field})
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.rows) {
				t.Errorf("rows read: got %v, want %v (fatal: %v)", got, tc.rows, fatal)
			}
			wantFatal(t, fatal, tc.fatal)
		})
	}
}
