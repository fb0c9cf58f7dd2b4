package launch_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/journal/journaltest"
	"github.com/tidings-mail/tidings/internal/launch"
)

// TestExcludeCountsAJournalFileGivenTwiceOnce: the same journal directory
// given twice to --exclude-delivered (or the directory and a file in it, or
// a path and a symbolic link to it) counted its files and records twice in
// what the send says it excluded ("according to 2 file(s)" for one):
// red team fx34d. Each file is read once, by device and inode, and the
// summary says which paths named a file already read.
func TestExcludeCountsAJournalFileGivenTwiceOnce(t *testing.T) {
	t.Parallel()
	jdir := t.TempDir()
	file := journaltest.Write(t, jdir, "w1",
		journal.Entry{Campaign: "rt34", Run: "r1", ID: "ada", Email: "ada@x.example", Outcome: "sent"},
		journal.Entry{Campaign: "rt34", Run: "r1", ID: "bob", Email: "bob@x.example", Outcome: "failed"})
	link := filepath.Join(t.TempDir(), "linked-journal")
	if err := os.Symlink(jdir, link); err != nil {
		t.Fatal(err)
	}
	once, err := launch.LoadDelivered("rt34", []string{jdir})
	if err != nil {
		t.Fatal(err)
	}
	for name, paths := range map[string][]string{
		"the directory twice":         {jdir, jdir},
		"the directory and its file":  {jdir, file},
		"the directory and a link":    {jdir, link},
		"the campaign's dir and root": {filepath.Join(jdir, "rt34"), jdir},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d, err := launch.LoadDelivered("rt34", paths)
			if err != nil {
				t.Fatalf("LoadDelivered(%v): %v", paths, err)
			}
			if len(d.Sources) != 1 || d.Records != once.Records || d.Len() != 1 || len(d.Journals) != 1 {
				t.Errorf("LoadDelivered(%v): %d source(s) %v, %d records, %d excluded, journals %v; want 1 source, %d records, 1 excluded, 1 journal",
					paths, len(d.Sources), d.Sources, d.Records, d.Len(), d.Journals, once.Records)
			}
			var out bytes.Buffer
			d.WriteSummary(&out)
			for _, w := range []string{"according to 1 file(s)", "counted once", file} {
				if !strings.Contains(out.String(), w) {
					t.Errorf("summary:\n%s\nwant it to say %q", out.String(), w)
				}
			}
		})
	}
}
