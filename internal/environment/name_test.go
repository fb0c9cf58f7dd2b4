package environment

import (
	"strings"
	"testing"
)

// TestEnvironmentNameIsAWord (red team 33d): an environment's name becomes
// a directory (the state directory), part of Redis keys and of the queue's
// name, a metrics label, a refusal code (not-allowed-in-<env>) and the
// --env that tidings tells the operator to type. Any string was accepted:
// --env $'a\x1b[31m' wrote the terminal escape into status's output,
// --env $'a\nb' split its line in two, a name with a space was printed in
// a command that does not run as printed, and "préprod" spelt with a
// combining accent (NFD) was another environment than "préprod" (NFC) that
// looks the same. A name is now 1-63 ASCII letters, digits, '-', '_' and
// '.', beginning with a letter or digit (package envname, whose table
// holds the rule's cases); any other is refused, at its line in the config
// file when it is written there, else as the --env typed, quoted.
func TestEnvironmentNameIsAWord(t *testing.T) {
	t.Parallel()
	const rule = "an environment's name is 1-63 ASCII letters, digits, '-', '_' and '.', beginning with a letter or digit"
	for _, tc := range []struct{ name, config, env, want string }{
		{"line break", "", "a\nb", `--env "a\nb": ` + rule},
		{"terminal escape", "", "a\x1b[31mred", `--env "a\x1b[31mred": ` + rule},
		{"not UTF-8", "", "\xff", `--env "\xff": ` + rule},
		{"NFD", "", "pre\u0301prod", "--env \"pre\u0301prod\": " + rule},
		{"too long", "", strings.Repeat("a", 64), rule},
		{"in the config file", "environments:\n  staging: {}\n  \"qa env\": {}\n", "qa env", `tidings.yaml:3: environments.qa env: ` + rule},
		// Two environments whose names differ only in case look like one:
		// whichever is asked for, both lines are named.
		{"case twins, lower asked", "environments:\n  Staging: {}\n  staging: {}\n", "staging",
			`tidings.yaml:3: environments.staging: differs only in case from environments.Staging (line 2), which looks like the same environment: give one of them a name of its own`},
		{"case twins, upper asked", "environments:\n  Staging: {}\n  staging: {}\n", "Staging",
			`tidings.yaml:2: environments.Staging: differs only in case from environments.staging (line 3)`},
		{"plain", "", "staging", ""},
		{"in the config file, fine", "environments:\n  staging: {}\n  Dev1: {}\n", "Dev1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := Load([]byte(tc.config), "tidings.yaml", tc.env, func(string) string { return "" })
			if tc.want == "" {
				if err != nil || e.Name != tc.env {
					t.Fatalf("Load(%q): %+v, %v; want it loaded", tc.env, e, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load(%q): err %v; want refused saying %q", tc.env, err, tc.want)
			}
		})
	}
}
