// Package suggest finds the names closest to one that was mistyped, for
// "did you mean" hints (a campaign name typed at 2 a.m.).
package suggest

import (
	"slices"
	"strings"

	"github.com/agnivade/levenshtein"
)

// Similar returns the names among candidates that name may have been meant
// as: the same but for case, or within a third of its length in edits (at
// most 3), closest first, at most 3. name itself is never suggested.
func Similar(name string, candidates []string) []string {
	type near struct {
		name string
		d    int
	}
	limit := min(max(len([]rune(name))/3, 1), 3)
	var found []near
	for _, c := range candidates {
		if c == name {
			continue
		}
		d := levenshtein.ComputeDistance(strings.ToLower(name), strings.ToLower(c))
		if d <= limit {
			found = append(found, near{c, d})
		}
	}
	slices.SortStableFunc(found, func(a, b near) int { return a.d - b.d })
	out := make([]string, 0, min(len(found), 3))
	for _, f := range found[:min(len(found), 3)] {
		out = append(out, f.name)
	}
	return out
}
