package recipient

import (
	"errors"
	"strings"
	"testing"
)

// TestShortRowNamesColumnsWithoutValue: a row with fewer fields than the
// header names the columns that, as read, get no value, so the operator
// knows which field to fill (an export that dropped the last column of
// one row: "recipients.csv:81290: the row has 3 fields, the header has 4"
// named no column, found by a red team walking the night with 200,000
// rows). The values may be shifted, so it says "as read", and the row
// stays a whole-row problem (no Field: which value is missing is not
// known).
func TestShortRowNamesColumnsWithoutValue(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, row, want string
	}{
		{"one short", "a@example.com,es,Ana", `r.csv:2: the row has 3 fields, the header has 4: as read, column "posts" has no value: add the missing values (an empty one is nothing between two commas: a,,b)`},
		{"two short", "a@example.com,es", `r.csv:2: the row has 2 fields, the header has 4: as read, columns "name" and "posts" have no value: add the missing values (an empty one is nothing between two commas: a,,b)`},
		{"three short", "a@example.com", `r.csv:2: the row has 1 field, the header has 4: as read, columns "locale", "name" and "posts" have no value: add the missing values (an empty one is nothing between two commas: a,,b)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rd, err := NewReader(strings.NewReader("email,locale,name,posts\n"+tt.row+"\n"), ReaderConfig{Name: "r.csv"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = rd.Next()
			var re *RowError
			if !errors.As(err, &re) || re.Code != CodeBadRow || re.Field != "" || err.Error() != tt.want {
				t.Errorf("got %v\nwant %s", err, tt.want)
			}
		})
	}
}
