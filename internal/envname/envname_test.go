package envname

import (
	"strings"
	"testing"
)

// TestValid: the one table of what an environment's name may be (red
// team 33d: any string was accepted, and a name with a line break, a
// terminal escape, a space or a combining accent was printed in status,
// keys and commands). Packages environment and campaign test their own
// refusals' words and lines.
func TestValid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"staging", true},
		{"eu-west.qa_2", true},
		{"Dev1", true},
		{"7", true},
		{strings.Repeat("a", 63), true},
		{"", false},
		{strings.Repeat("a", 64), false},
		{"a\nb", false},
		{"a\x1b[31mred", false},
		{"\xff", false},
		{"qa env", false},
		{"stag*", false},
		{"x}y", false},
		{"../x", false},
		{"a/b", false},
		{".hidden", false},
		{"-x", false},
		{"_x", false},
		{"pre\u0301prod", false}, // NFD
		{"préprod", false},       // NFC: ASCII only
	} {
		if got := Valid(tc.name); got != tc.ok {
			t.Errorf("Valid(%q) = %v, want %v", tc.name, got, tc.ok)
		}
	}
}
