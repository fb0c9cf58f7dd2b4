//go:build unix

package environment

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSecretFileMayBeAPipe: a secret file (*_FILE, *_file) is read once,
// so it may be what a shell's <(pass show ...) gives, /dev/fd/N of a
// pipe: SMTP_PASSWORD_FILE=<(pass show smtp) works. A named pipe that no
// program writes to is refused at once, with the variable or the key and
// the path, never waited on: Load blocked on it for ever.
func TestSecretFileMayBeAPipe(t *testing.T) {
	t.Parallel()
	fifo := func(t *testing.T) string {
		p := filepath.Join(t.TempDir(), "pw")
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	load := func(t *testing.T, config string, vars map[string]string) (*Environment, error) {
		t.Helper()
		type result struct {
			e   *Environment
			err error
		}
		done := make(chan result, 1)
		go func() {
			e, err := Load([]byte(config), "tidings.yaml", "dev", func(k string) string { return vars[k] })
			done <- result{e, err}
		}()
		select {
		case r := <-done:
			return r.e, r.err
		case <-time.After(time.Minute): // a hang guard, not a measure
			t.Fatal("Load still waits on a named pipe nothing writes to after a minute")
		}
		return nil, nil
	}
	t.Run("variable naming a pipe nothing writes to", func(t *testing.T) {
		t.Parallel()
		p := fifo(t)
		_, err := load(t, "", map[string]string{"TIDINGS_SMTP_PASSWORD_FILE": p})
		if err == nil || !strings.Contains(err.Error(), "TIDINGS_SMTP_PASSWORD_FILE: ") || !strings.Contains(err.Error(), p+": is a pipe that gave nothing") {
			t.Errorf("Load = %v, want TIDINGS_SMTP_PASSWORD_FILE and %s, a pipe that gave nothing", err, p)
		}
	})
	t.Run("config key naming a pipe nothing writes to", func(t *testing.T) {
		t.Parallel()
		p := fifo(t)
		_, err := load(t, fmt.Sprintf("environments:\n  dev:\n    redis:\n      password_file: %s\n", p), nil)
		if err == nil || !strings.Contains(err.Error(), "tidings.yaml:4: environments.dev.redis.password_file: ") || !strings.Contains(err.Error(), p+": is a pipe that gave nothing") {
			t.Errorf("Load = %v, want redis.password_file and %s, a pipe that gave nothing", err, p)
		}
	})
	t.Run("a shell's <(pass show ...)", func(t *testing.T) {
		t.Parallel()
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		go func() { fmt.Fprint(w, "hunter2\n"); w.Close() }()
		e, err := load(t, "", map[string]string{"TIDINGS_SMTP_PASSWORD_FILE": fmt.Sprintf("/dev/fd/%d", r.Fd())})
		if err != nil || e.SMTP.Password.Reveal() != "hunter2" {
			t.Errorf("Load with a pipe's /dev/fd = %v; want the password it gives", err)
		}
	})
}
