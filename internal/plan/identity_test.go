package plan

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/recipient"
	"github.com/tidings-mail/tidings/internal/render"
)

// runString plans recipients given as text and returns the summary and the
// emitted recipients.
func runString(t *testing.T, name, recipients string) (*Summary, []Accepted, error) {
	t.Helper()
	in := Input{Campaign: testCampaign(t, ""), Engine: engine(t, render.Policy{}), Recipients: strings.NewReader(recipients), RecipientsName: name}
	var got []Accepted
	s, err := Run(context.Background(), in, func(a Accepted) error {
		got = append(got, a)
		return nil
	})
	if err == nil && s.Rows != s.Accepted+s.Refused+s.Invalid {
		t.Errorf("counts do not reconcile: rows %d != %d + %d + %d", s.Rows, s.Accepted, s.Refused, s.Invalid)
	}
	return s, got, err
}

// TestRunSameMailbox: two spellings of one mailbox are planned once; the
// second is invalid and names the first line.
func TestRunSameMailbox(t *testing.T) {
	t.Parallel()
	s, got, err := runString(t, "r.csv", "email,locale\n"+
		"jos\u00e9@example.com,de\n"+ // 2
		"jose\u0301@example.com,ja\n"+ // 3 NFD twin
		"user@bücher.example,fr\n"+ // 4
		"user@xn--bcher-kva.example,ja\n"+ // 5 A-label twin
		"User@BÜCHER.example,en\n") // 6 case twin
	if err != nil {
		t.Fatal(err)
	}
	if s.Rows != 5 || s.Accepted != 2 || s.Invalid != 3 {
		t.Fatalf("rows %d accepted %d invalid %d: %+v", s.Rows, s.Accepted, s.Invalid, s.Rejects)
	}
	var sent []string
	for _, a := range got {
		sent = append(sent, a.ID+" "+a.Match.Lang)
	}
	if want := []string{"jos\u00e9@example.com de", "user@bücher.example fr"}; !reflect.DeepEqual(sent, want) {
		t.Errorf("planned %q, want %q", sent, want)
	}
	for i, first := range []string{"line 2", "line 4", "line 4"} {
		r := s.Rejects[i]
		if r.Code != recipient.CodeDuplicateEmail || !strings.Contains(r.Reason, first) {
			t.Errorf("reject %d = %+v, want duplicate-email naming %s", i, r, first)
		}
	}
}

// TestRunJSONLRepeatedKey: {"locale":"de","locale":"ja"} is an invalid row,
// never a message in the last value's language.
func TestRunJSONLRepeatedKey(t *testing.T) {
	t.Parallel()
	s, got, err := runString(t, "r.jsonl", `{"email":"a@example.com","locale":"de","locale":"ja"}`+"\n"+
		`{"email":"b@example.com","locale":"de"}`+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if s.Accepted != 1 || s.Invalid != 1 || len(got) != 1 || got[0].Email != "b@example.com" {
		t.Fatalf("summary %+v, planned %+v", s, got)
	}
	if r := s.Rejects[0]; r.Line != 1 || r.Code != recipient.CodeBadRow || r.Field != "locale" || !strings.Contains(r.Reason, `"locale" appears twice`) {
		t.Errorf("reject = %+v", r)
	}
}

// TestRunLineEndings: the sample file with CR line endings (an old
// spreadsheet export) plans exactly like the same file with LF.
func TestRunLineEndings(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/recipients.csv")
	if err != nil {
		t.Fatal(err)
	}
	lf := strings.ReplaceAll(string(data), "\r\n", "\n")
	type result struct {
		rows, accepted, refused, invalid int
		lines                            []int
		rejects                          []Reject
	}
	plan := func(input string) result {
		t.Helper()
		s, got, err := runString(t, "r.csv", input)
		if err != nil {
			t.Fatal(err)
		}
		r := result{rows: s.Rows, accepted: s.Accepted, refused: s.Refused, invalid: s.Invalid, rejects: s.Rejects}
		for _, a := range got {
			r.lines = append(r.lines, a.Line)
		}
		return r
	}
	want := plan(lf)
	if want.rows != 17 {
		t.Fatalf("LF file: %d rows, want 17", want.rows)
	}
	for name, input := range map[string]string{
		"CRLF": strings.ReplaceAll(lf, "\n", "\r\n"),
		"CR":   strings.ReplaceAll(lf, "\n", "\r"),
	} {
		if got := plan(input); !reflect.DeepEqual(got, want) {
			t.Errorf("%s file:\n got %+v\nwant %+v", name, got, want)
		}
	}
}

// TestRunNoRows: a file without any row is an error, never "0 rows: 0
// accepted".
func TestRunNoRows(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, file, input, want string }{
		{"header only", "r.csv", "email,locale\n", "r.csv: no recipient rows: the file has a header row but no row below it: add one row per recipient"},
		{"header only, CR", "r.csv", "email,locale,name\r", "the file has a header row but no row below it"},
		{"header and blank lines", "r.csv", "\ufeffemail,locale\r\n\r\n\r\n", "no recipient rows"},
		{"empty jsonl", "r.jsonl", "", "r.jsonl: no recipient rows: the file has no line with a recipient"},
		{"blank jsonl", "r.jsonl", "\n  \r\n\n", "the file has no line with a recipient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _, err := runString(t, tt.file, tt.input)
			if !errors.Is(err, ErrNoRows) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run = %+v, %v; want ErrNoRows saying %q", s, err, tt.want)
			}
		})
	}
}
