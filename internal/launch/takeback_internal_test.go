package launch

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestTakingBackARemovedFileSyncsItsDirectory: a failed staging that
// takes back its early writes by removing files (the exclusions file it
// created, the marked run's empty journal file) fsyncs each file's
// directory, as writeFile does for a file it writes: a removal still in
// the page cache when the host crashes comes back, and with it rows of a
// run that never started, which a later recovery here would exclude by
// themselves. Before, neither directory was synced.
func TestTakingBackARemovedFileSyncsItsDirectory(t *testing.T) {
	t.Parallel()
	state, jdir := t.TempDir(), t.TempDir()
	e := earlyWrites{exclusions: filepath.Join(state, "c.excluded.csv"), journal: filepath.Join(jdir, "r-excl.send-box.jsonl")}
	for _, f := range []string{e.exclusions, e.journal} {
		if err := os.WriteFile(f, []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var synced []string
	e.syncDir = func(dir string) error { synced = append(synced, dir); return nil }
	if failed := e.takeBack("r-excl"); len(failed) > 0 {
		t.Fatalf("take back: %v", failed)
	}
	for _, f := range []string{e.exclusions, e.journal} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s after the take-back: %v, want it removed", f, err)
		}
	}
	want := []string{state, jdir}
	slices.Sort(synced)
	slices.Sort(want)
	if !slices.Equal(synced, want) {
		t.Errorf("directories synced %v, want %v", synced, want)
	}
}
