package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestConsoleFlagsWinOverVariables: console --addr / --url set
// console.addr / console.url over TIDINGS_CONSOLE_ADDR / _URL.
//
//   - A malformed variable the flag replaces does not stop the console.
//   - The variable alone is refused naming it (exit 2), and a bad flag
//     naming the flag, once: not again as the console.url derived from it.
//
// The variable was checked before the flag replaced it, and refused; a bad
// --addr was left to the listener's words.
func TestConsoleFlagsWinOverVariables(t *testing.T) {
	t.Parallel()
	renv, _ := redisEnv(t)
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		says string // on stdout when it starts, on stderr when refused
		code int    // -1: starts
	}{
		{"bad variable, good --addr", map[string]string{"TIDINGS_CONSOLE_ADDR": "no-port"}, []string{"--addr", "127.0.0.1:0"}, "Console for environment staging on http://127.0.0.1:", -1},
		{"bad variable alone", map[string]string{"TIDINGS_CONSOLE_ADDR": "no-port"}, nil, `TIDINGS_CONSOLE_ADDR: "no-port" is not host:port: write e.g. 127.0.0.1:8080`, 2},
		{"bad --addr", map[string]string{"TIDINGS_CONSOLE_ADDR": "127.0.0.1:0"}, []string{"--addr", "no-port"}, `--addr: "no-port" is not host:port`, 2},
		{"bad url variable, good --url", map[string]string{"TIDINGS_CONSOLE_URL": "ftp://x", "TIDINGS_CONSOLE_ADDR": "127.0.0.1:0"}, []string{"--url", "https://tidings.example.com"}, "Console for environment staging on http://127.0.0.1:", -1},
		{"bad url variable alone", map[string]string{"TIDINGS_CONSOLE_URL": "ftp://x", "TIDINGS_CONSOLE_ADDR": "127.0.0.1:0"}, nil, `TIDINGS_CONSOLE_URL: "ftp://x" is not an http(s) URL`, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := merge(renv, map[string]string{"TIDINGS_CONSOLE_OPERATOR_TOKEN": "ops 0123456789abcdef0123456789abcdef"}, tc.vars)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var stdout, stderr syncbuf.Buffer
			done := make(chan int, 1)
			go func() {
				done <- run(ctx, append([]string{"console", "--env", "staging", "--notify=false"}, tc.args...),
					strings.NewReader(""), &stdout, &stderr, func(k string) string { return env[k] }, environOf(env))
			}()
			if tc.code >= 0 {
				code := <-done
				// A bad address is one problem: the URL derived from it is
				// not a second one ("console.url: \"\" is not an http(s) URL").
				if code != tc.code || !strings.Contains(stderr.String(), tc.says) || strings.Contains(stderr.String(), `console.url: ""`) {
					t.Errorf("exit %d, want %d saying %q\n--- stdout:\n%s\n--- stderr:\n%s", code, tc.code, tc.says, stdout.String(), stderr.String())
				}
				return
			}
			var code = -1
			wait.For(t, 30*time.Second, "the console to start", func() bool {
				select {
				case code = <-done:
					return true // ended: reported below
				default:
					return strings.Contains(stdout.String(), tc.says)
				}
			}, func() string { return stdout.String() + "\n--- stderr:\n" + stderr.String() })
			if code != -1 {
				t.Fatalf("console ended (exit %d) instead of starting\n--- stdout:\n%s\n--- stderr:\n%s", code, stdout.String(), stderr.String())
			}
			cancel()
			if code = <-done; code != 0 {
				t.Errorf("console stopped with exit %d, want 0\n%s", code, stderr.String())
			}
		})
	}
}
