package plan

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestRejectsFileOfAnotherEnvironmentIsKept: a plan or send with no row
// rejected removes the campaign's rejects file an earlier one left at its
// path only when that file is of the same environment. A staging plan's
// file, found by a production plan of the same campaign at the same path
// (the default CAMPAIGN-NAME.rejects.csv in a directory both are run
// from), was deleted, and staging's account of the rows it left out was
// lost: it is kept, and the note says whose it is and why it was kept. So
// is a file written before the env column (whose, nothing says).
func TestRejectsFileOfAnotherEnvironmentIsKept(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	staging := &Summary{Campaign: "c1", Environment: "staging", Rejects: []Reject{{Line: 3, Email: "x@example.com", Outcome: "refused", Code: "not-allowed", Reason: "not on the allowlist"}}}
	path := filepath.Join(dir, "c1.rejects.csv")
	if _, err := staging.WriteRejectsFile(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	production := &Summary{Campaign: "c1", Environment: "production"}
	if got, err := production.WriteRejectsFile(t.Context(), path); err != nil || got != "" {
		t.Fatalf("production, no row rejected: %q, %v; want nothing written", got, err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != string(before) {
		t.Fatalf("staging's rejects file after a production plan with no row rejected: %q, %v; want it kept as it was (%q)", b, err, before)
	}
	note := production.KeptNote()
	for _, want := range []string{path + ":2", `column "env"`, "environment staging", "not of environment production", "kept"} {
		if !strings.Contains(note, want) {
			t.Errorf("note %q; want it to say %q", note, want)
		}
	}

	// An earlier version's file (no env column) may be either
	// environment's: kept, and the note says it records none.
	old := filepath.Join(dir, "old.csv")
	body := "line,id,email,locale,outcome,code,field,reason,campaign\n3,,x@example.com,,invalid,,,bad,c1\n"
	if err := os.WriteFile(old, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	production = &Summary{Campaign: "c1", Environment: "production"}
	if _, err := production.WriteRejectsFile(t.Context(), old); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(old); err != nil || string(b) != body {
		t.Errorf("an earlier version's rejects file: %q, %v; want it kept as it was", b, err)
	}
	if note := production.KeptNote(); !strings.Contains(note, old) || !strings.Contains(note, "records no environment") || !strings.Contains(note, "kept") {
		t.Errorf("note %q; want it to name %s, say it records no environment and that it was kept", note, old)
	}

	// The same environment's is removed, and nothing is noted.
	if _, err := staging.WriteRejectsFile(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	again := &Summary{Campaign: "c1", Environment: "staging"}
	if _, err := again.WriteRejectsFile(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("staging's own earlier rejects file after a staging plan with no row rejected: %v; want it removed", err)
	}
	if note := again.KeptNote(); note != "" {
		t.Errorf("note %q; want none", note)
	}
}

// TestRejectsFileOfAnotherEnvironmentIsNotOverwritten: a plan or send of
// the campaign in production that leaves rows out does not write its
// rejects over staging's at the same path (one directory, the default
// name): staging's account of its rows would be lost. It refuses before
// anything is staged, naming the file, its line and column, both
// environments and what to give; the file is left as it was. Another
// campaign's file, or one of this environment, is replaced as before.
func TestRejectsFileOfAnotherEnvironmentIsNotOverwritten(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "c1.rejects.csv")
	rej := []Reject{{Line: 3, Email: "x@example.com", Outcome: "refused", Code: "not-allowed", Reason: "not on the allowlist"}}
	staging := &Summary{Campaign: "c1", Environment: "staging", Rejects: rej}
	if _, err := staging.WriteRejectsFile(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	production := &Summary{Campaign: "c1", Environment: "production", Rejects: []Reject{{Line: 7, Email: "y@example.com", Outcome: "invalid", Field: "email", Reason: "bad"}}}
	got, err := production.WriteRejectsFile(t.Context(), path)
	if err == nil {
		t.Fatalf("production's rejects written over staging's at %s (%q)", path, got)
	}
	for _, want := range []string{path + ":2", `column "env"`, "staging", "production", "--rejects"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q; want it to say %q", err, want)
		}
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != string(before) {
		t.Fatalf("staging's rejects file after production's refused write: %q, %v; want it as it was", b, err)
	}
	// Its own environment's is replaced.
	if _, err := staging.WriteRejectsFile(t.Context(), path); err != nil {
		t.Errorf("staging again over its own rejects file: %v", err)
	}
}

// TestRejectsPathThatIsNotARegularFileIsNotRead: --rejects naming a named
// pipe (or /dev/zero, /dev/full, which never end) is not read to look for
// an earlier rejects file: reading it blocked for ever (a pipe) or grew
// without bound until the kernel killed the process (/dev/full, 24 GB in
// the set-up contract's run of TestFileFlagsSayWhatIsWrong, with rows).
// Without rows it writes nothing and returns. (With rows, opening a pipe
// to write it waits for a reader, as before: a gap left open.)
func TestRejectsPathThatIsNotARegularFileIsNotRead(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipe here: %v", err)
	}
	none := &Summary{Campaign: "c1", Environment: "production"}
	if got, err := none.WriteRejectsFile(t.Context(), fifo); err != nil || got != "" {
		t.Errorf("no row rejected, --rejects a named pipe: %q, %v; want nothing written, no error", got, err)
	}
}
