package plan

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestPlanCountsNullNames (fx43f): rows whose name is a database export's
// null (`\N`, `NULL`, `(null)`: recipient.NullNames) are accepted with no
// name, so the template's no-name form greets them, not "Hello NULL"; the
// plan counts the accepted ones and names the first lines, so the operator
// sees it before sending. Every row stays accounted (runString checks the
// counts reconcile); a refused row is not counted; a file without such a
// name says nothing.
func TestPlanCountsNullNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, input string
		count       int
		lines       []int
		want        []string // parts of the plan's text; nil: no note
	}{
		{"five of them, one refused besides",
			"email,locale,name\na@example.com,de,\\N\nb@example.com,de,Null\nc@example.com,rm,NULL\nd@example.com,ja,NULL\ne@example.com,de,(null)\nf@example.com,de,\\N\ng@example.com,de,NULL\n",
			5, []int{2, 5, 6},
			[]string{`5 accepted recipients have a name that is a database export's null (\N, NULL or (null)): r.csv:2 (\N), r.csv:5 (NULL), r.csv:6 ((null)) and 2 more`,
				"no name",
				"greeted as the template greets someone without a name",
				"fill in the names in r.csv"}},
		{"one",
			"email,locale,name\na@example.com,de,NULL\n",
			1, []int{2},
			[]string{`1 accepted recipient has a name that is a database export's null (\N, NULL or (null)): r.csv:2 (NULL):`}},
		{"real names only",
			"email,locale,name\na@example.com,de,Null\nb@example.com,de,null\n",
			0, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, got, err := runString(t, "r.csv", tc.input)
			if err != nil {
				t.Fatal(err)
			}
			lines := make([]int, len(s.NullNames.First))
			for i, f := range s.NullNames.First {
				lines[i] = f.Line
			}
			if s.NullNames.Count != tc.count || !slices.Equal(lines, tc.lines) {
				t.Errorf("NullNames = %+v, want %d, first lines %v", s.NullNames, tc.count, tc.lines)
			}
			for _, a := range got {
				if a.NullName != "" && a.Name != "" {
					t.Errorf("line %d: name %q sent for the null %q", a.Line, a.Name, a.NullName)
				}
			}
			var out bytes.Buffer
			if err := s.WriteText(&out, 10); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(strings.Fields(out.String()), " ")
			if tc.want == nil && strings.Contains(text, "database export's null") {
				t.Errorf("the plan speaks of null names:\n%s", out.String())
			}
			for _, part := range tc.want {
				if !strings.Contains(text, part) {
					t.Errorf("the plan lacks %q:\n%s", part, out.String())
				}
			}
		})
	}
}
