package journal_test

import (
	"path/filepath"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
)

// TestUnknownRunsRefusesANestedDir: journal files copied one directory too
// deep (cp -r of another host's <campaign>/ directory into
// <journal dir>/<campaign>/) hold deliveries of a run no staging
// excluded, but UnknownRuns (the worker's fail-closed guard against an
// uncollected journal) globs one level only and reports no unknown run,
// so the worker sends those recipients again.
func TestUnknownRunsRefusesANestedDir(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	w, err := journal.Open(journal.Config{Dir: filepath.Join(root, "rt8", "host2"), Worker: "h2", Always: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(journal.Entry{Campaign: "rt8", Run: "old", ID: "b", Email: "b@x.example", Outcome: "sent"}); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	runs, err := journal.UnknownRuns(root, "rt8", []string{"new"})
	if err == nil && len(runs) == 0 {
		t.Fatalf("UnknownRuns(%s) = none: the delivery of b in run old, journaled in %s, is invisible", root, filepath.Join(root, "rt8", "host2", "rt8"))
	}
}

// TestFilesRefusesANestedCampaignDirGivenItself: the campaign's directory
// given as the path (report --journal <dir>/<campaign>) is refused the same
// way; a journal directory of every campaign, given whole for a campaign it
// holds nothing of, is not (its subdirectories are the other campaigns').
func TestFilesRefusesANestedCampaignDirGivenItself(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	w, err := journal.Open(journal.Config{Dir: filepath.Join(root, "rt8", "host2"), Worker: "h2", Always: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(journal.Entry{Campaign: "rt8", Run: "old", ID: "b", Email: "b@x.example", Outcome: "sent"}); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	if _, err := journal.Files(filepath.Join(root, "rt8"), "rt8"); err == nil {
		t.Errorf("Files(%s) of the campaign's own directory: no error, want the subdirectory refused", filepath.Join(root, "rt8"))
	}
	if files, err := journal.Files(root, "other"); err != nil || len(files) != 0 {
		t.Errorf("Files of a campaign the journal holds nothing of: %v, %v; want none, no error", files, err)
	}
}
