package journal

import (
	"errors"
	"os"
	"strings"
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

// TestFailedFsyncStopsTheJournal: a line the write put in the file but
// whose fsync failed (an I/O error on the disk) may be lost in a host
// crash, so the journal stops: with Always the Append that wrote it
// returns the fsync's error, and without it the background flush records
// it; from then on every Append is refused saying that nothing was
// written, and Close reports it. The fault is real: fsync of a pipe fails
// (EINVAL) while writing to it succeeds.
func TestFailedFsyncStopsTheJournal(t *testing.T) {
	t.Parallel()
	for _, always := range []bool{true, false} {
		t.Run(map[bool]string{true: "always", false: "interval"}[always], func(t *testing.T) {
			t.Parallel()
			w, err := Open(Config{Dir: t.TempDir(), Worker: "w", Always: always, Sync: 5 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			e := Entry{At: time.Unix(1, 0).UTC(), Campaign: "c", Run: "r", ID: "a", Email: "a@x.example", Outcome: "sent"}
			if err := w.Append(e); err != nil {
				t.Fatal(err)
			}
			if err := w.Sync(); err != nil {
				t.Fatal(err)
			}
			r, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			w.mu.Lock()
			for _, f := range w.files {
				_ = f.f.Close()
				f.f = pw
			}
			w.mu.Unlock()

			e.ID = "b"
			err = w.Append(e)
			if always {
				if err == nil || !strings.Contains(err.Error(), "fsync") || errors.Is(err, ErrNotWritten) {
					t.Fatalf("Append whose fsync failed: %v; want the fsync's error, not ErrNotWritten (the line was written)", err)
				}
			} else {
				if err != nil {
					t.Fatalf("Append before the flush: %v", err)
				}
				deadline := time.Now().Add(10 * time.Second)
				for w.Err() == nil {
					if time.Now().After(deadline) {
						t.Fatal("the background flush never recorded its failed fsync")
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			if err := w.Err(); err == nil || !strings.Contains(err.Error(), "fsync") {
				t.Errorf("Err after a failed fsync: %v", err)
			}
			e.ID = "c"
			if err := w.Append(e); !errors.Is(err, ErrNotWritten) {
				t.Errorf("Append after a failed fsync: %v; want it refused with ErrNotWritten", err)
			}
			buf := make([]byte, 4096)
			n, _ := r.Read(buf)
			if got := string(buf[:n]); !strings.Contains(got, `"id":"b"`) || strings.Contains(got, `"id":"c"`) {
				t.Errorf("written after the swap: %q; want line b only", got)
			}
			if err := w.Close(); err == nil {
				t.Error("Close after a failed fsync returned nil")
			}
		})
	}
}
