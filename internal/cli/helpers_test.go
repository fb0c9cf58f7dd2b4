package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/syncbuf"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

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
	code := run(ctx, args, stdin, &stdout, &stderr, func(k string) string { return env[k] })
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// campaignFile describes a campaign file for writeCampaign.
type campaignFile struct {
	name    string // default "c1"
	env     string // default "staging"
	tmpl    string // default "welcome"
	locales string // default the bundled locales/
	rows    []string
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
	if c.locales == "" {
		c.locales = filepath.Join(root, "locales")
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
  interval: 0s
data:
  reregister_url: "https://altea.example/re-register"
%s`, c.name, c.env, c.tmpl, filepath.Join(root, "templates"), c.locales, c.extra)
	file := filepath.Join(dir, "campaign.yaml")
	writeFile(t, file, yaml)
	writeFile(t, filepath.Join(dir, "recipients.csv"), "email,name,locale,posts\n"+strings.Join(c.rows, "\n")+"\n")
	return file
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port = ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1", port
}

// golden compares got with testdata/<name>, rewriting it under -update.
func golden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		writeFile(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (create it with go test -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (refresh with go test -update and read the diff)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
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
