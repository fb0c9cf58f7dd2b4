package recipient

import (
	"errors"
	"strings"
	"testing"
)

// TestHeaderErrorNamesTheHeadersLine: blank lines before the header are
// skipped, and an error about the header names the header's line, not
// line 1, a blank line where the operator finds nothing to fix (found by a
// red team).
func TestHeaderErrorNamesTheHeadersLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, input, want string }{
		{"column without a name", "\n\nemail,locale,,\na@x.test,de,,\n", "r.csv:3: column 3 has no name"},
		{"lacks locale", "\r\n\r\nemail,name\na@x.test,A\n", "r.csv:3: the header lacks the column(s) locale"},
		{"column twice", "\n\nemail,locale,Email\na@x.test,de,b@x.test\n", `r.csv:3: column "Email" appears twice`},
		{"semicolons", "\n\n\nemail;locale\n", "r.csv:4: the header is one column"},
		{"control character", "\n\nemail,loc\x07ale\n", `r.csv:3: column 2 ("loc\aale") holds the control character U+0007`},
		{"invisible character", "\r\remail,\u200bid,locale\n", `r.csv:3: column 2 ("\u200bid") holds the invisible character U+200B`},
		{"UTF-16", "\n\n" + "e\x00m\x00a\x00i\x00l\x00", "r.csv:3: column 1 holds NUL bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewReader(strings.NewReader(tc.input), ReaderConfig{Name: "r.csv"})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("\n got %v\nwant %s...", err, tc.want)
			}
			var he *HeaderError
			if errors.As(err, &he) && he.Line != 3 {
				t.Errorf("HeaderError.Line %d, want 3", he.Line)
			}
		})
	}
}
