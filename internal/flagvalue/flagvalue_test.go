package flagvalue_test

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/flagvalue"
)

func TestCount(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want int    // when ok
		err  string // "" when ok
	}{
		{"0", 0, ""},
		{"7", 7, ""},
		{"-1", 20, "-1 is negative: give 0 or more (0 shows none)"},
		{"x", 20, `"x" is not a whole number: give 0 or more (0 shows none)`},
		{"1.5", 20, "not a whole number"},
	} {
		var n int
		c := flagvalue.NewCount(&n, 20, "0 shows none")
		err := c.Set(tt.in)
		if tt.err == "" && (err != nil || n != tt.want || c.String() != tt.in) {
			t.Errorf("Set(%q): %v, n %d, String %q", tt.in, err, n, c.String())
		}
		if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || n != tt.want) {
			t.Errorf("Set(%q): %v, n %d; want %q and the default kept", tt.in, err, n, tt.err)
		}
	}
	var n int
	if c := flagvalue.NewCount(&n, 20, ""); n != 20 || c.String() != "20" || c.Type() != "int" {
		t.Errorf("NewCount: n %d, String %q, Type %q", n, c.String(), c.Type())
	}
}
