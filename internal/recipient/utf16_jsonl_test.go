package recipient

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestUTF16JSONLWithoutBOMIsRefused: a JSONL file saved as UTF-16 without
// a byte order mark (iconv -t UTF-16LE, .NET's UnicodeEncoding without a
// BOM) is refused as UTF-16 at once, as the same file in CSV is, not read
// as one invalid row per line with advice about JSON quoting and a phantom
// row for the NUL after the last line break (found by a red team). A line
// holding NUL bytes later in a UTF-8 file (a UTF-16 export appended) is an
// invalid row that says the same.
func TestUTF16JSONLWithoutBOMIsRefused(t *testing.T) {
	t.Parallel()
	const text = `{"email":"a@x.test","locale":"de"}` + "\n" + `{"email":"b@x.test","locale":"fr"}` + "\n"
	utf16 := func(s string, bigEndian bool) string {
		var b []byte
		for _, c := range []byte(s) {
			if bigEndian {
				b = append(b, 0, c)
			} else {
				b = append(b, c, 0)
			}
		}
		return string(b)
	}
	const advice = `the line holds NUL bytes: the file looks like UTF-16; save it as UTF-8 (in a spreadsheet: "CSV UTF-8 (comma delimited)")`
	for _, tc := range []struct{ name, input, want string }{
		{"UTF-16LE", utf16(text, false), "r.jsonl:1: " + advice},
		{"UTF-16BE", utf16(text, true), "r.jsonl:1: " + advice},
		{"after blank lines", "\n\r\n" + utf16(text, false), "r.jsonl:3: " + advice},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewReader(strings.NewReader(tc.input), ReaderConfig{Name: "r.jsonl"})
			if err == nil || err.Error() != tc.want {
				t.Errorf("\n got %v\nwant %s", err, tc.want)
			}
		})
	}
	rd, err := NewReader(strings.NewReader(`{"email":"a@x.test","locale":"de"}`+"\n"+utf16(`{"email":"b@x.test","locale":"fr"}`, false)+"\n"), ReaderConfig{Name: "r.jsonl"})
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	if r, err := rd.Next(); err != nil || r.Email != "a@x.test" {
		t.Fatalf("line 1: %q, %v", r.Email, err)
	}
	_, err = rd.Next()
	var re *RowError
	const want = `r.jsonl:2: the line holds NUL bytes (the first at byte 1): the file looks like UTF-16; save it as UTF-8 (in a spreadsheet: "CSV UTF-8 (comma delimited)")`
	if !errors.As(err, &re) || re.Code != CodeControlCharacter || err.Error() != want {
		t.Errorf("line 2:\n got %v\nwant %s (%s)", err, want, CodeControlCharacter)
	}
	if _, err := rd.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after line 2: %v, want io.EOF", err)
	}
}
