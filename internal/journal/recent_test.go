package journal_test

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/journal"
)

// TestLatest: the journal check's read of the latest lines of a run. Each
// case writes lines into worker files w1 and w2 (w2 written last) and
// reads them back as a Recent: the ids delivered or claimed, the claims
// left open in their file with their attempt, and what DropGivenBack
// excuses once more lines (later) are written after the read.
func TestLatest(t *testing.T) {
	type line struct {
		worker, id, outcome, stage, run string
		attempt                         int
	}
	sent := func(w, id string) line { return line{w, id, "sent", "", "r1", 0} }
	claim := func(w, id string, a int) line { return line{w, id, journal.OutcomeClaimed, "s2", "r1", a} }
	back := func(w, id string) line { return line{w, id, journal.OutcomeUnclaimed, "", "r1", 0} }
	for _, tt := range []struct {
		name     string
		lines    []line
		maxFiles int
		later    []line
		ids      string // Recent.IDs, sorted
		open     string // "id:attempt" of open claims, sorted
		excused  string // of every open claim, those DropGivenBack drops, sorted
	}{
		{"deliveries and failures", []line{sent("w1", "a"), {"w1", "b", "failed", "", "r1", 0}, {"w1", "c", journal.OutcomeInDoubt, "", "r1", 0}}, 2, nil, "a c", "", ""},
		{"an open claim", []line{claim("w1", "a", 2)}, 2, nil, "a", "a:2", ""},
		{"a claim with no attempt is a first", []line{claim("w1", "a", 0)}, 2, nil, "a", "a:1", ""},
		{"a claim resolved by its outcome", []line{claim("w1", "a", 1), sent("w1", "a")}, 2, nil, "a", "", ""},
		{"a claim given back", []line{claim("w1", "a", 1), back("w1", "a")}, 2, nil, "", "", ""},
		{"a stage-less claim counts", []line{{"w1", "a", journal.OutcomeClaimed, "", "r1", 1}}, 2, nil, "a", "a:1", ""},
		{"an earlier staging's claim does not", []line{{"w1", "a", journal.OutcomeClaimed, "s1", "r1", 1}}, 2, nil, "", "", ""},
		{"an earlier staging's claim resolves one before it", []line{claim("w1", "a", 1), {"w1", "a", journal.OutcomeClaimed, "s1", "r1", 1}}, 2, nil, "", "", ""},
		{"another run's lines", []line{{"w1", "a", "sent", "", "r0", 0}, {"w1", "b", journal.OutcomeClaimed, "s2", "r0", 1}}, 2, nil, "", "", ""},
		{"a delivery in one file closes no claim of the other", []line{claim("w1", "a", 1), sent("w2", "a")}, 2, nil, "a", "", ""},
		{"a claim open in a newer file, delivered in an older one", []line{sent("w1", "a"), claim("w2", "a", 2)}, 2, nil, "a", "", ""},
		{"a claim open in an older file, delivered in a newer one", []line{sent("w2", "a"), claim("w1", "a", 1)}, 2, nil, "a", "", ""},
		{"the newest files only", []line{sent("w1", "a"), sent("w2", "b")}, 1, nil, "b", "", ""},
		{"given back after the read, same file", []line{claim("w1", "a", 1)}, 2, []line{back("w1", "a")}, "a", "a:1", "a"},
		{"given back after the read, another file", []line{claim("w1", "a", 1), sent("w2", "x")}, 2, []line{back("w2", "a")}, "a x", "a:1", ""},
		{"sent after the read", []line{claim("w1", "a", 1)}, 2, []line{sent("w1", "a")}, "a", "a:1", ""},
		// A line that amends an earlier outcome (outcome "...!": Amends)
		// resolves no claim.
		{"an amending line leaves a claim open", []line{claim("w1", "a", 2), {"w1", "a", "failed!", "", "r1", 0}}, 2, nil, "a", "a:2", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writers := map[string]*journal.Writer{}
			write := func(ls []line) {
				for _, l := range ls {
					w := writers[l.worker]
					if w == nil {
						var err error
						if w, err = journal.Open(journal.Config{Dir: dir, Worker: l.worker}); err != nil {
							t.Fatal(err)
						}
						t.Cleanup(func() { _ = w.Close() })
						writers[l.worker] = w
					}
					e := journal.Entry{At: time.Now(), Campaign: "c", Run: l.run, ID: l.id, Email: l.id + "@example.com", Outcome: strings.TrimSuffix(l.outcome, "!"),
						Attempt: l.attempt, Stage: l.stage, Amends: strings.HasSuffix(l.outcome, "!")}
					if err := w.Append(e); err != nil {
						t.Fatal(err)
					}
				}
			}
			write(tt.lines)
			// w2's file is the newer one.
			files, _ := journal.Files(dir, "c")
			for _, f := range files {
				at := time.Now().Add(-time.Hour)
				if f.Worker == "w2" {
					at = time.Now()
				}
				_ = os.Chtimes(f.Path, at, at)
			}
			rec, err := journal.Latest(dir, "c", "r1", "s2", 1<<20, tt.maxFiles, func(path string, err error) { t.Errorf("passed over %s: %v", path, err) })
			if err != nil {
				t.Fatal(err)
			}
			ids := slices.Sorted(slices.Values(rec.IDs))
			var open []string
			all := map[string]bool{}
			for _, id := range ids {
				if a, ok := rec.Claim(id); ok {
					open = append(open, fmt.Sprintf("%s:%d", id, a))
					all[id] = true
				}
			}
			if got := strings.Join(ids, " "); got != tt.ids {
				t.Errorf("IDs %q, want %q", got, tt.ids)
			}
			if got := strings.Join(open, " "); got != tt.open {
				t.Errorf("open claims %q, want %q", got, tt.open)
			}
			write(tt.later)
			left := map[string]bool{}
			for id := range all {
				left[id] = true
			}
			rec.DropGivenBack(left)
			var excused []string
			for id := range all {
				if !left[id] {
					excused = append(excused, id)
				}
			}
			slices.Sort(excused)
			if got := strings.Join(excused, " "); got != tt.excused {
				t.Errorf("DropGivenBack excused %q, want %q", got, tt.excused)
			}
		})
	}
}

