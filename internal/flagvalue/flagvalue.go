// Package flagvalue holds values of command-line options that refuse, as
// they are parsed, what their option cannot mean: a negative count was
// taken silently (as "show none", or as "the default"). The values
// implement the flag package's Value (String, Set, Type); the command line
// names the option in the error.
package flagvalue

import (
	"fmt"
	"strconv"
)

// Count is a whole number of things, 0 or more. Zero, the hint said
// after a refusal, says what 0 means ("0 shows none").
type Count struct {
	N    *int
	Zero string
}

// NewCount returns a Count that sets *n, which starts as def; zero says
// what 0 means.
func NewCount(n *int, def int, zero string) *Count {
	*n = def
	return &Count{N: n, Zero: zero}
}

// String is the count in decimal.
func (c *Count) String() string {
	if c == nil || c.N == nil {
		return "0"
	}
	return strconv.Itoa(*c.N)
}

// Set parses s, refusing what is no whole number or is negative.
func (c *Count) Set(s string) error {
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a whole number: give 0 or more (%s)", s, c.Zero)
	case n < 0:
		return fmt.Errorf("%d is negative: give 0 or more (%s)", n, c.Zero)
	}
	*c.N = n
	return nil
}

// Type names the value in help: a number.
func (c *Count) Type() string { return "int" }
