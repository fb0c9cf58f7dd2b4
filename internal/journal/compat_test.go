package journal_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/journal"
)

// compatWindows are windows of lines as a worker appends them (claims,
// then outcomes, then an amend), with the strings a line can hold: plain
// ASCII, non-ASCII, invalid UTF-8, characters json.Marshal escapes (for
// HTML too), strings repeated across a window's lines and strings that
// change from line to line, omitted fields.
func compatWindows() [][]journal.Entry {
	at := time.Date(2026, 12, 5, 23, 59, 59, 358835125, time.UTC)
	const c, run, stage, w = "bench01", "tpkwfl-2e8a217923077595ab78ca37", "tpkwfl-2e8362eb577d8d318c1ccdd2", "vm-1-4242"
	e := func(ns int, id, email, lang, outcome, code string, attempt int, st string) journal.Entry {
		return journal.Entry{At: at.Add(time.Duration(ns)), Campaign: c, Run: run, ID: id, Email: email, Lang: lang,
			Outcome: outcome, Code: code, Attempt: attempt, Stage: st, Worker: w}
	}
	ids := []string{"u1", "u2", "r100003", "u<4>", "ü5", "u6\xff"}
	emails := []string{"user1@bench.example", "jürg.müller@bücher.example", "山田@例え.jp", "a\"b\\c&d@x.example", "ليلى@مثال.example", "\u2028@x.example"}
	langs := []string{"en", "de", "ja", "ja", "ar", ""}
	var claims, outs []journal.Entry
	for i, id := range ids {
		claims = append(claims, e(i*1000, id, emails[i], langs[i], journal.OutcomeClaimed, journal.ClaimedCode, i%3+1, stage))
	}
	codes := []string{"250", "250", "451 4.3.0", "550 5.1.1", "250", ""}
	outcomes := []string{"sent", "sent", "temp", "failed", "sent", "invalid"}
	for i, id := range ids {
		outs = append(outs, e(1_000_000+i*1731, id, emails[i], langs[i], outcomes[i], codes[i], 0, ""))
	}
	amend := e(2_000_000_000, "r100003", emails[2], "ja", "failed", "451 4.3.0", 0, "")
	amend.Amends = true
	late := e(3_000_000_000, "u1", "user1@bench.example", "en", journal.OutcomeUnclaimed, "", 0, "")
	late.At = time.Date(2026, 12, 6, 0, 0, 1, 0, time.FixedZone("", 3600)) // another second and zone, no fraction
	return [][]journal.Entry{claims, outs, {amend}, {late}}
}

// TestFileAsWrittenByMain: the journal file the Writer writes of
// compatWindows is byte for byte the one written by main's code at
// 67f6451 (testdata/written-67f6451.jsonl, made with go test -update
// there), so that the previous release's readers (report --journal)
// read what this one writes; and Read reads that file back.
func TestFileAsWrittenByMain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := journal.Open(journal.Config{Dir: dir, Worker: "vm-1-4242"})
	if err != nil {
		t.Fatal(err)
	}
	var all []journal.Entry
	for _, es := range compatWindows() {
		if err := w.Append(es...); err != nil {
			t.Fatal(err)
		}
		all = append(all, es...)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	name := journal.FileName(dir, all[0].Campaign, all[0].Run, "vm-1-4242")
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "written-67f6451.jsonl")
	golden.Check(t, path, string(got))

	var read []journal.Entry
	if err := journal.Read(path, all[0].Campaign, func(e journal.Entry) error { read = append(read, e); return nil }); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if len(read) == 0 || !strings.Contains(string(got), `"email":"\u2028@x.example"`) {
		t.Errorf("read %d entries of %s; want them all, with U+2028 escaped", len(read), path)
	}
}
