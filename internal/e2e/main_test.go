package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/childproc"
	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// tidingsBin is the binary built by TestMain; repoRoot the module root.
var tidingsBin, repoRoot string

// envName is the environment every test's tidings.yaml defines.
const envName = "e2e"

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		fmt.Fprintf(os.Stderr, "e2e: find the module root with 'go env GOMOD': %v (got %q)\n", err, gomod)
		return 1
	}
	repoRoot = filepath.Dir(gomod)
	dir, err := os.MkdirTemp("", "tidings-e2e-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: create build directory: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	tidingsBin = filepath.Join(dir, "tidings")
	build := exec.Command("go", "build", "-o", tidingsBin, "./cmd/tidings")
	build.Dir = repoRoot
	if b, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/tidings: %v\n%s", err, b)
		return 1
	}
	return m.Run()
}

// inCI reports whether the tests run under CI=true, where a missing server
// is a failure, never a skip.
func inCI() bool { return os.Getenv("CI") == "true" }

// env is one test's world: a Redis database, an SMTP server's port, a
// tidings.yaml with the environment "e2e" pointing at both, and a working
// directory.
type env struct {
	t      *testing.T
	dir    string
	config string
	redis  *redistest.Redis
	extra  []string // TIDINGS_* variables of the commands run next
}

// newEnv writes tidings.yaml for a Redis database of the test's own and the
// SMTP server on smtpPort (plain, no TLS).
func newEnv(t *testing.T, smtpPort, connections int) *env {
	t.Helper()
	r := redistest.Start(t)
	e := newEnvWith(t, "url: "+r.URL, smtpPort, connections)
	e.redis = r
	return e
}

// newEnvWith writes tidings.yaml with redisYAML as the environment's redis
// settings (one line: "url: ...", "sentinel: {...}", "cluster: [...]"), a
// state directory of the test's own, and the SMTP server on smtpPort.
func newEnvWith(t *testing.T, redisYAML string, smtpPort, connections int) *env {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`environments:
  %s:
    production: false
    state_dir: %s
    redis:
      %s
    smtp:
      host: 127.0.0.1
      port: %d
      tls: none
      connections: %d
      helo: e2e.tidings.test
`, envName, filepath.Join(dir, "state"), redisYAML, smtpPort, connections)
	path := filepath.Join(dir, "tidings.yaml")
	fixture.Write(t, path, cfg)
	return &env{t: t, dir: dir, config: path}
}

// environ is the process environment for the binary: ours without any
// TIDINGS_* variable, plus TIDINGS_CONFIG when the test has a config file
// and e.extra.
func (e *env) environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TIDINGS_") {
			out = append(out, kv)
		}
	}
	if e.config != "" {
		out = append(out, "TIDINGS_CONFIG="+e.config)
	}
	return append(out, e.extra...)
}

// result is what one run of the binary produced.
type result struct {
	args           []string
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("tidings %s: exit %d\n--- stdout:\n%s\n--- stderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// run runs the binary in the test's directory and returns its result; it
// fails the test only if the binary cannot be run or takes over 3 minutes.
func (e *env) run(args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tidingsBin, args...)
	cmd.Dir = e.dir
	cmd.Env = e.environ()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		res.code = ee.ExitCode()
	default:
		e.t.Fatalf("run tidings %s: %v\n%s", strings.Join(args, " "), err, res)
	}
	return res
}

// mustRun runs the binary and fails the test unless it exits 0.
func (e *env) mustRun(args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 {
		e.t.Fatalf("want exit 0, got %s", r)
	}
	return r
}

// process is a long-running tidings process (a worker).
type process struct {
	name  string
	cmd   *exec.Cmd
	log   string
	child *childproc.Child
}

// start starts a long-running tidings command, killed when the test ends.
func (e *env) start(name string, args ...string) *process {
	e.t.Helper()
	log := filepath.Join(e.dir, name+".log")
	f, err := os.Create(log)
	if err != nil {
		e.t.Fatal(err)
	}
	cmd := exec.Command(tidingsBin, args...)
	cmd.Dir = e.dir
	cmd.Env = e.environ()
	cmd.Stdout, cmd.Stderr = f, f
	child, err := childproc.Start(cmd) // killed with the test binary, never before
	f.Close()                          // the child has its own copy
	if err != nil {
		e.t.Fatalf("start tidings %s: %v", strings.Join(args, " "), err)
	}
	p := &process{name: name, cmd: cmd, log: log, child: child}
	e.t.Cleanup(func() {
		p.kill()
		if e.t.Failed() {
			e.t.Logf("log of %s (%s):\n%s", p.name, strings.Join(args, " "), tail(p.log, 4000))
		}
	})
	return p
}

// startWorker starts `tidings worker --env e2e --concurrency n`.
func (e *env) startWorker(name string, concurrency int) *process {
	e.t.Helper()
	return e.start(name, "worker", "--env", envName, "--concurrency", fmt.Sprint(concurrency))
}

