package recipient

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestRedteam12BJSONLKeyWithSpacesIsTheColumn: a JSONL key written with a
// space around it ("id ", " name", as a script that pads or joins its
// keys writes them) is taken for a template-data field of that odd name,
// silently: the recipient's id falls back to the address and the name is
// empty, while the same column in a CSV header ("id ", " name") is the id
// and the name. Every message then greets "Hello ," and its
// List-Unsubscribe link ({id}) carries the address instead of the user id
// the unsubscribe endpoint looks up; nothing in plan says so.
//
// The promise (README, Campaign file reference, Recipients file): "a
// header row with email and locale (required), id (default: the
// normalised address in lower case) and name (optional) ... JSONL: one
// object per line with the same keys"; the package comment: "a key given
// twice (compared without case ...)" — JSONL keys are compared as CSV
// columns are, without case; the house rule: bad input gets a clear
// error, never a silent change of what is sent.
//
// What happens: CSV "email,locale,id ,name " gives ID "7", Name "N"; the
// same row as JSONL {"email":...,"locale":"de","id ":"7","name ":"N"} gives
// ID "a@x.test", Name "" and Fields {"id ": "7", "name ": "N"}, no error.
// (" email" and "locale " are "the object has no "email": add it" — the
// row is refused, but told to add what it has.)
//
// Guessed cause: internal/recipient/recipient.go parseJSONL (from line
// 494) lower-cases a key (lk := strings.ToLower(k)) but does not trim it,
// where readHeader trims every CSV column name (recipient.go:314,
// strings.TrimSpace(raw)).
func TestRedteam12BJSONLKeyWithSpacesIsTheColumn(t *testing.T) {
	t.Parallel()
	read := func(input, name string) (Recipient, error) {
		t.Helper()
		rd, err := NewReader(strings.NewReader(input), ReaderConfig{Name: name})
		if err != nil {
			t.Fatalf("NewReader(%s): %v", name, err)
		}
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("%s: no row", name)
		}
		return r, err
	}
	csvRow, err := read("email,locale,id ,name \na@x.test,de,7,N\n", "r.csv")
	if err != nil || csvRow.ID != "7" || csvRow.Name != "N" {
		t.Fatalf("CSV: id %q name %q err %v; want 7, N", csvRow.ID, csvRow.Name, err)
	}
	for _, line := range []string{
		`{"email":"a@x.test","locale":"de","id ":"7","name ":"N"}`,
		`{"email":"a@x.test","locale":"de"," id":"7"," name":"N"}`,
	} {
		r, err := read(line+"\n", "r.jsonl")
		var re *RowError
		if errors.As(err, &re) {
			if !strings.Contains(re.Reason, "space") {
				t.Errorf("%s: refused, but without saying the key has a space: %v", line, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if r.ID != csvRow.ID || r.Name != csvRow.Name {
			t.Errorf("%s: id %q, name %q, fields %q; the same column in a CSV header gives id %q, name %q",
				line, r.ID, r.Name, r.Fields, csvRow.ID, csvRow.Name)
		}
	}
}
