package environment

import (
	"slices"
	"strings"

	"github.com/tidings-mail/tidings/internal/suggest"
)

// UnknownVariable is a TIDINGS_* variable of the process that tidings does
// not read (a typo such as TIDINGS_REDIS_ULR is otherwise ignored without a
// word), and the known variable it may have been meant as: Closest is ""
// when none is close (suggest.Similar).
type UnknownVariable struct {
	Name, Closest string
}

// UnknownVariables returns the TIDINGS_* variables of environ (KEY=VALUE,
// as os.Environ) that name no setting (Reference lists them) and are not
// among known (the variables read elsewhere, such as the config file's),
// sorted by name.
func UnknownVariables(environ []string, known ...string) []UnknownVariable {
	for _, s := range settings {
		if s.variable != "" && !slices.Contains(known, s.variable) {
			known = append(known, s.variable)
		}
	}
	var out []UnknownVariable
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "TIDINGS_") || slices.Contains(known, name) || slices.ContainsFunc(out, func(u UnknownVariable) bool { return u.Name == name }) {
			continue
		}
		u := UnknownVariable{Name: name}
		if near := suggest.Similar(name, known); len(near) > 0 {
			u.Closest = near[0]
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b UnknownVariable) int { return strings.Compare(a.Name, b.Name) })
	return out
}
