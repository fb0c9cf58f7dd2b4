package journal_test

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
)

// TestFailedAppendLeavesNoLine: an Append that a full disk cuts short
// (here the file size limit: the write stores part of its lines, then
// fails) takes that part back, so the file holds none of its lines, and
// says so (ErrNotWritten): its worker may then give those claims back in
// Redis (a claim line left there, whose claim was given back, would read
// to the journal check as one Redis lost). Not parallel: the
// limit is the whole test process's while it is set.
func TestFailedAppendLeavesNoLine(t *testing.T) {
	dir := t.TempDir()
	w := openAlways(t, dir)
	defer w.Close()
	if err := w.Append(entry("c", "r", "first", journal.OutcomeClaimed)); err != nil {
		t.Fatal(err)
	}
	files, err := journal.Files(dir, "c")
	if err != nil || len(files) != 1 {
		t.Fatalf("files %v, %v", files, err)
	}
	before, err := os.ReadFile(files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	// Room for about one more line of the window's three.
	lim := syscall.Rlimit{Cur: uint64(len(before)) + 150, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	err = w.Append(entry("c", "r", "a", journal.OutcomeClaimed), entry("c", "r", "b", journal.OutcomeClaimed), entry("c", "r", "d", journal.OutcomeClaimed))
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); rerr != nil {
		t.Fatal(rerr)
	}
	if !errors.Is(err, journal.ErrNotWritten) {
		t.Fatalf("an append past the file size limit: %v, want an error saying none of its lines was written", err)
	}
	after, rerr := os.ReadFile(files[0].Path)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if string(after) != string(before) {
		t.Errorf("after a failed append the file holds %q, want it as before: %q", after[len(before):], "")
	}
	if err := w.Append(entry("c", "r", "e", "sent")); !errors.Is(err, journal.ErrNotWritten) {
		t.Errorf("an append after a failed one: %v; want it refused, saying nothing was written (the journal stays broken)", err)
	}
}
