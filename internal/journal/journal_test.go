package journal_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/journal"
)

// openAlways opens a journal in dir for worker "w", fsynced on every append.
func openAlways(t *testing.T, dir string) *journal.Writer {
	t.Helper()
	w, err := journal.Open(journal.Config{Dir: dir, Worker: "w", Always: true})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

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

// TestAppendIsInTheFile: an appended line is in the file when Append
// returns (read by another handle, without Sync or Close), so a worker
// killed right after loses none; with Always it is also fsynced.
func TestAppendIsInTheFile(t *testing.T) {
	t.Parallel()
	for _, always := range []bool{true, false} {
		dir := t.TempDir()
		cfg := journal.Config{Dir: dir, Worker: "w", Always: always}
		if !always {
			cfg.Sync = time.Hour // the interval's sync does not do it
		}
		w, err := journal.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
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
			t.Errorf("always=%v: %d lines in the file right after 50 appends returned, want 50", always, n)
		}
		_ = w.Close()
	}
}

// cutJournal writes a journal of worker w holding one whole line (a sent)
// of campaign c, run r, then fragment, as a writer that died mid-line
// leaves it; it returns the journal directory.
func cutJournal(t *testing.T, fragment string) string {
	t.Helper()
	dir := t.TempDir()
	w := openAlways(t, dir)
	if err := w.Append(entry("c", "r", "a", "sent")); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	f, err := os.OpenFile(filepath.Join(dir, "c", "r.w.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(fragment); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	return dir
}

// TestTruncatedLine: a file whose writer died mid-line is read up to it,
// and Read says so.
func TestTruncatedLine(t *testing.T) {
	t.Parallel()
	dir := cutJournal(t, `{"at":"2026-01-01T00:00:00Z","campaign":"c","ru`)
	n := 0
	err := journal.Read(dir, "c", func(journal.Entry) error { n++; return nil })
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

// TestUnknownRuns: the runs a staging neither continues nor excludes are
// those with a delivery in a file not known by run nor by run.worker; it
// fails closed on a file it cannot read or whose last line is cut.
func TestUnknownRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(worker, run, outcome string) {
		w, err := journal.Open(journal.Config{Dir: dir, Worker: worker})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Append(entry("c", run, "x-"+worker+"-"+run, outcome)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	write("w1", "r1", "sent")
	write("w2", "r1", "in-doubt")
	write("w1", "r2", "failed") // no delivery: never unknown
	write("w3", "r3", "sent")
	tests := []struct {
		known []string
		want  string
	}{
		{nil, "r1 r3"},
		{[]string{"r1"}, "r3"},
		{[]string{"r1.w1"}, "r1 r3"}, // w2's deliveries of r1 were not read
		{[]string{"r1.w1", "r1.w2", "r3"}, ""},
		{[]string{"r9"}, "r1 r3"},
	}
	for _, tt := range tests {
		got, err := journal.UnknownRuns(dir, "c", tt.known)
		if err != nil {
			t.Fatal(err)
		}
		if s := strings.Join(got, " "); s != tt.want {
			t.Errorf("UnknownRuns(known %v) = %q, want %q", tt.known, s, tt.want)
		}
	}
	// Known as read up to a size: a file that grew since holds lines
	// nobody read.
	files, err := journal.Files(dir, "c")
	if err != nil {
		t.Fatal(err)
	}
	var read []string
	for _, f := range files {
		n, err := f.ReadName()
		if err != nil {
			t.Fatal(err)
		}
		read = append(read, n)
	}
	if got, err := journal.UnknownRuns(dir, "c", read); err != nil || len(got) != 0 {
		t.Errorf("every file read: unknown %v %v, want none", got, err)
	}
	write("w2", "r1", "sent") // w2 journals more of r1 after the read
	if got, err := journal.UnknownRuns(dir, "c", read); err != nil || strings.Join(got, " ") != "r1" {
		t.Errorf("a file grown since it was read: unknown %v %v, want r1", got, err)
	}
	if got, err := journal.UnknownRuns(filepath.Join(dir, "missing"), "c", nil); err != nil || len(got) != 0 {
		t.Errorf("a missing journal dir: %v %v, want no run", got, err)
	}
	// A file cut mid-line, or not a journal, may hide a delivery.
	cut := filepath.Join(dir, "c", "r4.w4.jsonl")
	if err := os.WriteFile(cut, []byte(`{"campaign":"c","run":"r4","outc`), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "c", "r5.w5.jsonl")
	if err := os.WriteFile(bad, []byte("not json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := journal.UnknownRuns(dir, "c", []string{"r1", "r3"})
	if err != nil || strings.Join(got, " ") != "r4 r5" {
		t.Errorf("unreadable files: %v %v, want r4 r5", got, err)
	}
}

// TestCutLine: a line cut by a crash still says who it was about when it
// got that far: readers count that recipient in doubt (the line was written
// after the SMTP reply), and a worker restarted with the same id ends the
// file at its last whole line, writes the salvaged entry whole and goes on
// appending. Before, the restarted worker's every append failed on the
// cut line, which turned its journal off for good.
func TestCutLine(t *testing.T) {
	t.Parallel()
	dir := cutJournal(t, `{"at":"2026-01-01T00:00:00Z","campaign":"c","run":"r","id":"b","email":"b@x.exa`)
	var got []string
	read := func() error {
		got = nil
		return journal.Read(dir, "c", func(e journal.Entry) error { got = append(got, e.ID+":"+e.Outcome); return nil })
	}
	if err := read(); !errors.Is(err, journal.ErrTruncated) || strings.Join(got, " ") != "a:sent b:in-doubt" {
		t.Fatalf("read %v, err %v; want a:sent b:in-doubt and ErrTruncated", got, err)
	}
	w2 := openAlways(t, dir)
	if err := w2.Append(entry("c", "r", "c", "sent")); err != nil {
		t.Fatalf("append after a cut line: %v", err)
	}
	if n, _ := w2.Count("c", "r", "in-doubt"); n != 1 {
		t.Errorf("in-doubt count %d, want 1 (the salvaged line)", n)
	}
	_ = w2.Close()
	if err := read(); err != nil || strings.Join(got, " ") != "a:sent b:in-doubt c:sent" {
		t.Fatalf("after the restart: read %v, err %v; want a:sent b:in-doubt c:sent and no error", got, err)
	}
	// A fragment that holds its outcome whole keeps it.
	name2 := filepath.Join(dir, "c", "r.w2.jsonl")
	_ = os.WriteFile(name2, []byte(`{"at":"2026-01-01T00:00:00Z","campaign":"c","run":"r","id":"d","email":"d@x.example","outcome":"failed","co`), 0o600)
	if err := read(); !errors.Is(err, journal.ErrTruncated) || !strings.Contains(strings.Join(got, " "), "d:failed") {
		t.Errorf("read %v, err %v; want d:failed", got, err)
	}
}

// FuzzEntryLine: a journal line is exactly what json.Marshal writes for
// the entry (readers decode it with encoding/json), whatever the text.
func FuzzEntryLine(f *testing.F) {
	f.Add("c1", "run-1", "u1", "a@example.org", "de", "sent", "250", "w1", int64(1764680000123456789), 0, "")
	f.Add("c\"<x>&", "", "ü\u2028", "a\x00b@x", "", "in-doubt", "", "", int64(0), 0, "")
	f.Add("c", "r", "i", "\xff\xfe", "zh-Hant", "temp", "451 4.7.1", "host/1", int64(-62135596800000000), 3, "s\xff<")
	f.Add("a<b", "a>b", "a&b", "tab\there", "back\\slash", "claimed", "", "w", int64(1), -2, "st-1")
	f.Add("c", "r", "i", "e", "", "claimed", "", "", int64(1), 1, "st-2")
	f.Fuzz(func(t *testing.T, campaign, run, id, email, lang, outcome, code, worker string, ns int64, attempt int, stage string) {
		// UTC, as workers write, and zones with an offset, which the line
		// writes as json.Marshal does too.
		utc := time.Unix(0, ns).UTC()
		for i, at := range []time.Time{utc, utc, utc.In(time.FixedZone("x", 5*3600+30*60)), utc.In(time.FixedZone("y", -(3*3600 + 7)))} {
			amends := i%2 == 1
			e := journal.Entry{At: at, Campaign: campaign, Run: run, ID: id, Email: email, Lang: lang, Outcome: outcome, Code: code, Attempt: attempt, Stage: stage, Worker: worker, Amends: amends}
			if i >= 2 {
				e.Env = stage + worker // an environment's name, and none
			}
			want, werr := json.Marshal(e)
			got, gerr := journal.EntryJSON(e)
			if (werr != nil) != (gerr != nil) {
				t.Fatalf("json.Marshal error %v, EntryJSON error %v", werr, gerr)
			}
			if string(got) != string(want) {
				t.Fatalf("line\n%s\nwant (json.Marshal)\n%s", got, want)
			}
		}
	})
}

// TestEntryLineHasEveryField: a journal line is written field by field
// (appendJSON); a field added to Entry must be written there too, which
// FuzzEntryLine alone would miss for a field left at its zero value.
func TestEntryLineHasEveryField(t *testing.T) {
	if n := reflect.TypeFor[journal.Entry]().NumField(); n != 13 {
		t.Fatalf("journal.Entry has %d fields, appendJSON writes 13: write the new one in appendJSON, then update this count", n)
	}
}

// BenchmarkAppend is the journal's cost per message in a worker: one line,
// synced within the default interval.
func BenchmarkAppend(b *testing.B) {
	w, err := journal.Open(journal.Config{Dir: b.TempDir(), Worker: "w1"})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	e := journal.Entry{At: time.Now().UTC(), Campaign: "altea-migration", Run: "tpf5m9-090a74ae8e644491", ID: "u123456",
		Email: "juergen.gross@example.de", Lang: "de", Outcome: "sent", Code: "250", Worker: "vm-10397-09537876"}
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Append(e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendWindow: a claim window of 16 journaled in one Append, as
// a worker does before sending it; ns/entry is its cost per recipient.
func BenchmarkAppendWindow(b *testing.B) {
	w, es := claimWindow(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Append(es...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(es)), "ns/entry")
}

// claimWindow opens a Writer in a temporary directory and returns it with
// a claim window of 16 entries, as a worker journals before sending them.
func claimWindow(tb testing.TB) (*journal.Writer, []journal.Entry) {
	w, err := journal.Open(journal.Config{Dir: tb.TempDir(), Worker: "w1"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = w.Close() })
	es := make([]journal.Entry, 16)
	for i := range es {
		es[i] = journal.Entry{At: time.Now().UTC(), Campaign: "altea-migration", Run: "tpf5m9-090a74ae8e644491", ID: fmt.Sprintf("u%06d", i),
			Email: "juergen.gross@example.de", Lang: "de", Outcome: journal.OutcomeClaimed, Worker: "vm-10397-09537876"}
	}
	return w, es
}

// TestAppendAllocations counts the allocations of one Append of a claim
// window of 16 (a worker makes two a window): 5 before its line buffer
// came from a pool and its file was looked up by a struct key instead of
// "campaign/run" (the buffer, that string twice); what is left is
// os.Stat's two, for the check that the file is still the one opened.
func TestAppendAllocations(t *testing.T) {
	w, es := claimWindow(t)
	got := testing.AllocsPerRun(200, func() {
		if err := w.Append(es...); err != nil {
			t.Fatal(err)
		}
	})
	const want = 2
	if got > want {
		t.Errorf("an Append of %d entries allocates %.0f times, want at most %d", len(es), got, want)
	}
}

// TestTail: Tail reads the whole entries at a file's end, never the one the
// window cuts nor a last line still being written, whatever the window.
func TestTail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := openAlways(t, dir)
	ids := []string{"a", "b", "c", "d"}
	for _, id := range ids {
		if err := w.Append(entry("c", "r", id, "sent")); err != nil {
			t.Fatal(err)
		}
	}
	_ = w.Close()
	files, err := journal.Files(dir, "c")
	if err != nil || len(files) != 1 {
		t.Fatalf("files %v %v", files, err)
	}
	f := files[0]
	b, _ := os.ReadFile(f.Path)
	line := int64(strings.IndexByte(string(b), '\n') + 1) // every line is as long
	tests := []struct {
		max  int64
		want string
	}{
		{0, ""},
		{line - 1, ""},
		{line, "d"},
		{line + 1, "d"},
		{2*line - 1, "d"},
		{2 * line, "c d"},
		{4 * line, "a b c d"},
		{1 << 20, "a b c d"},
	}
	for _, tt := range tests {
		var got []string
		end, err := f.Tail(tt.max, func(e journal.Entry) error { got = append(got, e.ID); return nil })
		if err != nil {
			t.Fatalf("max %d: %v", tt.max, err)
		}
		if s := strings.Join(got, " "); s != tt.want {
			t.Errorf("max %d (lines of %d bytes): read %q, want %q", tt.max, line, s, tt.want)
		}
		if tt.want != "" && end != 4*line {
			t.Errorf("max %d: Tail ended at %d, want the file's end %d", tt.max, end, 4*line)
		}
	}
	// After reads the whole lines from an offset on, skipping the one it cuts.
	for off, want := range map[int64]string{0: "a b c d", 1: "b c d", line: "b c d", line + 1: "c d", 4 * line: "", 1 << 20: ""} {
		var got []string
		if _, err := f.After(off, func(e journal.Entry) error { got = append(got, e.ID); return nil }); err != nil || strings.Join(got, " ") != want {
			t.Errorf("After(%d): read %v, err %v; want %q", off, got, err, want)
		}
	}
	// A line being written is not read, and is read whole by After from
	// where Tail ended once it is.
	fh, err := os.OpenFile(f.Path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	partial := `{"at":"2026-01-01T00:00:00Z","campaign":"c","run":"r","id":"e","ema`
	_, _ = fh.WriteString(partial)
	var got []string
	end, err := f.Tail(2*line+int64(len(partial)), func(e journal.Entry) error { got = append(got, e.ID); return nil })
	if err != nil || strings.Join(got, " ") != "c d" {
		t.Errorf("with a line being written: read %v, err %v; want c d", got, err)
	}
	_, _ = fh.WriteString(`il":"e@x.example","outcome":"sent"}` + "\n")
	_ = fh.Close()
	got = nil
	if _, err := f.After(end, func(e journal.Entry) error { got = append(got, e.ID); return nil }); err != nil || strings.Join(got, " ") != "e" {
		t.Errorf("After(%d) once the line is whole: read %v, err %v; want e", end, got, err)
	}
}

// TestClaimedLines: a worker journals a window's claims before sending
// them and the ones it gives back unsent as unclaimed; readers never see
// those lines, and a claim that no later line of its file resolves (the
// worker died between the server's reply and the outcome's line) is read
// as in doubt, so that a recovery never sends it again.
func TestClaimedLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lines []string // "id:outcome", "id:outcome!" for a line that amends (Entry.Amends)
		want  string   // what Read passes on: "id:outcome[:code]", "!" after an amending line's
	}{
		{"sent after its claim", []string{"a:claimed", "a:sent"}, "a:sent"},
		{"a window, the worker died", []string{"a:claimed", "b:claimed", "c:claimed", "a:sent"}, "a:sent b:in-doubt:claimed-no-outcome c:in-doubt:claimed-no-outcome"},
		{"given back", []string{"a:claimed", "b:claimed", "a:failed", "b:unclaimed"}, "a:failed"},
		{"claimed again after a temporary failure", []string{"a:claimed", "a:temp", "a:claimed"}, "a:temp a:in-doubt:claimed-no-outcome"},
		{"given back, claimed again, sent", []string{"a:claimed", "a:unclaimed", "a:claimed", "a:sent"}, "a:sent"},
		{"an unclaimed line alone", []string{"a:unclaimed"}, ""},
		// A worker restarted with the same id after a crash claims again.
		{"claimed again before resolved, given back", []string{"a:claimed", "a:claimed", "a:unclaimed"}, "a:in-doubt:claimed-no-outcome"},
		{"claimed again before resolved, then failed", []string{"a:claimed", "a:claimed", "a:failed"}, "a:failed a:in-doubt:claimed-no-outcome"},
		// The ledger recorded another outcome than the line says: the line
		// that amends it is passed on after it.
		{"a temporary failure amended", []string{"a:claimed", "a:temp", "a:failed!"}, "a:temp a:failed!"},
		// ... and resolves no claim: one made since stays in doubt.
		{"an amending line after a claim made again", []string{"a:claimed", "a:temp", "a:claimed", "a:temp!"}, "a:temp a:temp! a:in-doubt:claimed-no-outcome"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			w := openAlways(t, dir)
			for _, l := range tt.lines {
				id, outcome, _ := strings.Cut(l, ":")
				e := entry("c", "r", id, strings.TrimSuffix(outcome, "!"))
				e.Amends = strings.HasSuffix(outcome, "!")
				if err := w.Append(e); err != nil {
					t.Fatal(err)
				}
			}
			_ = w.Close()
			var got []string
			if err := journal.Read(dir, "c", func(e journal.Entry) error {
				s := e.ID + ":" + e.Outcome
				if e.Code != "" {
					s += ":" + e.Code
				}
				if e.Amends {
					s += "!"
				}
				got = append(got, s)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("read %q, want %q", s, tt.want)
			}
			// A run whose only trace is a claim holds a delivery for
			// UnknownRuns, as its in-doubt outcome says.
			unknown, err := journal.UnknownRuns(dir, "c", nil)
			if err != nil {
				t.Fatal(err)
			}
			if held := strings.Contains(tt.want, "sent") || strings.Contains(tt.want, "in-doubt"); held != (len(unknown) == 1) {
				t.Errorf("UnknownRuns = %v; want the run unknown: %v", unknown, held)
			}
		})
	}
}

// TestAppendWindow: Append writes several entries of one run in one call,
// and refuses entries of two runs.
func TestAppendWindow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := openAlways(t, dir)
	defer w.Close()
	if err := w.Append(entry("c", "r", "a", "sent"), entry("c", "r", "b", "sent")); err != nil {
		t.Fatal(err)
	}
	if n, _ := w.Count("c", "r", "sent"); n != 2 {
		t.Errorf("count %d, want 2", n)
	}
	if err := w.Append(entry("c", "r", "x", "sent"), entry("c", "r2", "y", "sent")); err == nil {
		t.Error("an append of two runs went through")
	}
}

// TestCutOutcomeKeepsTheClaim: a worker killed while writing an outcome
// line leaves a fragment that resolves the recipient's claim; what the
// fragment lacks of the recipient (cut after the id: address, lang, time)
// is read from the claim line, so that a recovery excludes the mailbox too
// and the operator can look the in-doubt recipient up in the SMTP log. A
// line's own fields win over the claim's.
func TestCutOutcomeKeepsTheClaim(t *testing.T) {
	t.Parallel()
	claimAt := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		cut  string // the outcome line is cut before this; "" keeps it whole
		frag string // or replaced by this fragment
		want journal.Entry
	}{
		{"cut after the id", `,"email":`, "", journal.Entry{ID: "b", Email: "b@x.example", Lang: "de", Outcome: "in-doubt", At: claimAt.Add(time.Second)}},
		{"cut after the campaign", `,"run":`, "", journal.Entry{ID: "", Outcome: ""}}, // names no recipient: the claim stays in doubt
		{"cut in the time", `:00:01Z"`, "", journal.Entry{ID: "", Outcome: ""}},
		{"a bad time, cut after the id", "", `{"at":"10 o'clock","campaign":"c","run":"r","id":"b"`, journal.Entry{ID: "b", Email: "b@x.example", Lang: "de", Outcome: "in-doubt", At: claimAt}},
		{"whole, its own address", "", "", journal.Entry{ID: "b", Email: "new@x.example", Lang: "fr", Outcome: "sent", At: claimAt.Add(time.Second)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			w := openAlways(t, dir)
			claim := journal.Entry{At: claimAt, Campaign: "c", Run: "r", ID: "b", Email: "b@x.example", Lang: "de", Outcome: journal.OutcomeClaimed, Attempt: 1, Stage: "s1"}
			out := journal.Entry{At: claimAt.Add(time.Second), Campaign: "c", Run: "r", ID: "b", Email: "new@x.example", Lang: "fr", Outcome: "sent"}
			if err := w.Append(claim); err != nil {
				t.Fatal(err)
			}
			if err := w.Append(out); err != nil {
				t.Fatal(err)
			}
			_ = w.Close()
			p := filepath.Join(dir, "c", "r.w.jsonl")
			if tt.cut != "" || tt.frag != "" {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if tt.cut != "" {
					b = b[:bytes.LastIndex(b, []byte(tt.cut))]
				} else {
					b = append(b[:bytes.IndexByte(b, '\n')+1], tt.frag...) // the claim line, then the fragment
				}
				if err := os.WriteFile(p, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var got []journal.Entry
			err := journal.Read(dir, "c", func(e journal.Entry) error { got = append(got, e); return nil })
			if cut := tt.cut != "" || tt.frag != ""; cut != errors.Is(err, journal.ErrTruncated) {
				t.Fatalf("read: %v", err)
			}
			if len(got) != 1 {
				t.Fatalf("read %+v, want one entry", got)
			}
			want := tt.want
			if want.ID == "" { // the claim, unresolved
				want = claim
				want.Outcome, want.Code = journal.OutcomeInDoubt, journal.ClaimedCode
			} else {
				want.Campaign, want.Run = "c", "r"
				if tt.cut != "" || tt.frag != "" {
					want.Worker = "w" // from the file's name
				}
			}
			if !reflect.DeepEqual(got[0], want) {
				t.Errorf("read %+v\nwant %+v", got[0], want)
			}
		})
	}
}

// TestCutAmendingLine: a worker killed while writing a line that amends an
// outcome (Entry.Amends) leaves a fragment: cut before its outcome, it says
// nothing (the line it amends stands; never in doubt: it was no attempt);
// with its outcome whole, it amends.
func TestCutAmendingLine(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		cut  string // the amending line is cut before this
		want string // what Read passes on
	}{
		{"cut after the id", `,"email":`, "a:temp"},
		{"cut after the outcome", `,"worker":`, "a:temp a:failed!"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			w := openAlways(t, dir)
			amend := entry("c", "r", "a", "failed")
			amend.Amends, amend.Worker = true, "w"
			for _, e := range []journal.Entry{entry("c", "r", "a", journal.OutcomeClaimed), entry("c", "r", "a", "temp"), amend} {
				if err := w.Append(e); err != nil {
					t.Fatal(err)
				}
			}
			_ = w.Close()
			cutBefore(t, filepath.Join(dir, "c", "r.w.jsonl"), tt.cut)
			var got []string
			err := journal.Read(dir, "c", func(e journal.Entry) error {
				s := e.ID + ":" + e.Outcome
				if e.Amends {
					s += "!"
				}
				got = append(got, s)
				return nil
			})
			if !errors.Is(err, journal.ErrTruncated) {
				t.Fatalf("read: %v, want the file truncated", err)
			}
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("read %q, want %q", s, tt.want)
			}
		})
	}
}

// cutBefore cuts the file at path before the last place it holds s, as a
// worker killed while writing leaves it.
func cutBefore(t *testing.T, path, s string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:bytes.LastIndex(b, []byte(s))], 0o600); err != nil {
		t.Fatal(err)
	}
}
