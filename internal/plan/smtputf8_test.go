package plan

import (
	"bytes"
	"strings"
	"testing"
)

// TestPlanSaysWhoNeedsSMTPUTF8 (red team 38): an address whose local part
// is not ASCII (jösé@example.com) is accepted, and is delivered only
// through a relay that offers SMTPUTF8. Before, plan said nothing of it;
// through a relay without SMTPUTF8 (aiosmtpd as it starts, many
// in-house relays) the row failed for good at send time, and one such
// row among the canary's four paused the campaign at its batch gate (25%
// failed). Now the plan counts such accepted rows, names the first one,
// and says what happens and what to check, before anything is staged; a
// refused or invalid row is not counted, and a file with none says
// nothing.
func TestPlanSaysWhoNeedsSMTPUTF8(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, input string
		count, line int
		want        []string // parts of the plan's text; nil: no note
	}{
		{"two of them",
			"email,locale\na@example.com,de\njösé@example.com,de\nb@bücher.example,de\n用户@example.com,ja\nzoë@example.com,pt\n",
			2, 3,
			[]string{"2 accepted recipients have an address whose local part (before the @) is not ASCII (the first: r.csv:3: jösé@example.com)",
				"only through an SMTP relay that offers SMTPUTF8 (RFC 6531)",
				"fails for good",
				"may pause the campaign",
				"test-send"}},
		{"an IDN domain alone needs none",
			"email,locale\na@example.com,de\nb@bücher.example,de\n",
			0, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _, err := runString(t, "r.csv", tc.input)
			if err != nil {
				t.Fatal(err)
			}
			if s.SMTPUTF8.Count != tc.count || s.SMTPUTF8.Line != tc.line {
				t.Errorf("SMTPUTF8 = %+v, want %d from line %d", s.SMTPUTF8, tc.count, tc.line)
			}
			var out bytes.Buffer
			if err := s.WriteText(&out, 10); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(strings.Fields(out.String()), " ")
			if tc.want == nil && strings.Contains(text, "SMTPUTF8") {
				t.Errorf("the plan speaks of SMTPUTF8:\n%s", out.String())
			}
			for _, part := range tc.want {
				if !strings.Contains(text, part) {
					t.Errorf("the plan lacks %q:\n%s", part, out.String())
				}
			}
		})
	}
}
