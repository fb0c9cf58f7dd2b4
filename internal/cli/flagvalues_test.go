package cli

import (
	"fmt"
	"strings"
	"testing"
)

// TestFlagValuesAreChecked (README walk-through): the global --log-level
// takes debug, info, warn or error, status --watch refreshes every
// --interval, and `tidings completion` takes bash, zsh, fish or
// powershell. `--log-level verbose` was taken silently (logging at the
// default level), `--interval 0s` refreshed without pause (6,749 reads
// from Redis in two seconds), and `completion tcsh` printed help and exit
// 0 (so `source <(tidings completion tcsh)` failed without a word). Each is
// a usage error (exit 2) naming the flag or value, said before anything
// connects to Redis; the values they take still work.
func TestFlagValuesAreChecked(t *testing.T) {
	t.Parallel()
	host, port := closedPort(t) // nothing should be reached: the flags are wrong
	env := map[string]string{"TIDINGS_REDIS_URL": fmt.Sprintf("redis://%s:%d/0", host, port), "TIDINGS_STATE_DIR": t.TempDir()}
	for _, tc := range []struct {
		args []string
		code int
		says string // in stderr (code 2) or stdout (code 0)
	}{
		{[]string{"--log-level", "verbose", "version"}, 2, `--log-level: log level "verbose": use debug, info, warn or error`},
		{[]string{"--log-level", "debug", "version"}, 0, "tidings "},
		{[]string{"status", "altea", "--env", "staging", "--watch", "--interval", "0s"}, 2, "--interval 0s: give a positive duration"},
		{[]string{"status", "altea", "--env", "staging", "--watch", "--interval", "-5s"}, 2, "--interval -5s: give a positive duration"},
		// A negative count was taken silently (plan --show -1 showed no
		// row; worker --concurrency -3 was refused only once Redis
		// answered, and exit 3 here, where it does not).
		{[]string{"plan", "c.yaml", "--show", "-1"}, 2, `invalid argument "-1" for "--show" flag: -1 is negative: give 0 or more (0 shows none)`},
		{[]string{"send", "c.yaml", "--env", "staging", "--show=-5"}, 2, `invalid argument "-5" for "--show" flag: -5 is negative`},
		{[]string{"worker", "--env", "staging", "--concurrency", "-3"}, 2, `invalid argument "-3" for "--concurrency" flag: -3 is negative: give 0 or more (0 uses the environment's)`},
		{[]string{"plan", "c.yaml", "--show", "x"}, 2, `"x" is not a whole number`},
		// More chunks in flight than smtp.connections would open more
		// connections than the relay allows (red team 14c).
		{[]string{"worker", "--env", "staging", "--concurrency", "9"}, 2, "concurrency 9 is above smtp.connections of environment staging (8), the most SMTP connections a worker opens, and each chunk in flight holds one: give at most 8, or raise smtp.connections"},
		{[]string{"completion", "tcsh"}, 2, `no completion for "tcsh": use bash, zsh, fish or powershell`},
		{[]string{"completion", "bsh"}, 2, `no completion for "bsh"`},
		{[]string{"completion", "bash"}, 0, "bash completion"},
		{[]string{"completion"}, 0, "tidings completion [command]"},
	} {
		r := cli(t, env, tc.args...)
		out := r.stdout
		if tc.code != 0 {
			out = r.stderr
		}
		if r.code != tc.code || !strings.Contains(out, tc.says) {
			t.Errorf("tidings %s: exit %d, want %d saying %q\n%s", strings.Join(tc.args, " "), r.code, tc.code, tc.says, r)
		}
	}
}
