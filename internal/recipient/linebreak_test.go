package recipient

import (
	"errors"
	"strings"
	"testing"
)

// TestLineBreakSaysLineBreak: a line break, carriage return or tab inside
// a quoted name (a spreadsheet cell edited with Alt+Enter) is refused as
// any control character is, and the reason names it in words a person
// knows, not only by its code point.
func TestLineBreakSaysLineBreak(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value, want string
	}{
		{"line feed", "Ann\nLee", "name: holds a line break (the control character U+000A) at byte 3: the value must be on one line (a spreadsheet cell edited with Alt+Enter holds one); remove it"},
		// encoding/csv reads CR LF inside quotes as LF.
		{"CR LF", "Ann\r\nLee", "name: holds a line break (the control character U+000A) at byte 3: the value must be on one line (a spreadsheet cell edited with Alt+Enter holds one); remove it"},
		{"carriage return", "Ann\rLee", "name: holds a line break (the control character U+000D) at byte 3: the value must be on one line (a spreadsheet cell edited with Alt+Enter holds one); remove it"},
		{"tab", "Ann\tLee", "name: holds a tab (the control character U+0009) at byte 3: replace it with a space"},
		{"other", "Ann\x07Lee", "name: holds the control character U+0007 at byte 3: remove it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			input := "email,locale,name\na@example.com,de,\"" + tt.value + "\"\n"
			rd, err := NewReader(strings.NewReader(input), ReaderConfig{Name: "r.csv"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = rd.Next()
			var re *RowError
			if !errors.As(err, &re) {
				t.Fatalf("Next() = %v, want a RowError", err)
			}
			if re.Code != CodeControlCharacter {
				t.Errorf("code %q, want %q", re.Code, CodeControlCharacter)
			}
			if got := re.Error(); got != "r.csv:2: "+tt.want {
				t.Errorf("reason\n got %q\nwant %q", got, "r.csv:2: "+tt.want)
			}
		})
	}
}
