package recipient

import (
	"strings"
	"testing"
)

// TestMojibakeIsAnInvalidRow (red team 38) holds the reader to PRODUCT.md's
// "Unicode end to end" and to README.md (Recipients file): a value that
// was UTF-8, read as Windows-1252 and saved as UTF-8 again (a CRM export
// converted twice: "JosÃ©" for "José", "donâ€™t" for "don’t") is valid
// UTF-8, so it was accepted, and the recipient would be greeted "Hallo
// JosÃ©,". Now such a value makes the row invalid (mojibake), naming the
// characters, what they were, and the value repaired; and when no value
// before held a character beyond ASCII that is not such a sequence, the
// second one ends the reading, as a Latin-1 file does: the whole file was
// converted twice, and every row with an accented letter would otherwise
// be left out, those without one sent. Text in which these letters are
// letters (São, JOÃO, Åsa, Ärger, voilà») is accepted.
func TestMojibakeIsAnInvalidRow(t *testing.T) {
	t.Parallel()
	type row struct {
		line  int
		code  string // "" for an accepted row
		field string
	}
	for _, tc := range []struct {
		name, input string
		rows        []row
		reason      []string // parts of the first invalid row's reason
		fatal       []string // parts of the file's error; nil: read to the end
	}{
		{"a name in a UTF-8 file",
			"email,locale,name\na@x.test,de,Jürg\nb@x.test,es,JosÃ©\nc@x.test,en,Cy\n",
			[]row{{2, "", ""}, {3, CodeMojibake, "name"}, {4, "", ""}},
			[]string{`"JosÃ©"`, `"Ã©", which is é (U+00E9)`, "UTF-8 read as Windows-1252", `"José"`, "fix the value at its source"},
			nil},
		{"a quote in an extra column",
			"email,locale,name,note\na@x.test,de,Jürg,ok\nb@x.test,en,Bob,donâ€™t\n",
			[]row{{2, "", ""}, {3, CodeMojibake, "note"}},
			[]string{`"â€™", which is ’ (U+2019)`, `"don’t"`},
			nil},
		{"an address",
			"email,locale,name\na@x.test,de,Jürg\njosÃ©@x.test,es,Jose\n",
			[]row{{2, "", ""}, {3, CodeMojibake, "email"}},
			[]string{`"josÃ©@x.test"`, `"josé@x.test"`},
			nil},
		{"letters that are letters",
			"email,locale,name,note\na@x.test,pt,São Paulo,JOÃO\nb@x.test,sv,Åsa,Ärger\nc@x.test,fr,Zoë,«voilà»\nd@x.test,de,Straße,Ã\ne@x.test,pt,ANA Ã,Â\n",
			[]row{{2, "", ""}, {3, "", ""}, {4, "", ""}, {5, "", ""}, {6, "", ""}},
			nil, nil},
		{"a file converted twice",
			"email,locale,name\na@x.test,en,Ada\nb@x.test,es,JosÃ©\nc@x.test,de,JÃ¼rg\nd@x.test,en,Dee\n",
			[]row{{2, "", ""}, {3, CodeMojibake, "name"}},
			nil,
			[]string{`r.csv:4: name: "Ã¼" is ü (U+00FC) written as UTF-8 and read as Windows-1252, and so is "Ã©" of line 3 (name)`,
				"no line before holds a character beyond ASCII that is not such a pair",
				"the file was converted to UTF-8 twice",
				"iconv -f UTF-8 -t WINDOWS-1252 r.csv > utf8.csv",
				"no row from line 4 on was read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			read, fatal := readRows(t, tc.input)
			var got []row
			var reason string
			for _, r := range read {
				if r.err == nil {
					got = append(got, row{r.rcp.Line, "", ""})
					continue
				}
				if reason == "" {
					reason = r.err.Error()
				}
				got = append(got, row{r.rcp.Line, r.err.Code, r.err.Field})
			}
			if len(got) != len(tc.rows) {
				t.Fatalf("rows read: got %v, want %v (fatal: %v)", got, tc.rows, fatal)
			}
			for i := range got {
				if got[i] != tc.rows[i] {
					t.Errorf("row %d: got %v, want %v", i, got[i], tc.rows[i])
				}
			}
			for _, part := range tc.reason {
				if !strings.Contains(reason, part) {
					t.Errorf("reason %q\nlacks %q", reason, part)
				}
			}
			wantFatal(t, fatal, tc.fatal)
		})
	}
}
