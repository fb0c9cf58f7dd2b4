package worker

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestForgottenReadsClaims: the journal check looks up, besides the
// deliveries, the claims of the current staging whose file has not
// resolved them, and counts as forgotten by Redis an entry that is
// missing, or deferred with fewer attempts than the claim (a claim whose
// temporary failure was recorded without its line, the journal having
// broken, is deferred with as many). A claim given back between its
// file's read and the ledger's (the unclaimed line is written before
// Redis changes) is not counted: the files are read again after the
// ledger; one sent meanwhile still is, when Redis lost it.
func TestForgottenReadsClaims(t *testing.T) {
	t.Parallel()
	rdb := redistest.Start(t).Client()
	line := func(outcome string, attempt int) journal.Entry {
		return journal.Entry{At: time.Now(), Campaign: "c", Run: "r1", ID: "x", Email: "x@example.com", Outcome: outcome, Attempt: attempt}
	}
	claimed := func(a int) journal.Entry { e := line(journal.OutcomeClaimed, a); e.Stage = "s2"; return e }
	earlier := line(journal.OutcomeClaimed, 1)
	earlier.Stage = "s1"
	for _, tt := range []struct {
		name   string
		lines  []journal.Entry
		ledger string // x's entry ("": none)
		later  string // the outcome of a line appended between the ledger's read and the files' second
		lost   bool
	}{
		{"open claim, entry missing", []journal.Entry{claimed(1)}, "", "", true},
		{"open claim, entry sending", []journal.Entry{claimed(1)}, "sending|1|1|||tok", "", false},
		{"open claim, entry in doubt", []journal.Entry{claimed(1)}, "in-doubt|1|1||k:tok|claimed before a crash", "", false},
		{"open second claim, deferred after its first", []journal.Entry{claimed(2)}, "deferred|1|1|451|t|try later", "", true},
		{"open claim, its failure recorded without its line", []journal.Entry{claimed(2)}, "deferred|2|1|451|t|try later", "", false},
		{"open claim of an earlier staging, entry missing", []journal.Entry{earlier}, "", "", false},
		{"claim given back", []journal.Entry{claimed(1), line(journal.OutcomeUnclaimed, 0)}, "", "", false},
		{"claim failed", []journal.Entry{claimed(1), line("temp", 0)}, "deferred|1|1|451|t|try later", "", false},
		{"claim given back while the ledger was read", []journal.Entry{claimed(1)}, "", journal.OutcomeUnclaimed, false},
		{"claim sent while the ledger was read, entry lost", []journal.Entry{claimed(2)}, "deferred|1|1|451|t|try later", "sent", true},
		{"sent, entry missing", []journal.Entry{claimed(1), line("sent", 0)}, "", "", true},
		{"sent, entry deferred", []journal.Entry{claimed(1), line("sent", 0)}, "deferred|1|1|451|t|try later", "", true},
		{"sent, entry sent", []journal.Entry{claimed(1), line("sent", 0)}, "sent|1|1|250||ok", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c := "c-" + t.Name()[len("TestForgottenReadsClaims/"):]
			j, err := journal.Open(journal.Config{Dir: t.TempDir(), Worker: "w1"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = j.Close() })
			for _, e := range tt.lines {
				e.Campaign = c
				if err := j.Append(e); err != nil {
					t.Fatal(err)
				}
			}
			ledger := "tidings:{" + c + "}:ledger"
			if tt.ledger != "" {
				if err := rdb.HSet(ctx, ledger, "x", tt.ledger).Err(); err != nil {
					t.Fatal(err)
				}
			}
			w := &Worker{cfg: Config{Concurrency: 1, ClaimWindow: 1}, journal: j, st: store.New(rdb), log: slog.New(slog.DiscardHandler)}
			if tt.later != "" {
				w.ledgerRead = func() {
					e := line(tt.later, 0)
					e.Campaign = c
					if err := j.Append(e); err != nil {
						t.Error(err)
					}
				}
			}
			wantForgotten(t, w, c, "s2", tt.lost)
		})
	}
}

// TestForgottenPassesOverAFileWithABadLine: a journal file whose latest
// lines hold one that is not an entry is passed over whole, not up to the
// bad line: a line after it (here the give-back of the claim before it)
// may resolve what came before. And a give-back in another worker's file,
// read again after the ledger, does not excuse a claim this file holds.
func TestForgottenPassesOverAFileWithABadLine(t *testing.T) {
	t.Parallel()
	rdb := redistest.Start(t).Client()
	for _, tt := range []struct {
		name string
		bad  bool // a bad line between the claim and its give-back
		lost bool
	}{
		{"bad line", true, false},
		{"other file's give-back", false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := "bad-" + map[bool]string{true: "line", false: "other"}[tt.bad]
			dir := t.TempDir()
			line := func(outcome string) journal.Entry {
				return journal.Entry{At: time.Now(), Campaign: c, Run: "r1", ID: "x", Email: "x@example.com", Outcome: outcome, Attempt: 1, Stage: "s1"}
			}
			mine, err := journal.Open(journal.Config{Dir: dir, Worker: "w1"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = mine.Close() })
			if err := mine.Append(line(journal.OutcomeClaimed)); err != nil {
				t.Fatal(err)
			}
			w := &Worker{cfg: Config{Concurrency: 1, ClaimWindow: 1}, journal: mine, st: store.New(rdb), log: slog.New(slog.DiscardHandler)}
			if tt.bad {
				files, err := journal.Files(dir, c)
				if err != nil || len(files) != 1 {
					t.Fatalf("files %v, %v", files, err)
				}
				f, err := os.OpenFile(files[0].Path, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = f.WriteString("\x00\x00 not an entry\n")
				_ = f.Close()
				if err := mine.Append(line(journal.OutcomeUnclaimed)); err != nil {
					t.Fatal(err)
				}
			} else {
				// Another worker's file, read by the check too: it claimed
				// x and gave it back between this check's ledger read and
				// its second read.
				other, err := journal.Open(journal.Config{Dir: dir, Worker: "w2"})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = other.Close() })
				y := line("failed")
				y.ID = "y"
				if err := other.Append(y); err != nil {
					t.Fatal(err)
				}
				w.ledgerRead = func() {
					if err := other.Append(line(journal.OutcomeClaimed), line(journal.OutcomeUnclaimed)); err != nil {
						t.Error(err)
					}
				}
			}
			wantForgotten(t, w, c, "s1", tt.lost)
		})
	}
}

// wantForgotten runs w's journal check of campaign c's run r1 in stage
// and fails unless it finds a loss exactly when lost.
func wantForgotten(t *testing.T, w *Worker, c, stage string, lost bool) {
	t.Helper()
	reason, err := w.forgotten(context.Background(), c, "r1", stage)
	if err != nil {
		t.Fatal(err)
	}
	if got := reason != ""; got != lost {
		t.Errorf("forgotten: %q; want lost=%v", reason, lost)
	}
}

// TestTailFor: the journal check reads 64 KB of each file at the default
// settings, more for a worker that can hold more claims open at once, and
// never more than tailMax.
func TestTailFor(t *testing.T) {
	for _, tt := range []struct {
		conc, window int
		want         int64
	}{
		{8, DefaultClaimWindow, tailBytes},
		{32, 64, 2 * 32 * 64 * 240},
		{64, 128, tailMax},
	} {
		if got := tailFor(Config{Concurrency: tt.conc, ClaimWindow: tt.window}); got != tt.want {
			t.Errorf("tailFor(%d connections, window %d) = %d, want %d", tt.conc, tt.window, got, tt.want)
		}
	}
}
