//go:build unix

package launch_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/launch"
)

// TestRecipientsFileMustBeARegularFile: send reads the recipients file
// twice, to plan and then to stage what was planned (checking the bytes
// are the same), so a file that cannot be read twice is refused before
// anything is read, with what to do. Found by a red team: with a named
// pipe (FIFO), send planned the rows a writer gave, took the staging
// lease, then blocked for ever opening the pipe again: the campaign showed
// BEING-STAGED and Ctrl-C did not stop the send (only SIGKILL did).
// /dev/zero, a device, is refused alike.
func TestRecipientsFileMustBeARegularFile(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "recipients.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer close(done)
	go feed(fifo, done) // so that a plan that opens the pipe reads rows, and returns
	for _, tc := range []struct{ path, kind, says string }{
		{fifo, "a named pipe", "not a file"},
		{"/dev/zero", "a device", "not a file"},
		{t.TempDir(), "a directory", "give the path of a file"},
	} {
		in := input(t, nil)
		in.Recipients = tc.path
		_, err := launch.Plan(context.Background(), in)
		if err == nil {
			t.Fatalf("%s (%s): planned, so send would read it again to stage it", tc.path, tc.kind)
		}
		for _, w := range []string{"recipients file " + tc.path, tc.kind, tc.says} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.path, err, w)
			}
		}
	}
}

// feed writes the test's recipients into the pipe each time a reader
// opens it, until done.
func feed(fifo string, done chan struct{}) {
	for {
		select {
		case <-done:
			return
		default:
		}
		f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err != nil { // no reader yet
			time.Sleep(10 * time.Millisecond)
			continue
		}
		_, _ = f.WriteString(recipientsCSV)
		_ = f.Close()
	}
}
