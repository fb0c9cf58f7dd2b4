package journal_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
)

// TestDamagedLineNamesFileLineAndField: a whole line of a journal file
// that is no entry tidings writes (a damaged disk's zeroes, a NUL or
// invalid UTF-8 in a field, a field of the wrong type, an empty line, a
// file that is no journal) is refused by Read, as a *journal.LineError
// naming the file, the line and the field at fault, and the error says
// what to do. A line with invalid UTF-8 was read as if whole, its bytes
// replaced by U+FFFD: its recipient's id then matched nobody, and a
// recovery could mail them again. The other errors named no field and
// said nothing of what to do.
func TestDamagedLineNamesFileLineAndField(t *testing.T) {
	t.Parallel()
	const head = `{"at":"2026-01-01T00:00:00Z","campaign":"c","run":"r"`
	good := head + `,"id":"a","email":"a@x.example","outcome":"sent","worker":"w"}` + "\n"
	for _, tc := range []struct {
		name, line, field string
	}{
		{"zeroes of a damaged disk", strings.Repeat("\x00", 40), ""},
		{"a NUL in an address", head + `,"id":"b","email":"b` + "\x00" + `@x.example","outcome":"sent"}`, "email"},
		{"invalid UTF-8 in an id", head + `,"id":"b` + "\xff\xfe" + `","email":"b@x.example","outcome":"sent"}`, "id"},
		{"a time that is none", `{"at":"yesterday","campaign":"c","run":"r","id":"b","email":"b@x.example","outcome":"sent"}`, "at"},
		{"an attempt that is no number", head + `,"id":"b","email":"b@x.example","outcome":"claimed","attempt":"two"}`, "attempt"},
		{"an empty line", "", ""},
		{"prose", "these are the journal files of host B", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "c")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "r.w.jsonl")
			if err := os.WriteFile(file, []byte(good+tc.line+"\n"+good), 0o644); err != nil {
				t.Fatal(err)
			}
			err := journal.Read(filepath.Dir(dir), "c", func(journal.Entry) error { return nil })
			le, ok := errors.AsType[*journal.LineError](err)
			if !ok {
				t.Fatalf("Read: %v, want a *journal.LineError", err)
			}
			if le.Path != file || le.Line != 2 || le.Field != tc.field {
				t.Errorf("LineError{%s, %d, %q}, want {%s, 2, %q}", le.Path, le.Line, le.Field, file, tc.field)
			}
			msg := err.Error()
			want := []string{file + ":2:", "not a journal entry", "sed -n 2p " + file, "SMTP server's log", "keep a copy of the file", "mailed twice"}
			if tc.field != "" {
				want = append(want, "field "+strconv.Quote(tc.field))
			}
			for _, w := range want {
				if !strings.Contains(msg, w) {
					t.Errorf("Read: %s\nwant it to say %q", msg, w)
				}
			}
		})
	}
}
