package doctor

import (
	"strings"
	"testing"
)

// TestWriteTextSummaryCountsWarnings (red team 30): doctor's last line must
// not read as a clean bill when lines above it warn. Before the fix an
// operator's preflight printed three WARN lines (SMTP unencrypted, no AUTH,
// a crash of the host may send some twice) and then "All checks passed.",
// the line a hurried operator reads. The summary now counts the warnings
// and says to read them; with none it is unchanged, and with a failure
// there is none (the FAIL lines say what to do).
func TestWriteTextSummaryCountsWarnings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		checks []Check
		want   string // the text after the check lines
	}{
		{"all pass", []Check{pass("a", "ok"), pass("b", "ok")}, "\nAll checks passed.\n"},
		{"one warning", []Check{pass("a", "ok"), warn("b", "risky")},
			"\nAll checks passed, 1 with a warning (WARN above): read what it says before you send.\n"},
		{"three warnings", []Check{warn("a", "x"), warn("b", "y"), pass("c", "ok"), warn("d", "z")},
			"\nAll checks passed, 3 with a warning (WARN above): read what they say before you send.\n"},
		{"a failure", []Check{warn("a", "x"), fail("b", "broken")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &Report{Checks: tc.checks}
			r.Failed, r.Infra = Failed(r.Checks)
			var b strings.Builder
			r.WriteText(&b)
			lines := strings.SplitAfter(b.String(), "\n")
			got := strings.Join(lines[len(tc.checks):], "")
			if got != tc.want {
				t.Errorf("after the checks:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}
