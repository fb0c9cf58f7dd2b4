package recipient

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestNullNameIsNoName (fx43f): a name column holding what a database
// export writes for a missing value (`\N` from MySQL's SELECT ... INTO
// OUTFILE and PostgreSQL's COPY, `NULL` from SQL Server and MySQL
// Workbench, `(null)` from printf-style tools) was taken as the name, and
// every such row was greeted "Hello NULL". Those exact spellings are now
// no name (Name empty, the spelling kept in NullName for plan to count);
// anything else, a mixed-case "Null" or a lower-case "null" (real people
// are named Null), stays the name. The row is valid either way.
func TestNullNameIsNoName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, input      string
		format           Format
		wantName, wasNul string
	}{
		{"CSV \\N", "email,locale,name\na@example.org,de,\\N\n", FormatCSV, "", `\N`},
		{"CSV NULL", "email,locale,name\na@example.org,de,NULL\n", FormatCSV, "", "NULL"},
		{"CSV NULL with spaces", "email,locale,name\na@example.org,de, NULL \n", FormatCSV, "", "NULL"},
		{"CSV quoted NULL", "email,locale,name\na@example.org,de,\"NULL\"\n", FormatCSV, "", "NULL"},
		{"CSV (null)", "email,locale,name\na@example.org,de,(null)\n", FormatCSV, "", "(null)"},
		{"CSV Null is a name", "email,locale,name\na@example.org,de,Null\n", FormatCSV, "Null", ""},
		{"CSV null is a name", "email,locale,name\na@example.org,de,null\n", FormatCSV, "null", ""},
		{"CSV Ada NULL is a name", "email,locale,name\na@example.org,de,Ada NULL\n", FormatCSV, "Ada NULL", ""},
		{"CSV \\\\N is a name", "email,locale,name\na@example.org,de,\\\\N\n", FormatCSV, `\\N`, ""},
		{"JSONL NULL", `{"email":"a@example.org","locale":"de","name":"NULL"}` + "\n", FormatJSONL, "", "NULL"},
		{"JSONL \\N", `{"email":"a@example.org","locale":"de","name":"\\N"}` + "\n", FormatJSONL, "", `\N`},
		{"JSONL null value", `{"email":"a@example.org","locale":"de","name":null}` + "\n", FormatJSONL, "", ""},
		{"JSONL Null is a name", `{"email":"a@example.org","locale":"de","name":"Null"}` + "\n", FormatJSONL, "Null", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rd, err := NewReader(strings.NewReader(tc.input), ReaderConfig{Name: "r", Format: tc.format})
			if err != nil {
				t.Fatal(err)
			}
			r, err := rd.Next()
			if err != nil {
				t.Fatalf("row 2: %v", err)
			}
			if r.Name != tc.wantName || r.NullName != tc.wasNul {
				t.Errorf("Name %q, NullName %q; want %q, %q", r.Name, r.NullName, tc.wantName, tc.wasNul)
			}
			if _, err := rd.Next(); !errors.Is(err, io.EOF) {
				t.Errorf("after the row: %v, want io.EOF", err)
			}
		})
	}
}
