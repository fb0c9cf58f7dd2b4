package launch_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/journal/journaltest"
	"github.com/tidings-mail/tidings/internal/launch"
)

// TestExcludeRefusesJournalFilesBesideTheCampaignsDirectory: after
// Redis lost campaign rt10, `send` prints the recovery: "1. stop its
// workers and copy the journal files of every other worker host ... into
// <journal dir>/rt10/; 2. tidings send ... --exclude-delivered <journal
// dir>". The operator copies host 2's journal file into <journal dir>
// itself (the directory the command names), beside rt10/, which holds
// this host's file.
//
// The README: --exclude-delivered PATH (a journal directory or file) "skips
// everyone recorded there as sent or in doubt"; "a subdirectory holding
// journal files is refused, naming it, since nothing reads there" (the
// mirror mistake is refused so that no delivery is missed without a word).
//
// Found by red team 10: the file beside rt10/ was passed over without a
// word: bob, delivered by host 2, was not excluded and would have been
// mailed again; nothing said that a journal file of the campaign was not
// read. journal.Files read <path>/<campaign>/ when it existed and ignored
// *.jsonl files in path itself (nested only looked below the campaign's
// directory). Now such a file is refused, naming it.
//
// The worker, which reads only <journal dir>/<campaign>/
// (journal.CampaignFiles), is not stopped by it: see
// TestStrayJournalFileRefusedByReadersNotByTheWorker (internal/journal).
func TestExcludeRefusesJournalFilesBesideTheCampaignsDirectory(t *testing.T) {
	t.Parallel()
	jdir := t.TempDir()
	journaltest.Write(t, jdir, "host1", journal.Entry{Campaign: "rt10", Run: "r1", ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"})
	host2 := journaltest.Write(t, jdir, "host2", journal.Entry{Campaign: "rt10", Run: "r1", ID: "bob@x.example", Email: "bob@x.example", Outcome: "sent"})
	// Copied into the journal directory itself, beside rt10/.
	if err := os.Rename(host2, filepath.Join(jdir, filepath.Base(host2))); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDelivered("rt10", []string{jdir})
	if err != nil {
		t.Logf("refused (fine, if it names the file): %v", err)
		if !strings.Contains(err.Error(), filepath.Base(host2)) {
			t.Errorf("the refusal does not name %s", filepath.Base(host2))
		}
		return
	}
	if _, ok := d.Match("bob@x.example", "bob@x.example"); !ok {
		t.Errorf("bob, delivered according to %s in the directory given, is not excluded (read: %v): he would be mailed again",
			filepath.Join(jdir, filepath.Base(host2)), d.Sources)
	}
}

// TestExcludeRefusesANestedDirectoryOfACollectedJournal: the
// operator collects the campaign's journals in a directory of their own
// choosing, /tmp/collected (this host's files at its top), and copies
// host 2's campaign directory into it with cp -r (collected/rt10/ would be
// read instead; here it is collected/host2/, holding host 2's file), then
// gives `--exclude-delivered /tmp/collected`.
//
// The README: "copy the other hosts' journal files into the campaign's
// directory itself: a subdirectory holding journal files is refused,
// naming it, since nothing reads there".
//
// Found by red team 10: the subdirectory was passed over without a word
// (only a directory named after the campaign, or one holding <campaign>/,
// was checked for nesting): bob, delivered by host 2, was not excluded and
// would have been mailed again. Now journal.Files checks every directory
// it reads journal files from.
func TestExcludeRefusesANestedDirectoryOfACollectedJournal(t *testing.T) {
	t.Parallel()
	jdir := t.TempDir()
	host1 := journaltest.Write(t, jdir, "host1", journal.Entry{Campaign: "rt10", Run: "r1", ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"})
	host2 := journaltest.Write(t, jdir, "host2", journal.Entry{Campaign: "rt10", Run: "r1", ID: "bob@x.example", Email: "bob@x.example", Outcome: "sent"})
	collected := filepath.Join(t.TempDir(), "collected")
	if err := os.MkdirAll(filepath.Join(collected, "host2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(host1, filepath.Join(collected, filepath.Base(host1))); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(host2, filepath.Join(collected, "host2", filepath.Base(host2))); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDelivered("rt10", []string{collected})
	if err != nil {
		if !strings.Contains(err.Error(), "host2") {
			t.Errorf("refused without naming the subdirectory: %v", err)
		}
		return
	}
	if _, ok := d.Match("bob@x.example", "bob@x.example"); !ok {
		t.Errorf("bob, delivered according to %s under the directory given, is not excluded and nothing was refused (read: %v): he would be mailed again",
			filepath.Join(collected, "host2", filepath.Base(host2)), d.Sources)
	}
}
