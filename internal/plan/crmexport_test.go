package plan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/recipient"
)

// TestBadRowsAtTheEndOfALargeExport (red team 38): a CRM export of about
// 200,000 recipients (a UTF-8 byte order mark, CRLF line ends, a note that spans
// two lines every 50,000 rows) with its bad rows at the end. Every row is
// counted, and each bad row is reported at the line an editor shows it
// on (199,998 to 200,001), past the lines the quoted notes take.
func TestBadRowsAtTheEndOfALargeExport(t *testing.T) {
	t.Parallel()
	const good = 199992
	var b strings.Builder
	b.WriteString("\ufeffemail,locale,note\r\n")
	line := 1
	langs := []string{"de", "en", "ja"}
	for i := 1; i <= good; i++ {
		note := "x"
		if i%50000 == 10 {
			note = "\"two\r\nlines\""
			line++
		}
		fmt.Fprintf(&b, "user%d@example.com,%s,%s\r\n", i, langs[i%3], note)
		line++
	}
	bad := []struct {
		row, code, field string
	}{
		{"bad@example,de,x", recipient.CodeInvalidEmail, "email"},
		{"bad2@example.com,xx!!,x", "unparsable", "locale"},
		{"user5@example.com,en,x", recipient.CodeDuplicateEmail, "email"},
		{"bad3@example.com,de,\"open", recipient.CodeBadRow, "note"},
	}
	for _, r := range bad {
		b.WriteString(r.row + "\r\n")
	}
	s, _, err := runString(t, "crm.csv", b.String())
	if err != nil {
		t.Fatal(err)
	}
	if s.Rows != good+4 || s.Accepted != good || s.Refused != 1 || s.Invalid != 3 {
		t.Fatalf("rows %d: %d accepted, %d refused, %d invalid; want %d: %d, 1, 3", s.Rows, s.Accepted, s.Refused, s.Invalid, good+4, good)
	}
	if line != 199997 { // the header, the rows, and a second line for each of 4 notes
		t.Fatalf("the last good row is on line %d", line)
	}
	for i, r := range bad {
		got := s.Rejects[i]
		if want := line + 1 + i; got.Line != want || got.Code != r.code || got.Field != r.field {
			t.Errorf("reject %d = line %d %s %s (%s), want line %d %s %s", i, got.Line, got.Code, got.Field, got.Reason, want, r.code, r.field)
		}
	}
}
