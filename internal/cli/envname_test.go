package cli

import (
	"strings"
	"testing"
)

// TestEnvironmentNameWithAnEscapeIsRefused (red team 33d): status --env
// with a terminal escape in the name wrote the escape into its output
// ("No campaigns in environment a<ESC>[31m...", colouring the operator's
// terminal), and a line break split its lines. The name is now refused as
// a configuration error, quoted, before Redis is asked anything.
func TestEnvironmentNameWithAnEscapeIsRefused(t *testing.T) {
	t.Parallel()
	env, _ := redisEnv(t)
	for _, name := range []string{"a\x1b[31mred", "a\nb"} {
		for _, args := range [][]string{{"status", "--env", name}, {"pause", "c1", "--env", name, "--reason", "look"}} {
			r := cli(t, env, args...)
			if r.code != 2 || r.stdout != "" || strings.ContainsAny(r.stderr, "\x1b") || strings.Count(r.stderr, "\n") != 1 ||
				!strings.Contains(r.stderr, "an environment's name is 1-63 ASCII letters") {
				t.Errorf("tidings %q: %s\nwant exit 2, the name refused on one line, no escape written", args, r)
			}
		}
	}
}
