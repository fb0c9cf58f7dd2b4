package cli

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/wait"
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
		// A negative --shutdown-timeout (README: "a negative one is a
		// usage error, exit 2") was refused only once Redis answered:
		// exit 3 here, naming Redis, where the flag was the mistake.
		{[]string{"worker", "--env", "staging", "--shutdown-timeout", "-1s"}, 2, "--shutdown-timeout -1s: give how long a graceful shutdown may take, e.g. --shutdown-timeout 10s"},
		// More chunks in flight than smtp.connections would open more
		// connections than the relay allows (red team 14c).
		{[]string{"worker", "--env", "staging", "--concurrency", "9"}, 2, "--concurrency: 9 is above smtp.connections (8), the most SMTP connections a worker opens, and each recipient processed at once holds one: lower concurrency to 8 or less (or remove it: it follows smtp.connections), or raise smtp.connections"},
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

// TestWorkerConcurrencyFlagWins: a worker's concurrency comes from
// --concurrency, else TIDINGS_CONCURRENCY, else the config file's
// concurrency, else smtp.connections. The flag used to be applied only
// after the environment had loaded, so a value the flag replaces (above
// smtp.connections, in the variable or the file) refused the worker
// (exit 2, "TIDINGS_CONCURRENCY: 16 is above smtp.connections") although
// the operator had given one that fits. The worker's "worker started" log
// line says the concurrency it runs with.
func TestWorkerConcurrencyFlagWins(t *testing.T) {
	renv, _ := redisEnv(t)
	for _, tt := range []struct {
		name     string
		file     string // the environment's concurrency in the config file, "" for none
		variable string // TIDINGS_CONCURRENCY
		flag     string // --concurrency
		want     int
	}{
		{"connections alone", "", "", "", 8},
		{"file", "2", "", "", 2},
		{"variable over the file", "2", "3", "", 3},
		{"flag over the variable and the file", "2", "3", "5", 5},
		{"flag over a variable above smtp.connections", "", "16", "4", 4},
		{"flag over a file above smtp.connections", "16", "", "4", 4},
		{"flag 0 is the environment's", "2", "3", "0", 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "tidings.yaml")
			yaml := "environments:\n  staging:\n    allow: [example.org]\n    smtp: {connections: 8}\n"
			if tt.file != "" {
				yaml += "    concurrency: " + tt.file + "\n"
			}
			fixture.Write(t, cfg, yaml)
			env := merge(renv, map[string]string{"TIDINGS_CONFIG": cfg, "TIDINGS_CONCURRENCY": tt.variable})
			args := []string{"--log-level", "info"}
			if tt.flag != "" {
				args = append(args, "--concurrency", tt.flag)
			}
			stop, log := startWorker(t, env, args...)
			// A refused worker exits saying why, which names smtp.connections.
			wait.For(t, 30*time.Second, "the worker to start or be refused", func() bool {
				return strings.Contains(log.String(), "worker started") || strings.Contains(log.String(), "smtp.connections")
			}, log.String)
			if !strings.Contains(log.String(), "concurrency="+strconv.Itoa(tt.want)+" ") {
				t.Errorf("the worker does not run with concurrency %d:\n%s", tt.want, log)
			}
			if code := stop(); code != 0 {
				t.Errorf("worker exit %d:\n%s", code, log)
			}
		})
	}
}
