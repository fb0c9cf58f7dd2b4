package recipient

import (
	"strings"
	"testing"
)

// TestSpaceAroundQuotesIsNamed (red team 38): a hand-edited CRM export
// puts a space between a comma and a quoted value (`a@x.test, "fr"`) or
// after the closing quote (`"Bob" ,1`). encoding/csv refuses both, and
// the row was invalid saying `has a quote (") in it ... enclose the value
// in double quotes` or `is quoted, and has a quote (") inside it that is
// not doubled`: the value is in quotes already, and no quote is to be
// doubled. Now the reason names the space and says to remove it. A quote
// inside an unquoted value, or text after a closing quote, keeps its
// reason.
func TestSpaceAroundQuotesIsNamed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, row, field, want string
	}{
		{"a space before the opening quote", `a@x.test, "fr",Ann`, "locale",
			`the value of column "locale" has a space before its opening quote (line 2, column 11): remove the space: a value is quoted only when the quote comes right after the comma`},
		{"a space after the closing quote", `a@x.test,fr,"Bob" `, "name",
			`the value of column "name" has a space after its closing quote (line 2, column 17): remove the space: the comma or the line end must come right after the closing quote`},
		{"a tab after the closing quote, more after", "a@x.test,\"fr\"\t,Ann", "locale",
			`the value of column "locale" has a space after its closing quote (line 2, column 13)`},
		{"a quote inside an unquoted value", `a@x.test,fr,Ann "A" B`, "name",
			`the value of column "name" has a quote (") in it (line 2, column 17): enclose the value in double quotes`},
		{"text after a closing quote", `a@x.test,fr,"Ann"x`, "name",
			`the value of column "name" is quoted, and has a quote (") inside it that is not doubled (line 2, column 17)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			read, fatal := readRows(t, "email,locale,name\r\n"+tc.row+"\r\nb@x.test,de,Bo\r\n")
			if fatal != nil || len(read) != 2 {
				t.Fatalf("read %+v, fatal %v", read, fatal)
			}
			bad, good := read[0], read[1]
			if bad.err == nil || bad.err.Code != CodeBadRow || bad.err.Field != tc.field {
				t.Fatalf("row 2: %+v, want a bad-row of %s", bad, tc.field)
			}
			if !strings.Contains(bad.err.Reason, tc.want) {
				t.Errorf("reason %q\nlacks %q", bad.err.Reason, tc.want)
			}
			if good.err != nil || good.rcp.Line != 3 {
				t.Errorf("row 3: %+v", good)
			}
		})
	}
}
