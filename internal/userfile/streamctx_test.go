//go:build unix

package userfile_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/userfile"
)

// TestOpenStreamFollowsItsContext: OpenStream waits up to ReaderWait for
// a program to open a named pipe to read it; Ctrl-C (its context
// cancelled) during that wait returns at once with the context's error
// wrapped, and the path, rather than waiting out the wait and saying no
// program reads the pipe. It ignored its context (it had none). No
// program ever reads the pipe here: without the context, OpenStream
// returns NoReader.
func TestOpenStreamFollowsItsContext(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "out")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		create func(context.Context, string) error
	}{
		{"OpenStream", func(ctx context.Context, p string) error { _, err := userfile.OpenStream(ctx, p); return err }},
		{"Create", func(ctx context.Context, p string) error { _, err := userfile.Create(ctx, p); return err }},
		{"CreateOwn", func(ctx context.Context, p string) error { _, err := userfile.CreateOwn(ctx, p); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			done := make(chan error, 1)
			go func() { done <- tc.create(ctx, p) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(time.Minute): // a hang guard, not a measure
				t.Fatal("still waiting after a minute")
			}
			var ue *userfile.Error
			if !errors.Is(err, context.Canceled) || errors.As(err, &ue) {
				t.Errorf("%s of a named pipe nobody reads, context cancelled = %v; want context.Canceled wrapped, not a *userfile.Error", tc.name, err)
			}
			if err != nil && !strings.Contains(err.Error(), p) {
				t.Errorf("%s: %v does not name the path %s", tc.name, err, p)
			}
		})
	}
}
