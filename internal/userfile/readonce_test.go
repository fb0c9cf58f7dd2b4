//go:build unix

package userfile_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/userfile"
)

// TestReadOnceTakesAPipeAsAStream: a file a command reads once (a token
// list, the environments file) may be what a shell's <(pass show ...)
// gives, /dev/fd/N of a pipe, or a named pipe: ReadOnce reads it to its
// end as Read reads a file. A named pipe nothing writes to is refused at
// once (NoWriter), never waited on; a device (/dev/zero never ends) and a
// directory are refused as Read refuses them.
func TestReadOnceTakesAPipeAsAStream(t *testing.T) {
	t.Parallel()
	const secret = "alice 0123456789abcdef0123456789abcdef\n"
	t.Run("a shell's <(...)", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		go func() {
			time.Sleep(100 * time.Millisecond) // the writer comes after the reader opened it
			fmt.Fprint(w, secret)
			w.Close()
		}()
		b, err := userfile.ReadOnce(fmt.Sprintf("/dev/fd/%d", r.Fd()))
		if err != nil || string(b) != secret {
			t.Errorf("ReadOnce of a pipe's /dev/fd = %q, %v; want %q", b, err, secret)
		}
	})
	t.Run("a named pipe with a writer", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "tokens")
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
		go func() {
			f, err := os.OpenFile(p, os.O_WRONLY, 0) // waits for the reader
			if err != nil {
				return
			}
			fmt.Fprint(f, secret)
			f.Close()
		}()
		var b []byte
		var err error
		var ue *userfile.Error
		for i := 0; i < 100; i++ { // the writer may not have opened it yet (NoWriter): try again
			if b, err = userfile.ReadOnce(p); !errors.As(err, &ue) || ue.Problem != userfile.NoWriter {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err != nil || string(b) != secret {
			t.Errorf("ReadOnce of a named pipe = %q, %v; want %q", b, err, secret)
		}
	})
	t.Run("a named pipe nothing writes to", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "tokens")
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { _, err := userfile.ReadOnce(p); done <- err }()
		select {
		case err := <-done:
			if ue := (*userfile.Error)(nil); !errors.As(err, &ue) || ue.Problem != userfile.NoWriter {
				t.Errorf("ReadOnce of a named pipe nothing writes to = %v, want NoWriter", err)
			}
		case <-time.After(time.Minute):
			t.Fatal("ReadOnce of a named pipe nothing writes to still waits after a minute")
		}
	})
	var ue *userfile.Error
	if _, err := userfile.ReadOnce("/dev/zero"); !errors.As(err, &ue) || ue.Problem != userfile.NotRegular {
		t.Errorf("ReadOnce(/dev/zero) = %v, want NotRegular", err)
	}
	if _, err := userfile.ReadOnce(t.TempDir()); !errors.As(err, &ue) || ue.Problem != userfile.IsDir {
		t.Errorf("ReadOnce of a directory = %v, want IsDir", err)
	}
	if _, err := userfile.ReadOnce(filepath.Join(t.TempDir(), "none")); !errors.As(err, &ue) || ue.Problem != userfile.Missing {
		t.Errorf("ReadOnce of a missing file = %v, want Missing", err)
	}
}