// TestLatestPassesOverABadFile: a file whose tail holds a line that is not
// an entry is passed over whole and reported; the others are read. A
// directory that does not exist is Latest's error.
func TestLatestPassesOverABadFile(t *testing.T) {
	dir := t.TempDir()
	for _, w := range []string{"w1", "w2"} {
		j, err := journal.Open(journal.Config{Dir: dir, Worker: w})
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Append(journal.Entry{At: time.Now(), Campaign: "c", Run: "r1", ID: w, Email: w + "@example.com", Outcome: "sent"}); err != nil {
			t.Fatal(err)
		}
		_ = j.Close()
	}
	files, _ := journal.Files(dir, "c")
	f, err := os.OpenFile(files[0].Path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("\x00 not an entry\n")
	_ = f.Close()
	var passed []string
	rec, err := journal.Latest(dir, "c", "r1", "s1", 1<<20, 32, func(path string, err error) { passed = append(passed, path) })
	if err != nil {
		t.Fatal(err)
	}
	if len(passed) != 1 || passed[0] != files[0].Path {
		t.Errorf("passed over %v, want %s", passed, files[0].Path)
	}
	if !slices.Equal(rec.IDs, []string{files[1].Worker}) {
		t.Errorf("IDs %v, want the other file's %s", rec.IDs, files[1].Worker)
	}
	if _, err := journal.Latest(dir+"/none", "c", "r1", "s1", 1<<20, 32, func(string, error) {}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing directory: %v, want not-exist", err)
	}
}

// TestLatestResolved: the claims of the current staging that a later line
// of their file resolved with an outcome (a temporary failure too, not a
// give-back), with their attempt (the ledger counted it), and the
// recipients delivered with no claim open. A claim that names no staging
// is not taken as resolved: it may be of an earlier one, whose entries a
// re-staging cleared.
func TestLatestResolved(t *testing.T) {
	type line struct {
		id, outcome, stage string
		attempt            int
	}
	for _, tt := range []struct {
		name      string
		lines     []line
		ids       string // Recent.IDs, sorted
		resolved  string // "id:attempt", sorted
		delivered string
	}{
		{"a temporary failure", []line{{"a", journal.OutcomeClaimed, "s2", 2}, {"a", "temp", "", 0}}, "a", "a:2", ""},
		{"a delivery", []line{{"a", journal.OutcomeClaimed, "s2", 1}, {"a", "sent", "", 0}}, "a", "a:1", "a"},
		{"a give-back", []line{{"a", journal.OutcomeClaimed, "s2", 1}, {"a", journal.OutcomeUnclaimed, "", 0}}, "", "", ""},
		{"a stage-less claim", []line{{"a", journal.OutcomeClaimed, "", 1}, {"a", "temp", "", 0}}, "", "", ""},
		{"an earlier staging's claim", []line{{"a", journal.OutcomeClaimed, "s1", 1}, {"a", "temp", "", 0}}, "", "", ""},
		{"resolved, then claimed again", []line{{"a", journal.OutcomeClaimed, "s2", 1}, {"a", "temp", "", 0}, {"a", journal.OutcomeClaimed, "s2", 2}}, "a", "a:1", ""},
		{"the highest attempt", []line{{"a", journal.OutcomeClaimed, "s2", 1}, {"a", "temp", "", 0}, {"a", journal.OutcomeClaimed, "s2", 2}, {"a", "failed", "", 0}}, "a", "a:2", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := journal.Open(journal.Config{Dir: dir, Worker: "w1"})
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range tt.lines {
				if err := w.Append(journal.Entry{At: time.Now(), Campaign: "c", Run: "r1", ID: l.id, Email: l.id + "@example.com", Outcome: l.outcome, Attempt: l.attempt, Stage: l.stage}); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			rec, err := journal.Latest(dir, "c", "r1", "s2", 1<<20, 2, func(path string, err error) { t.Errorf("passed over %s: %v", path, err) })
			if err != nil {
				t.Fatal(err)
			}
			ids := slices.Sorted(slices.Values(rec.IDs))
			var resolved, delivered []string
			for _, id := range ids {
				if a, ok := rec.Resolved(id); ok {
					resolved = append(resolved, fmt.Sprintf("%s:%d", id, a))
				}
				if rec.Delivered(id) {
					delivered = append(delivered, id)
				}
			}
			for what, got := range map[string][2]string{
				"IDs":       {strings.Join(ids, " "), tt.ids},
				"resolved":  {strings.Join(resolved, " "), tt.resolved},
				"delivered": {strings.Join(delivered, " "), tt.delivered},
			} {
				if got[0] != got[1] {
					t.Errorf("%s %q, want %q", what, got[0], got[1])
				}
			}
		})
	}
}

// TestEachDelivery: a whole file's deliveries of one run, sent and in
// doubt, nothing else (claims, failures, give-backs, another run), and a
// last line cut by a crash read for what it still says.
func TestEachDelivery(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := journal.Open(journal.Config{Dir: dir, Worker: "w1"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, e := range []journal.Entry{
		{ID: "a", Outcome: journal.OutcomeClaimed, Attempt: 1, Stage: "s1"},
		{ID: "a", Outcome: "sent"},
		{ID: "b", Outcome: journal.OutcomeClaimed, Attempt: 1, Stage: "s1"},
		{ID: "b", Outcome: "temp"},
		{ID: "c", Outcome: journal.OutcomeClaimed, Attempt: 1, Stage: "s1"},
		{ID: "c", Outcome: journal.OutcomeUnclaimed},
		{ID: "d", Outcome: journal.OutcomeInDoubt},
		{ID: "e", Outcome: "failed"},
		{ID: "f", Outcome: "sent", Run: "r0"},
		{ID: "g", Outcome: "sent"},
	} {
		e.At, e.Campaign, e.Run = now, "c1", cmp.Or(e.Run, "r1")
		if err := w.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := journal.Files(dir, "c1")
	if err != nil || len(files) != 2 {
		t.Fatalf("files %v, %v; want one per run", files, err)
	}
	slices.SortFunc(files, func(a, b journal.File) int { return strings.Compare(b.Run, a.Run) }) // r1 first
	if cutAt, err := files[1].EachDelivery("r1", func(id string) error { return fmt.Errorf("%s: another run's file has a delivery of r1", id) }); err != nil || cutAt != -1 {
		t.Error(cutAt, err)
	}
	var whole []string
	if cutAt, err := files[0].EachDelivery("r1", func(id string) error { whole = append(whole, id); return nil }); err != nil || cutAt != -1 {
		t.Errorf("whole file: cut at %d, %v; want -1", cutAt, err)
	}
	// Cut the last line ("g" sent) short of its newline and its end.
	b, err := os.ReadFile(files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files[0].Path, b[:len(b)-5], 0o640); err != nil {
		t.Fatal(err)
	}
	var got []string
	cutAt, err := files[0].EachDelivery("r1", func(id string) error { got = append(got, id); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(got, " "); s != "a d g" {
		t.Errorf("deliveries %q, want a d g (sent, in doubt, the cut line's)", s)
	}
	// Where the cut line starts: the line after the last newline.
	if want := int64(bytes.LastIndexByte(b[:len(b)-5], '\n') + 1); cutAt != want {
		t.Errorf("cut at %d, want %d (where g's line starts)", cutAt, want)
	}
	// Finished meanwhile (a line being written): read again from there.
	if err := os.WriteFile(files[0].Path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	var again []string
	if _, err := files[0].After(cutAt, func(e journal.Entry) error { again = append(again, e.ID+" "+e.Outcome); return nil }); err != nil || len(again) != 1 || again[0] != "g sent" {
		t.Errorf("the line at %d read again: %q, %v; want g sent", cutAt, again, err)
	}
	stop := errors.New("stop")
	if _, err := files[0].EachDelivery("r1", func(string) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("fn's error: got %v, want it returned", err)
	}
}
