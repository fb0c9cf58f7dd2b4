package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/freeport"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// repoRoot is the repository's root directory, absolute.
func repoRoot(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatalf("repository root: %v", err)
	}
	return p
}

// result is what one run of the command line produced.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout:\n%s\n--- stderr:\n%s", r.code, r.stdout, r.stderr)
}

// cli runs tidings in-process with the variables in env (and no others) and
// empty standard input.
func cli(t testing.TB, env map[string]string, args ...string) result {
	t.Helper()
	return cliIn(t, t.Context(), env, strings.NewReader(""), args...)
}

// cliIn is cli with a context and standard input.
func cliIn(t testing.TB, ctx context.Context, env map[string]string, stdin io.Reader, args ...string) result {
	t.Helper()
	var stdout, stderr syncbuf.Buffer
	code := run(ctx, args, stdin, &stdout, &stderr, func(k string) string { return env[k] }, environOf(env))
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// campaignFile describes a campaign file for writeCampaign.
type campaignFile struct {
	name    string // default "c1"
	env     string // default "staging"
	tmpl    string // default "welcome"
	tmpls   string // templates_dir, default the bundled templates/
	locales string // default the bundled locales/
	rows    []string
	batches string // the batches section's lines (default "  interval: 0s")
	extra   string // more YAML
}

// writeCampaign writes a campaign file and its recipients (CSV: email, name,
// locale, posts) into a new temporary directory, using the repository's
// templates, and returns the campaign file's absolute path.
func writeCampaign(t testing.TB, c campaignFile) string {
	t.Helper()
	root := repoRoot(t)
	if c.name == "" {
		c.name = "c1"
	}
	if c.env == "" {
		c.env = "staging"
	}
	if c.tmpl == "" {
		c.tmpl = "welcome"
	}
	if c.tmpls == "" {
		c.tmpls = filepath.Join(root, "templates")
	}
	if c.locales == "" {
		c.locales = filepath.Join(root, "locales")
	}
	if c.batches == "" {
		c.batches = "  interval: 0s"
	}
	dir := t.TempDir()
	yaml := fmt.Sprintf(`name: %s
environment: %s
template: %s
templates_dir: %s
locales_dir: %s
default_locale: en
recipients: recipients.csv
from: "Altea Community <community@altea.example>"
batches:
%s
data:
  reregister_url: "https://altea.example/re-register"
%s`, c.name, c.env, c.tmpl, c.tmpls, c.locales, c.batches, c.extra)
	file := filepath.Join(dir, "campaign.yaml")
	fixture.Write(t, file, yaml)
	fixture.Write(t, filepath.Join(dir, "recipients.csv"), "email,name,locale,posts\n"+strings.Join(c.rows, "\n")+"\n")
	return file
}

// redisEnv returns variables that point tidings at a fresh test database.
func redisEnv(t testing.TB) (map[string]string, *redistest.Redis) {
	t.Helper()
	r := redistest.Start(t)
	return map[string]string{"TIDINGS_REDIS_URL": r.URL, "TIDINGS_STATE_DIR": t.TempDir()}, r
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t testing.TB) (host string, port int) {
	t.Helper()
	host, p, _ := net.SplitHostPort(freeport.Closed(t))
	port, _ = strconv.Atoi(p)
	return host, port
}

// merge returns the union of variable sets, later ones winning.
func merge(envs ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, e := range envs {
		for k, v := range e {
			out[k] = v
		}
	}
	return out
}

// startWorker runs `tidings worker --env staging ARGS` in-process with the
// variables in env until stop is called or the test ends (ARGS default to
// --concurrency 2 --log-level warn; the worker is staging's unless ARGS
// name --env). stop returns its exit code; log is its
// standard error.
func startWorker(t *testing.T, env map[string]string, args ...string) (stop func() int, log *syncbuf.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		if len(args) == 0 {
			args = []string{"--concurrency", "2", "--log-level", "warn"}
		}
		cmd := []string{"worker", "--env", "staging"}
		if slices.Contains(args, "--env") { // another environment's worker
			cmd = cmd[:1]
		}
		done <- run(ctx, append(cmd, args...),
			strings.NewReader(""), &stdout, &stderr, func(k string) string { return env[k] }, environOf(env))
	}()
	stopped, code := false, 0
	stop = func() int {
		t.Helper()
		if !stopped {
			stopped = true
			cancel()
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("worker did not stop within 30s after cancel\n%s", stderr.String())
			}
		}
		return code
	}
	t.Cleanup(func() { stop() })
	return stop, &stderr
}

// statusJSON is the part of `status --json` tests read.
type statusJSON struct {
	State   string           `json:"state"`
	Reason  string           `json:"reason"`
	Counts  map[string]int64 `json:"counts"`
	Retries int64            `json:"retries_waiting"`
	// RequeuedPermanent: of Retries, the permanent failures a retry
	// --permanent re-queued.
	RequeuedPermanent int64 `json:"retries_requeued_permanent"`
	Audit             []struct {
		Action, Reason string
	} `json:"audit"`
}

// status returns `tidings status NAME --env staging --json`.
func status(t *testing.T, env map[string]string, name string) statusJSON {
	t.Helper()
	r := cli(t, env, "status", name, "--env", "staging", "--json")
	var st statusJSON
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil {
		t.Fatalf("status --json\n%s", r)
	}
	return st
}

// waitState waits until campaign name is in state want.
func waitState(t *testing.T, env map[string]string, name, want string, log *syncbuf.Buffer) {
	t.Helper()
	wait.For(t, time.Minute, "campaign "+name+" to be "+want, func() bool { return status(t, env, name).State == want },
		func() string {
			return cli(t, env, "status", name, "--env", "staging").stdout + "\n--- worker log:\n" + log.String()
		})
}

// sendUntil stages campaign file name in staging, runs a worker, and waits
// until the campaign is in state; the worker keeps running until stop.
func sendUntil(t *testing.T, env map[string]string, file, name, state string) (stop func() int, log *syncbuf.Buffer) {
	t.Helper()
	r := cli(t, env, "send", file, "--env", "staging")
	if r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	if state == "awaiting-approval" && !strings.Contains(r.stdout, "approve the rest: tidings approve "+name+" --env staging\n") {
		t.Errorf("send of a campaign that waits for approval does not say how to approve it\n%s", r)
	}
	stop, log = startWorker(t, env)
	waitState(t, env, name, state, log)
	return stop, log
}

// contains reports every want that out lacks.
func contains(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s lacks %q\n%s", what, w, out)
		}
	}
}

// environOf is env as KEY=VALUE lines (os.Environ's form).
func environOf(env map[string]string) []string {
	var out []string
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}
