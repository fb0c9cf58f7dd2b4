// Package golden compares a test's output with a golden file and, when the
// test binary runs with -update, rewrites the file instead, so that a
// reviewer reads the change as a diff. Import it from _test files only: it
// registers the -update flag.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files instead of comparing with them")

// Check compares got with the file at path; under -update it writes got to
// path (creating its directory) instead.
func Check(t testing.TB, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	Compare(t, path, got)
}

// Compare compares got with the file at path, even under -update: for a
// second output that must equal the one Check wrote.
func Compare(t testing.TB, path, got string) {
	t.Helper()
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (create it with go test -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (refresh with go test -update and read the diff)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}