// kill sends SIGKILL and waits for the process to exit.
func (p *process) kill() {
	select {
	case <-p.child.Done():
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.child.Done()
}

// exited reports whether the process has exited, and how.
func (p *process) exited() (bool, error) {
	select {
	case <-p.child.Done():
		return true, p.child.Err()
	default:
		return false, nil
	}
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(read %s: %v)", path, err)
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// status is the part of `tidings status NAME --json` the tests read.
type status struct {
	Campaign string           `json:"campaign"`
	State    string           `json:"state"`
	Reason   string           `json:"reason"`
	By       string           `json:"by"`
	Total    int64            `json:"total"`
	Staged   int64            `json:"staged"`
	Rejected int64            `json:"rejected"`
	Counts   map[string]int64 `json:"counts"`
	Audit    []struct {
		Who    string `json:"who"`
		Host   string `json:"host"`
		Env    string `json:"env"`
		Action string `json:"action"`
		Reason string `json:"reason"`
	} `json:"audit"`
}

// status runs `tidings status NAME --env e2e --json`.
func (e *env) status(campaign string) status {
	e.t.Helper()
	r := e.mustRun("status", campaign, "--env", envName, "--json")
	var st status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		e.t.Fatalf("parse status --json: %v\n%s", err, r)
	}
	return st
}

// waitState polls status until the campaign reaches state, failing the test
// after timeout, when the campaign reaches a different final state, or when
// a worker exits.
func (e *env) waitState(campaign, state string, timeout time.Duration, workers ...*process) status {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	var st status
	lastPending, lastChange := int64(-1), time.Now()
	for {
		st = e.status(campaign)
		if st.State == state {
			return st
		}
		// A running campaign that makes no progress for a minute is stuck
		// (a worker error, say); say so instead of waiting for the timeout.
		if p := st.Counts["pending"]; p != lastPending || st.State != "running" {
			lastPending, lastChange = p, time.Now()
		} else if time.Since(lastChange) > time.Minute {
			e.t.Fatalf("campaign %s is running but made no progress for a minute while waiting for %s: counts %v", campaign, state, st.Counts)
		}
		if st.State == "paused" && state != "paused" || st.State == "cancelled" && state != "cancelled" {
			e.t.Fatalf("campaign %s is %s (reason %q, by %s) while waiting for %s; counts %v", campaign, st.State, st.Reason, st.By, state, st.Counts)
		}
		for _, w := range workers {
			if done, err := w.exited(); done {
				e.t.Fatalf("worker %s exited (%v) while waiting for %s; log:\n%s", w.name, err, state, tail(w.log, 4000))
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("campaign %s did not reach state %s within %s: state %s, counts %v", campaign, state, timeout, st.State, st.Counts)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// report is `tidings report NAME --format json`.
type report struct {
	Campaign   string           `json:"campaign"`
	State      string           `json:"state"`
	Counts     map[string]int64 `json:"counts"`
	Recipients []struct {
		Line     int    `json:"line"`
		ID       string `json:"id"`
		Email    string `json:"email"`
		Locale   string `json:"locale"`
		Lang     string `json:"lang"`
		Outcome  string `json:"outcome"`
		Code     string `json:"code"`
		Response string `json:"response"`
		Batch    int    `json:"batch"`
	} `json:"recipients"`
}

func (e *env) report(campaign string) report {
	e.t.Helper()
	r := e.mustRun("report", campaign, "--env", envName, "--format", "json")
	var rep report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		e.t.Fatalf("parse report --format json: %v\n%s", err, r)
	}
	return rep
}

// campaignSpec is what differs between the tests' campaign files.
type campaignSpec struct {
	name         string
	templatesDir string
	localesDir   string
	canary       int
	size         int
	approve      bool
	rate         string
}

const reregisterURL = "https://altea.example/re-register?t=e2e"

// writeCampaign writes the campaign file and the recipients CSV into dir and
// returns the campaign file's path.
func writeCampaign(t *testing.T, dir string, c campaignSpec, csv string) string {
	t.Helper()
	if c.rate == "" {
		c.rate = "unlimited"
	}
	y := fmt.Sprintf(`name: %s
environment: %s
template: welcome
templates_dir: %s
locales_dir: %s
default_locale: en
recipients: recipients.csv
from: "Altea Community <community@altea.example>"
reply_to: support@altea.example
batches:
  canary_per_locale: %d
  size: %d
  interval: 0s
  approve_after_canary: %t
rate: %s
auto_pause:
  error_rate: 0.5
  window: 200
data:
  reregister_url: "%s"
`, c.name, envName, c.templatesDir, c.localesDir, c.canary, c.size, c.approve, c.rate, reregisterURL)
	path := filepath.Join(dir, "campaign.yaml")
	fixture.Write(t, path, y)
	fixture.Write(t, filepath.Join(dir, "recipients.csv"), csv)
	return path
}

// currentUser is the OS user name the audit log must show.
func currentUser(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatalf("current user: %v", err)
	}
	return u.Username
}
