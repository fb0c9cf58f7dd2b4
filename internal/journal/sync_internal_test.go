package journal

import (
	"os"
	"testing"
	"time"
)

// TestAppendReportsAFailedWrite: with Always, Append returns only once its
// line is on disk, so a write that fails (disk full, a file gone bad) is
// Append's error, not only a failed fsync. Before, a failed flush was kept
// for later and Append returned nil for a line that never reached disk.
func TestAppendReportsAFailedWrite(t *testing.T) {
	t.Parallel()
	w, err := Open(Config{Dir: t.TempDir(), Worker: "w", Always: true})
	if err != nil {
		t.Fatal(err)
	}
	e := Entry{At: time.Unix(1, 0).UTC(), Campaign: "c", Run: "r", ID: "a", Email: "a@x.example", Outcome: "sent"}
	if err := w.Append(e); err != nil {
		t.Fatal(err)
	}
	// Writes now fail while fsync succeeds: the file is open read-only.
	w.mu.Lock()
	for _, f := range w.files {
		ro, err := os.Open(f.f.Name())
		if err != nil {
			t.Fatal(err)
		}
		_ = f.f.Close()
		f.f = ro
	}
	w.mu.Unlock()
	e.ID = "b"
	if err := w.Append(e); err == nil {
		t.Fatal("Append returned nil for a line that could not be written")
	}
}

// TestFlusherSyncs: without Always, the background loop fsyncs what was
// appended within the interval (it clears dirty; Sync is what clears it).
func TestFlusherSyncs(t *testing.T) {
	t.Parallel()
	w, err := Open(Config{Dir: t.TempDir(), Worker: "w", Sync: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Append(Entry{At: time.Unix(1, 0).UTC(), Campaign: "c", Run: "r", ID: "a", Email: "a@x.example", Outcome: "sent"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.mu.Lock()
		dirty := w.dirty
		w.mu.Unlock()
		if !dirty {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the appended line was never synced")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
