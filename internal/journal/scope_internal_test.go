package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestFailureScope: campaigns a and b journal through one Writer; a's
// file fails. A failure of a's file alone (deleted, its directory
// deleted, replaced) stops a's appends only: b's file is whole and b goes
// on. A failure that is the disk's (a write that finds it full: a's file
// swapped for /dev/full, whose writes the kernel fails with ENOSPC) stops
// both, since b's next line would find the same disk. Before, the first
// error of any file stopped every campaign.
func TestFailureScope(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		fail       func(t *testing.T, w *Writer, dir string)
		bStopped   bool
		shared     bool
		errorNames error
	}{
		{"file deleted", func(t *testing.T, w *Writer, dir string) {
			if err := os.Remove(w.fileName("a", "r")); err != nil {
				t.Fatal(err)
			}
		}, false, false, ErrFileGone},
		{"campaign directory deleted", func(t *testing.T, w *Writer, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "a")); err != nil {
				t.Fatal(err)
			}
		}, false, false, ErrFileGone},
		{"file replaced", func(t *testing.T, w *Writer, dir string) {
			name := w.fileName("a", "r")
			if err := os.Remove(name); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, nil, 0o640); err != nil {
				t.Fatal(err)
			}
		}, false, false, ErrFileGone},
		{"disk full", func(t *testing.T, w *Writer, dir string) {
			full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
			if err != nil {
				t.Skipf("no /dev/full: %v", err)
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			f := w.files[runKey{"a", "r"}]
			_ = f.f.Close()
			f.f = full
			// gone compares the path with the file opened: make it the device.
			f.name = "/dev/full"
			if f.id, err = full.Stat(); err != nil {
				t.Fatal(err)
			}
		}, true, true, syscall.ENOSPC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			w, err := Open(Config{Dir: dir, Worker: "w", Always: true})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			line := func(c, id string) Entry {
				return Entry{At: time.Unix(1, 0).UTC(), Campaign: c, Run: "r", ID: id, Email: id + "@x.example", Outcome: OutcomeClaimed}
			}
			for _, c := range []string{"a", "b"} {
				if err := w.Append(line(c, "first")); err != nil {
					t.Fatal(err)
				}
			}
			tc.fail(t, w, dir)
			errA := w.Append(line("a", "second"))
			if !errors.Is(errA, ErrNotWritten) || !errors.Is(errA, tc.errorNames) {
				t.Fatalf("a's append after its file failed: %v; want ErrNotWritten and %v", errA, tc.errorNames)
			}
			if Shared(errA) != tc.shared {
				t.Errorf("Shared(%v) = %v, want %v", errA, !tc.shared, tc.shared)
			}
			if err := w.ErrFor("a", "r"); err == nil {
				t.Error("ErrFor(a) nil after a's file failed")
			}
			if err := w.Append(line("a", "third")); !errors.Is(err, ErrNotWritten) {
				t.Errorf("a's next append: %v, want it refused (a stays stopped)", err)
			}
			errB := w.Append(line("b", "second"))
			if tc.bStopped {
				if !errors.Is(errB, ErrNotWritten) || w.ErrFor("b", "r") == nil || w.Err() == nil {
					t.Errorf("b's append after a failure of the disk: %v (ErrFor %v, Err %v); want it refused: no campaign can journal", errB, w.ErrFor("b", "r"), w.Err())
				}
				return
			}
			if errB != nil || w.ErrFor("b", "r") != nil || w.Err() != nil {
				t.Errorf("b's append after a's file alone failed: %v (ErrFor %v, Err %v); want it written: b's file is whole", errB, w.ErrFor("b", "r"), w.Err())
			}
			var ids []string
			if err := Read(w.fileName("b", "r"), "b", func(e Entry) error { ids = append(ids, e.ID); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(ids) != 2 || ids[1] != "second" {
				t.Errorf("b's file holds %v, want [first second]", ids)
			}
		})
	}
}

// TestShared: which errors stop every campaign.
func TestShared(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&os.PathError{Op: "write", Path: "j/a/r.w.jsonl", Err: syscall.ENOSPC}, true},
		{&os.PathError{Op: "write", Path: "j/a/r.w.jsonl", Err: syscall.EDQUOT}, true},
		{&os.PathError{Op: "open", Path: "j/a/r.w.jsonl", Err: syscall.EROFS}, true},
		{&os.PathError{Op: "sync", Path: "j", Err: syscall.EIO}, true},
		{&os.PathError{Op: "open", Path: "j/a/r.w.jsonl", Err: syscall.EMFILE}, true},
		{&os.PathError{Op: "sync", Path: "j/a/r.w.jsonl", Err: syscall.EINVAL}, true}, // unknown: the safe side
		{ErrFileGone, false},
		{fmt.Errorf("journal: %w", &LineError{Path: "j/a/r.w.jsonl", Line: 2, Err: errors.New("invalid UTF-8")}), false}, // that file alone is damaged
		{&os.PathError{Op: "mkdir", Path: "j/a", Err: syscall.ENOTDIR}, false},
		{&os.PathError{Op: "open", Path: "j/a/r.w.jsonl", Err: syscall.EACCES}, false},
		{&os.PathError{Op: "open", Path: "j/a/r.w.jsonl", Err: syscall.EISDIR}, false},
	} {
		if got := Shared(tc.err); got != tc.want {
			t.Errorf("Shared(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
