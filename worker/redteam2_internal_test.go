package worker

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestForgottenAnywhereReadsALineBeingWritten: verify's whole-file check
// (forgottenAnywhere) reads the journal files of live workers, which go on
// appending while it reads: a window's lines are one write(2) of ~4 KB,
// which the kernel copies into the file a page at a time, updating its
// size after each, so a reader can see the write's first part alone (a
// file that ends mid-line; measured on this VM's ext4 with a worker
// appending 16-line windows without pause: 104 of 675 whole-file reads).
// The check read such a cut last line as a delivery (what it still says,
// in doubt: as readers of a dead worker's journal must), and looked its
// recipient up in the ledger after reading every file: by then the line
// was whole (a temporary failure) and the ledger had recorded it
// (deferred), which is not a delivery: state loss suspected, an
// unresumable pause of a healthy campaign. A line that is whole by the
// time the ledger has been read says what it is; a line that stays cut
// (its worker died mid-write) still counts as a delivery.
func TestForgottenAnywhereReadsALineBeingWritten(t *testing.T) {
	t.Parallel()
	rdb := redistest.Start(t).Client()
	for _, tt := range []struct {
		name     string
		outcome  string // of x's line being written
		ledger   string // x's entry when the ledger is read
		finished bool   // the write completes before the ledger's answer is used
		lost     bool
	}{
		{"temporary failure, written meanwhile", "temp", "deferred|1|1|451|t|greylisted", true, false},
		{"given back, written meanwhile", journal.OutcomeUnclaimed, "", true, false},
		{"permanent failure, written meanwhile", "failed", "failed|1|1|550||no such user", true, false},
		{"sent, written meanwhile, ledger lost it", "sent", "", true, true},
		{"cut for good (its worker died), ledger lost it", "temp", "", false, true},
		{"cut for good (its worker died), sending", "temp", "sending|1|1|||tok", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c := "cut-" + map[bool]string{true: "done", false: "dead"}[tt.finished] + "-" + tt.outcome + map[bool]string{true: "-lost"}[tt.lost] + map[bool]string{true: "-sending"}[tt.ledger != "" && tt.ledger[0] == 's']
			dir := t.TempDir()
			j, err := journal.Open(journal.Config{Dir: dir, Worker: "w1"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = j.Close() })
			line := func(id, outcome string) journal.Entry {
				return journal.Entry{At: time.Now(), Campaign: c, Run: "r1", ID: id, Email: id + "@example.com", Lang: "de", Outcome: outcome, Worker: "w1"}
			}
			// y delivered earlier (the ledger has it sent), x claimed.
			claim := line("x", journal.OutcomeClaimed)
			claim.Attempt, claim.Stage = 1, "s1"
			if err := j.Append(line("y", "sent"), claim); err != nil {
				t.Fatal(err)
			}
			// Another worker's file, being appended to: x's outcome line,
			// of which the check sees the first part only.
			other := journal.Entry{At: time.Now(), Campaign: c, Run: "r1", ID: "x", Email: "x@example.com", Lang: "de", Outcome: tt.outcome, Code: "451 4.7.1", Worker: "w2"}
			whole, err := otherLine(other)
			if err != nil {
				t.Fatal(err)
			}
			path := dir + "/" + c + "/r1.w2.jsonl"
			cut := bytes.Index(whole, []byte(`"outcome":"`)) + len(`"outcome":"`) + 1 // past the id, in the outcome's value
			if err := os.WriteFile(path, whole[:cut], 0o640); err != nil {
				t.Fatal(err)
			}
			ledger := "tidings:{" + c + "}:ledger"
			if err := rdb.HSet(ctx, ledger, "y", "sent|1|1|250||ok").Err(); err != nil {
				t.Fatal(err)
			}
			if tt.ledger != "" {
				if err := rdb.HSet(ctx, ledger, "x", tt.ledger).Err(); err != nil {
					t.Fatal(err)
				}
			}
			w := &Worker{cfg: Config{Concurrency: 1, ClaimWindow: 1}, journal: j, st: store.New(rdb), log: slog.New(slog.DiscardHandler)}
			if tt.finished {
				// The write completes before the ledger is read (the
				// ledger's entry is what the worker recorded after it).
				w.ledgerRead = func() {
					f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
					if err != nil {
						t.Error(err)
						return
					}
					defer f.Close()
					if _, err := f.Write(whole[cut:]); err != nil {
						t.Error(err)
					}
				}
			}
			reason, err := w.forgottenAnywhere(ctx, c, "r1")
			if err != nil {
				t.Fatal(err)
			}
			if got := reason != ""; got != tt.lost {
				t.Errorf("forgottenAnywhere: %q; want lost=%v", reason, tt.lost)
			}
		})
	}
}

// otherLine is e as a journal line, written by a journal of its own.
func otherLine(e journal.Entry) ([]byte, error) {
	dir, err := os.MkdirTemp("", "line")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	j, err := journal.Open(journal.Config{Dir: dir, Worker: e.Worker})
	if err != nil {
		return nil, err
	}
	if err := j.Append(e); err != nil {
		return nil, err
	}
	if err := j.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(dir + "/" + e.Campaign + "/" + e.Run + "." + e.Worker + ".jsonl")
}
