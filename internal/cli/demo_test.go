package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
)

// TestDemoKeepsForeignDirectories: demo clears its output directory only
// when it holds an earlier demo; anything else is refused and kept.
func TestDemoKeepsForeignDirectories(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keep := filepath.Join(dir, "notes.txt")
	fixture.Write(t, keep, "mine")
	r := cli(t, nil, "demo", "--out", dir)
	if r.code != exitUsage || !strings.Contains(r.stderr, "nothing was removed") {
		t.Fatalf("demo into a foreign directory: %s", r)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("the foreign file is gone: %v", err)
	}
	// An earlier demo is replaced.
	out := filepath.Join(dir, "demo")
	for i := range 2 {
		if r := cli(t, nil, "demo", "--out", out); r.code != exitOK {
			t.Fatalf("demo run %d: %s", i+1, r)
		}
	}
}
