package plan

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/recipient"
	"github.com/tidings-mail/tidings/internal/render"
)

// TestHostileRowsAreInvalid: a 10 KB id, a 1 MB name, an id or a name with
// a direction control are invalid rows, counted as such (never reaching the locale
// rule, so no locale line counts them), and the plan's text names
// file:line: field: and what to do without showing the value.
func TestHostileRowsAreInvalid(t *testing.T) {
	t.Parallel()
	c := testCampaign(t, "")
	eng := engine(t, render.Policy{})
	tests := []struct {
		name, row, field, code string
	}{
		{"a 10 KB id", "a@example.com,de," + strings.Repeat("9", 10240) + ",Ada", "id", recipient.CodeTooLong},
		{"an id with U+202E", "a@example.com,de,u1\u202eexe.txt,Ada", "id", recipient.CodeInvisibleCharacter},
		{"a name with U+202E", "a@example.com,de,u1,Ada \u202eecnalevoL", "name", recipient.CodeDirectionControl},
		{"a 1 MB name", "a@example.com,de,u1," + strings.Repeat("x", 1<<20-100), "name", recipient.CodeTooLong},
	}
	for _, tt := range tests {
		s, err := Run(context.Background(), Input{Campaign: c, Engine: eng,
			Recipients: strings.NewReader("email,locale,id,name\nb@example.com,en,u0,Bo\n" + tt.row + "\n"), RecipientsName: "r.csv"}, nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		perLocale := 0
		for _, l := range s.PerLocale {
			perLocale += l.Accepted + l.Refused
		}
		if s.Rows != 2 || s.Accepted != 1 || s.Invalid != 1 || perLocale != 1 || len(s.Rejects) != 1 {
			t.Errorf("%s: rows %d, accepted %d, invalid %d, per-locale %d, rejects %d; want 2, 1, 1, 1, 1", tt.name, s.Rows, s.Accepted, s.Invalid, perLocale, len(s.Rejects))
			continue
		}
		if r := s.Rejects[0]; r.Outcome != OutcomeInvalid || r.Code != tt.code || r.Field != tt.field || r.Line != 3 {
			t.Errorf("%s: reject %+v; want invalid, %s, field %s, line 3", tt.name, r, tt.code, tt.field)
		}
		var text bytes.Buffer
		if err := s.WriteText(&text, 20); err != nil {
			t.Fatal(err)
		}
		out := text.String()
		if !strings.Contains(out, "r.csv:3: "+tt.field+": ") || strings.ContainsRune(out, '\u202e') || len(out) > 2000 {
			t.Errorf("%s: the plan should name r.csv:3: %s: without the value:\n%.3000q", tt.name, tt.field, out)
		}
	}
}
