//go:build unix

package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPathsThatAreNamedPipesAreRefusedNotWaitedOn: every path a command
// opens, named by a flag, an argument or the campaign file, refuses a
// named pipe (FIFO) nobody is at the other end of, with the flag, the
// path, what it is and what to do (exit 2), instead of waiting for ever in
// open(2): send --rejects with rows left out blocked there (Ctrl-C did
// not help), and so did plan --rejects, report --out, console
// --viewer-tokens, --config, send --exclude-delivered, and test-send,
// preview and plan given a campaign file or a recipients file that is a
// pipe. Nothing here writes to or reads the pipes: a command that opens
// one waits for ever, so the test opens the other end itself after a
// while to set it free and fails it.
func TestPathsThatAreNamedPipesAreRefusedNotWaitedOn(t *testing.T) {
	t.Parallel()
	host, port := closedPort(t)
	env := map[string]string{"TIDINGS_REDIS_URL": fmt.Sprintf("redis://%s:%d/0", host, port), "TIDINGS_STATE_DIR": t.TempDir(), "TIDINGS_SMTP_HOST": host, "TIDINGS_SMTP_PORT": fmt.Sprint(port)}
	rows := []string{"ada@example.org,Ada,en,1", "not-an-address,Bob,en,2"}
	file := writeCampaign(t, campaignFile{rows: rows})
	fifo := func(name string) string {
		path := filepath.Join(t.TempDir(), name)
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// A campaign whose recipients file is a pipe.
	pipedRecipients := writeCampaign(t, campaignFile{rows: rows})
	recipients := filepath.Join(filepath.Dir(pipedRecipients), "recipients.csv")
	if err := os.Remove(recipients); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(recipients, 0o600); err != nil {
		t.Fatal(err)
	}
	const notRead = ": is a named pipe, not a file"
	const noReader = ": is a named pipe that no program reads"
	const noWriter = ": is a pipe that gave nothing (no program wrote to it)" // a file read once: a pipe is read, <(pass show ...)
	for _, tc := range []struct {
		name string
		args func(fifo string) []string
		says func(fifo string) string
	}{
		{"send --rejects, rows left out", func(p string) []string {
			return []string{"send", file, "--env", "staging", "--skip-invalid", "--rejects", p}
		}, func(p string) string { return "tidings: --rejects " + p + noReader }},
		{"plan --rejects, rows left out", func(p string) []string { return []string{"plan", file, "--rejects", p} },
			func(p string) string { return "tidings: --rejects " + p + noReader }},
		{"report --out", func(p string) []string { return []string{"report", "c1", "--env", "staging", "--out", p} },
			func(p string) string { return "tidings: --out " + p + noReader }},
		{"console --viewer-tokens", func(p string) []string { return []string{"console", "--env", "staging", "--viewer-tokens", p} },
			func(p string) string { return "tidings: --viewer-tokens " + p + noWriter }},
		{"--config", func(p string) []string {
			return []string{"send", file, "--env", "staging", "--skip-invalid", "--rejects", filepath.Join(t.TempDir(), "r.csv"), "--config", p}
		},
			func(p string) string { return p + noWriter }},
		{"send --exclude-delivered", func(p string) []string {
			return []string{"send", file, "--env", "staging", "--skip-invalid", "--rejects", filepath.Join(t.TempDir(), "r.csv"), "--exclude-delivered", p + ".csv"}
		}, func(p string) string { return p + ".csv" + notRead }},
		{"plan, the campaign file", func(p string) []string { return []string{"plan", p} },
			func(p string) string { return p + notRead }},
		{"preview, the campaign file", func(p string) []string { return []string{"preview", p, "--out", t.TempDir()} },
			func(p string) string { return p + notRead }},
		{"test-send, the campaign file", func(p string) []string { return []string{"test-send", p, "--env", "staging", "--to", "qa@example.org"} },
			func(p string) string { return p + notRead }},
		{"preview, the recipients file", func(string) []string { return []string{"preview", pipedRecipients, "--out", t.TempDir()} },
			func(string) string { return recipients + notRead }},
		{"test-send, the recipients file", func(string) []string {
			return []string{"test-send", pipedRecipients, "--env", "staging", "--to", "qa@example.org"}
		}, func(string) string { return recipients + notRead }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := fifo("pipe")
			if strings.Contains(tc.name, "exclude-delivered") {
				p = strings.TrimSuffix(fifo("pipe.csv"), ".csv")
			}
			args := tc.args(p)
			r := cliUnblocking(t, env, []string{p, p + ".csv", recipients}, args...)
			if want := tc.says(p); r.code != 2 || !strings.Contains(r.stderr, want) {
				t.Errorf("tidings %s: exit %d, want 2 saying %q\n%s", strings.Join(args, " "), r.code, want, r)
			}
		})
	}
}

// cliUnblocking is cli, which fails the test when the command has not
// returned after a minute, a command waiting in open(2) for the other
// end of one of pipes: it then opens and closes their other ends, which
// lets it go on (a reader at the end of the file, a writer to a pipe
// nobody reads), so that the test ends rather than the package timing
// out.
func cliUnblocking(t *testing.T, env map[string]string, pipes []string, args ...string) result {
	t.Helper()
	done := make(chan result, 1)
	go func() { done <- cli(t, env, args...) }()
	select {
	case r := <-done:
		return r
	case <-time.After(time.Minute):
	}
	t.Errorf("tidings %s: still running after a minute: waiting on a named pipe", strings.Join(args, " "))
	for {
		for _, p := range pipes {
			if f, err := os.OpenFile(p, os.O_RDWR|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
		}
		select {
		case r := <-done:
			return r
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestFilesReadOnceMayBeAShellsPipe: a file a command reads once, the
// environments file (--config) and a console's token lists, may be a
// pipe, as a shell's <(pass show ...) gives it (/dev/fd/N), so that a
// secret need not be saved to disk: the command reads it to its end, as
// it reads a file, and names it in what it says of it (here a line the
// command refuses, which shows it read the pipe's bytes).
func TestFilesReadOnceMayBeAShellsPipe(t *testing.T) {
	t.Parallel()
	pipe := func(content string) string {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		go func() { fmt.Fprint(w, content); w.Close() }()
		return fmt.Sprintf("/dev/fd/%d", r.Fd())
	}
	env, _ := redisEnv(t)
	file := writeCampaign(t, campaignFile{name: "piped", rows: []string{"ada@example.org,Ada,en,1"}})
	cfg := pipe("environments:\n  staging:\n    list_unsubscribe: \"unsubscribe@altea.example\"\n")
	r := cli(t, env, "send", file, "--config", cfg, "--env", "staging", "--rejects", filepath.Join(filepath.Dir(file), "rejects.csv"))
	if want := cfg + ":3: environments.staging.list_unsubscribe: "; r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Errorf("send --config <(...): want exit 2 and %q\n%s", want, r)
	}
	tokens := pipe("alice short\n")
	r = cli(t, env, "console", "--env", "staging", "--viewer-tokens", tokens)
	if want := tokens + ":1: the token is shorter than"; r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Errorf("console --viewer-tokens <(...): want exit 2 and %q\n%s", want, r)
	}
}
