package recipient

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

// TestHostileIDsAndNames: an id longer than MaxIDBytes, or one holding a
// character no screen shows (a direction control such as U+202E
// RIGHT-TO-LEFT OVERRIDE, a zero-width space), and a name holding a
// direction control (it would reorder the To: header's display name and
// the console's cell) make the row invalid, naming file:line:field, the
// limit or the character and where, and what to do; the reason never
// holds the value itself. A right-to-left name with a direction mark
// (U+200F), which right-to-left text uses, is accepted, and so is an id
// of exactly MaxIDBytes. A name longer than MaxNameChars (a column an
// export shifted or ran on: it would be the To: header's display name,
// megabytes of header a relay truncates or refuses) is invalid too; one of
// exactly MaxNameChars, in any script, is accepted. CSV and JSONL agree.
func TestHostileIDsAndNames(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("i", 10240)
	tests := []struct {
		name, id, person string
		field, code      string // "" when accepted
		reason           string
	}{
		{"a 10 KB id", long, "Ada", "id", CodeTooLong,
			"the id is 10240 bytes, longer than the 255 an id may have: shorten it (an id is a key: a number or a short code)"},
		{"an id at the limit", strings.Repeat("i", MaxIDBytes), "Ada", "", "", ""},
		{"right-to-left override in an id", "u1\u202egpj.exe", "Ada", "id", CodeInvisibleCharacter,
			"holds U+202E (a direction control) at byte 2, which no screen shows but which reorders the text around it: remove it"},
		{"zero-width space in an id", "u\u200b1", "Ada", "id", CodeInvisibleCharacter,
			"holds U+200B (an invisible character) at byte 1, which no screen shows, so the id is not the one it looks like: remove it"},
		{"right-to-left override in a name", "u1", "Ada \u202eecnalevoL", "name", CodeDirectionControl,
			"holds U+202E (a direction control) at byte 4, which reorders how the name is shown (in the To: header and the console): remove it; right-to-left names need none"},
		{"a right-to-left isolate in a name", "u1", "\u2067ليلى\u2069", "name", CodeDirectionControl,
			"holds U+2067 (a direction control) at byte 0"},
		{"a right-to-left mark in a name", "u1", "ליאור\u200f Cohen", "", "", ""},
		{"a 1 MB name (a shifted column)", "u1", strings.Repeat("x", 1000000), "name", CodeTooLong,
			"the name is 1000000 characters, longer than the 2000 a name may have"},
		{"a name one character over the limit", "u1", strings.Repeat("x", MaxNameChars+1), "name", CodeTooLong,
			"the name is 2001 characters, longer than the 2000 a name may have"},
		{"a name at the limit, in characters not bytes", "u1", strings.Repeat("名", MaxNameChars), "", "", ""},
	}
	for _, tt := range tests {
		for _, format := range []string{"csv", "jsonl"} {
			var input string
			if format == "csv" {
				input = "email,locale,id,name\n" + "a@example.com,de," + tt.id + "," + tt.person + "\n"
			} else {
				input = `{"email":"a@example.com","locale":"de","id":` + strconv.Quote(tt.id) + `,"name":` + strconv.Quote(tt.person) + "}\n"
			}
			rd, err := NewReader(strings.NewReader(input), ReaderConfig{Name: "r." + format})
			if err != nil {
				t.Fatalf("%s (%s): %v", tt.name, format, err)
			}
			_, err = rd.Next()
			var re *RowError
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("%s (%s): %v, want the row accepted", tt.name, format, err)
			case tt.field == "":
			case !errors.As(err, &re):
				t.Errorf("%s (%s): %v, want a *RowError", tt.name, format, err)
			case re.Line != 2 && format == "csv", re.Line != 1 && format == "jsonl", re.Field != tt.field, re.Code != tt.code, !strings.HasPrefix(re.Reason, tt.reason):
				t.Errorf("%s (%s): %s:%d: %s: [%s] %s\nwant field %s, code %s, reason %s", tt.name, format, re.File, re.Line, re.Field, re.Code, re.Reason, tt.field, tt.code, tt.reason)
			case len(re.Error()) > 300 || strings.ContainsAny(re.Error(), "\u202e\u200b\u2067"):
				t.Errorf("%s (%s): the error shows the value: %.200q", tt.name, format, re.Error())
			}
			if _, err := rd.Next(); !errors.Is(err, io.EOF) {
				t.Errorf("%s (%s): after the row: %v, want EOF", tt.name, format, err)
			}
		}
	}
}
