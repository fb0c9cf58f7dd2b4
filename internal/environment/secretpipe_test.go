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

	"github.com/tidings-mail/tidings/internal/redistest"
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
		e, err := load(t, "", map[string]string{"TIDINGS_SMTP_PASSWORD_FILE": pipeOf(t, "hunter2\n")})
		if err != nil || e.SMTP.Password.Reveal() != "hunter2" {
			t.Errorf("Load with a pipe's /dev/fd = %v; want the password it gives", err)
		}
	})
}

// TestTLSFileThatIsAPipeIsRefused: a TLS file of Redis's
// (redis.tls_ca_file, redis.tls_cert_file, redis.tls_key_file) is read
// more than once (when the environment loads, when Redis is dialled, by
// doctor), so it must be a file: a named pipe, one no program writes to
// or a shell's <(...), is refused at once, with the variable or the key,
// the path and what to do. Load waited for ever on a named pipe no
// program writes to, and read a <(...) once, so that the second reading
// found it empty.
func TestTLSFileThatIsAPipeIsRefused(t *testing.T) {
	t.Parallel()
	ca, err := redistest.NewCA("tidings test CA")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	certFile, keyFile := ca.ClientCert(t, "tidings", now.Add(-time.Hour), now.Add(time.Hour))
	fifo := func(t *testing.T) string {
		p := filepath.Join(t.TempDir(), "tls.pem")
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const says = ": is a named pipe, not a file"
	for _, tc := range []struct {
		name, variable string
		vars           func(p string) map[string]string
	}{
		{"CA", "TIDINGS_REDIS_TLS_CA_FILE", func(p string) map[string]string { return map[string]string{"TIDINGS_REDIS_TLS_CA_FILE": p} }},
		{"certificate", "TIDINGS_REDIS_TLS_CERT_FILE", func(p string) map[string]string {
			return map[string]string{"TIDINGS_REDIS_TLS_CERT_FILE": p, "TIDINGS_REDIS_TLS_KEY_FILE": keyFile}
		}},
		{"key", "TIDINGS_REDIS_TLS_KEY_FILE", func(p string) map[string]string {
			return map[string]string{"TIDINGS_REDIS_TLS_CERT_FILE": certFile, "TIDINGS_REDIS_TLS_KEY_FILE": p}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := fifo(t)
			v := tc.vars(p)
			v["TIDINGS_REDIS_URL"] = "rediss://127.0.0.1:6380/0"
			done := make(chan error, 1)
			go func() { _, err := Load(nil, "", "staging", vars(v)); done <- err }()
			select {
			case err = <-done:
			case <-time.After(time.Minute): // a hang guard, not a measure
				t.Fatal("Load still waits on a named pipe nothing writes to after a minute")
			}
			if err == nil || !strings.Contains(err.Error(), tc.variable+": "+p+says) || !strings.Contains(err.Error(), "save what it holds to a file") {
				t.Errorf("Load with %s a named pipe = %v; want %s, %s%s and what to do", tc.variable, err, tc.variable, p, says)
			}
		})
	}
	t.Run("a shell's <(cat ca.pem)", func(t *testing.T) {
		t.Parallel()
		p := pipeOf(t, "-----BEGIN CERTIFICATE-----\n")
		_, err := Load(nil, "", "staging", vars(map[string]string{"TIDINGS_REDIS_URL": "rediss://127.0.0.1:6380/0", "TIDINGS_REDIS_TLS_CA_FILE": p}))
		if err == nil || !strings.Contains(err.Error(), "TIDINGS_REDIS_TLS_CA_FILE: "+p+says) {
			t.Errorf("Load with a pipe's /dev/fd as the CA file = %v; want it refused as a named pipe", err)
		}
	})
	t.Run("config file", func(t *testing.T) {
		t.Parallel()
		p := fifo(t)
		done := make(chan error, 1)
		go func() {
			_, err := Load([]byte("environments:\n  staging:\n    redis:\n      url: rediss://127.0.0.1:6380/0\n      tls_ca_file: "+p+"\n"), "t.yaml", "staging", vars(nil))
			done <- err
		}()
		select {
		case err := <-done:
			if want := "t.yaml:5: environments.staging.redis.tls_ca_file: " + p + says; err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Load = %v; want %q", err, want)
			}
		case <-time.After(time.Minute): // a hang guard, not a measure
			t.Fatal("Load still waits on a named pipe nothing writes to after a minute")
		}
	})
}

// pipeOf returns /dev/fd/N of a pipe that gives content, as a shell's
// <(...) does.
func pipeOf(t *testing.T, content string) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	go func() { fmt.Fprint(w, content); w.Close() }()
	return fmt.Sprintf("/dev/fd/%d", r.Fd())
}
