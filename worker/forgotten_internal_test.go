package worker

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestForgottenReadsClaims: the journal check looks up, besides the
// deliveries, the claims whose file has not resolved them, and counts as
// forgotten by Redis an entry that is missing, or deferred with fewer
// attempts than the claim (a claim whose temporary failure was recorded
// without its line, the journal having broken, is deferred with as many).
// A claim resolved between its file's read and the ledger's (its window
// ended, or it was given back: the line is written before Redis changes)
// is not counted: the files are read again after the ledger.
func TestForgottenReadsClaims(t *testing.T) {
	t.Parallel()
	rdb := redistest.Start(t).Client()
	line := func(outcome string, attempt int) journal.Entry {
		return journal.Entry{At: time.Now(), Campaign: "c", Run: "r1", ID: "x", Email: "x@example.com", Outcome: outcome, Attempt: attempt}
	}
	claimed := func(a int) journal.Entry { return line(journal.OutcomeClaimed, a) }
	for _, tt := range []struct {
		name   string
		lines  []journal.Entry
		ledger string         // x's entry ("": none)
		later  *journal.Entry // appended between the ledger's read and the files' second
		lost   bool
	}{
		{"open claim, entry missing", []journal.Entry{claimed(1)}, "", nil, true},
		{"open claim, entry sending", []journal.Entry{claimed(1)}, "sending|1|1|||tok", nil, false},
		{"open claim, entry in doubt", []journal.Entry{claimed(1)}, "in-doubt|1|1||k:tok|claimed before a crash", nil, false},
		{"open second claim, deferred after its first", []journal.Entry{claimed(2)}, "deferred|1|1|451|t|try later", nil, true},
		{"open claim, its failure recorded without its line", []journal.Entry{claimed(2)}, "deferred|2|1|451|t|try later", nil, false},
		{"claim given back", []journal.Entry{claimed(1), line(journal.OutcomeUnclaimed, 0)}, "", nil, false},
		{"claim failed", []journal.Entry{claimed(1), line("temp", 0)}, "deferred|1|1|451|t|try later", nil, false},
		{"claim given back while the ledger was read", []journal.Entry{claimed(1)}, "", &journal.Entry{}, false},
		{"sent, entry missing", []journal.Entry{claimed(1), line("sent", 0)}, "", nil, true},
		{"sent, entry deferred", []journal.Entry{claimed(1), line("sent", 0)}, "deferred|1|1|451|t|try later", nil, true},
		{"sent, entry sent", []journal.Entry{claimed(1), line("sent", 0)}, "sent|1|1|250||ok", nil, false},
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
			if tt.later != nil {
				w.ledgerRead = func() {
					e := line(journal.OutcomeUnclaimed, 0)
					e.Campaign = c
					if err := j.Append(e); err != nil {
						t.Error(err)
					}
				}
			}
			reason, err := w.forgotten(ctx, c, "r1")
			if err != nil {
				t.Fatal(err)
			}
			if got := reason != ""; got != tt.lost {
				t.Errorf("forgotten: %q; want lost=%v", reason, tt.lost)
			}
		})
	}
}
