package journal_test

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/journal"
)

func entry(c, run, id, outcome string) journal.Entry {
	return journal.Entry{At: time.Unix(1700000000, 0).UTC(), Campaign: c, Run: run, ID: id, Email: id + "@x.example", Outcome: outcome}
}

func TestAppendReadCount(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := journal.Open(journal.Config{Dir: dir, Worker: "w1"})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range []string{"sent", "sent", "failed", "in-doubt"} {
		if err := w.Append(entry("c", "r1", string(rune('a'+i)), o)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Append(entry("other", "r9", "z", "sent")); err != nil {
		t.Fatal(err)
	}
	if n, _ := w.Count("c", "r1", "sent"); n != 2 {
		t.Errorf("count sent %d, want 2", n)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := journal.Read(dir, "c", func(e journal.Entry) error { got = append(got, e.ID+":"+e.Outcome); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0] != "a:sent" || got[3] != "d:in-doubt" {
		t.Fatalf("read %v", got)
	}
	files, err := journal.Files(dir, "c")
	if err != nil || len(files) != 1 || files[0].Run != "r1" || files[0].Worker != "w1" {
		t.Fatalf("files %+v %v", files, err)
	}
	// A worker restarted with the same id counts what it wrote before.
	w2, err := journal.Open(journal.Config{Dir: dir, Worker: "w1", Always: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if n, _ := w2.Count("c", "r1", "sent"); n != 2 {
		t.Errorf("count after reopening %d, want 2", n)
	}
}

// TestAlwaysIsOnDisk: with Always, an appended line is in the file when
// Append returns (read by another handle, without Close).
func TestAlwaysIsOnDisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := journal.Open(journal.Config{Dir: dir, Worker: "w", Always: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Append(entry("c", "r", string(rune('A'+i)), "sent")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	n := 0
	if err := journal.Read(dir, "c", func(journal.Entry) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 50 {
		t.Fatalf("%d lines on disk right after 50 appends returned, want 50", n)
	}
}

// TestIntervalSync: without Always, lines reach the disk within the sync
// interval, without Close.
func TestIntervalSync(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := journal.Open(journal.Config{Dir: dir, Worker: "w", Sync: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Append(entry("c", "r", "a", "sent")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := 0
		_ = journal.Read(dir, "c", func(journal.Entry) error { n++; return nil })
		if n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the line never reached the file")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTruncatedLine: a file whose writer died mid-line is read up to it,
// and Read says so.
func TestTruncatedLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := journal.Open(journal.Config{Dir: dir, Worker: "w", Always: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Append(entry("c", "r", "a", "sent"))
	_ = w.Close()
	f, err := os.OpenFile(filepath.Join(dir, "c", "r.w.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"at":"2026-01-01T00:00:00Z","campaign":"c","ru`)
	_ = f.Close()
	n := 0
	err = journal.Read(dir, "c", func(journal.Entry) error { n++; return nil })
	if !errors.Is(err, journal.ErrTruncated) || n != 1 {
		t.Fatalf("read %d entries, err %v; want 1 and ErrTruncated", n, err)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, cfg := range []journal.Config{{Worker: "w"}, {Dir: t.TempDir()}, {Dir: t.TempDir(), Worker: "a/b"}} {
		if _, err := journal.Open(cfg); err == nil {
			t.Errorf("Open(%+v) accepted", cfg)
		}
	}
}
