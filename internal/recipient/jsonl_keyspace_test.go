package recipient

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestJSONLKeysAreTrimmedAsCSVColumns: spaces around a JSONL key are
// dropped, as around a CSV header's column, so "id " and " name" are the
// id and the name in both formats (found by a red team: they became
// template data silently, and every message greeted "Hello ,"); two keys
// that are one field once trimmed and lower-cased make the row invalid.
func TestJSONLKeysAreTrimmedAsCSVColumns(t *testing.T) {
	t.Parallel()
	first := func(t *testing.T, input, name string) (Recipient, error) {
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
	csvRow, err := first(t, "email,locale,id ,name \na@x.test,de,7,N\n", "r.csv")
	if err != nil || csvRow.ID != "7" || csvRow.Name != "N" {
		t.Fatalf("CSV: id %q name %q err %v; want 7, N", csvRow.ID, csvRow.Name, err)
	}
	for _, line := range []string{
		`{"email":"a@x.test","locale":"de","id ":"7","name ":"N"}`,
		`{" email":"a@x.test","locale ":"de"," id":"7"," name":"N"}`,
		`{"email":"a@x.test","locale":"de","\tId\t":"7","NAME ":"N"}`,
	} {
		r, err := first(t, line+"\n", "r.jsonl")
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		if r.Email != "a@x.test" || r.Locale != "de" || r.ID != csvRow.ID || r.Name != csvRow.Name || r.Fields != nil {
			t.Errorf("%s: email %q locale %q id %q name %q fields %q; the same columns in a CSV header give a@x.test, de, 7, N and no fields",
				line, r.Email, r.Locale, r.ID, r.Name, r.Fields)
		}
	}
	r, err := first(t, `{"email":"a@x.test","locale":"de"," city":"Köln"}`+"\n", "r.jsonl")
	if err != nil || r.Fields["city"] != "Köln" || len(r.Fields) != 1 {
		t.Errorf("an extra key with a space: fields %q, err %v; want city: Köln", r.Fields, err)
	}
	for _, tc := range []struct{ line, want string }{
		{`{"email":"a@x.test","locale":"de","id":"7","id ":"8"}`, `r.jsonl:1: id: the keys "id" and "id " are the same field: keep one`},
		{`{"email":"a@x.test","locale":"de"," Name":"A","name":"B"}`, `r.jsonl:1: name: the keys " Name" and "name" are the same field: keep one`},
		{`{"email":"a@x.test","locale":"de","city":"A","City ":"B"}`, `r.jsonl:1: city: the keys "city" and "City " are the same field: keep one`},
	} {
		_, err := first(t, tc.line+"\n", "r.jsonl")
		var re *RowError
		if !errors.As(err, &re) || re.Code != CodeBadRow || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.line, err, tc.want)
		}
	}
}

// TestInvisibleCharacterInAKnownColumnIsRefused: a column or key that is
// email, locale, id or name but for a character a spreadsheet does not
// show (a zero-width space, a byte order mark, a soft hyphen) would be
// template data silently, and the id, name or email the operator sees is
// not the one read: it is refused, naming the character and where it is.
// Other columns may hold such characters (a zero-width non-joiner is part
// of Persian words).
func TestInvisibleCharacterInAKnownColumnIsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, file, input, want string }{
		{"CSV id with a zero-width space", "r.csv", "email,locale,id\u200b\na@x.test,de,7\n",
			`r.csv:1: column 3 ("id\u200b") holds the invisible character U+200B at byte 2, so it is not the column id it looks like: remove the character from the header row`},
		{"CSV name with a soft hyphen", "r.csv", "email,locale,Na\u00adme\na@x.test,de,N\n",
			`r.csv:1: column 3 ("Na\u00adme") holds the invisible character U+00AD at byte 2, so it is not the column name it looks like: remove the character from the header row`},
		{"CSV email after a second BOM", "r.csv", "\ufeff\ufeffemail,locale\na@x.test,de\n",
			`r.csv:1: column 1 ("\ufeffemail") holds the invisible character U+FEFF at byte 0, so it is not the column email it looks like: remove the character from the header row`},
		{"JSONL id with a zero-width space", "r.jsonl", `{"email":"a@x.test","locale":"de","id` + "\u200b" + `":"7"}` + "\n",
			`r.jsonl:1: id: the key "id\u200b" holds the invisible character U+200B at byte 2, so it is not the key "id" it looks like: remove the character`},
		{"JSONL locale with a BOM and a space", "r.jsonl", `{"email":"a@x.test"," ` + "\ufeff" + `locale":"de"}` + "\n",
			`r.jsonl:1: locale: the key "\ufefflocale" holds the invisible character U+FEFF at byte 0, so it is not the key "locale" it looks like: remove the character`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rd, err := NewReader(strings.NewReader(tc.input), ReaderConfig{Name: tc.file})
			if err == nil {
				_, err = rd.Next()
				var re *RowError
				if errors.As(err, &re) && re.Code != CodeBadRow {
					t.Errorf("code %s, want %s", re.Code, CodeBadRow)
				}
			}
			if err == nil || err.Error() != tc.want {
				t.Errorf("\n got %v\nwant %s", err, tc.want)
			}
		})
	}
	// Not a known column: template data as written.
	rd, err := NewReader(strings.NewReader("email,locale,\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645\na@x.test,de,x\n"), ReaderConfig{Name: "r.csv"})
	if err != nil {
		t.Fatalf("a Persian column name with a zero-width non-joiner: %v", err)
	}
	if r, err := rd.Next(); err != nil || r.Fields["\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"] != "x" {
		t.Errorf("a Persian column name with a zero-width non-joiner: fields %q, err %v", r.Fields, err)
	}
}
