package journal_test

import (
	"os"
	"path/filepath"
	"strings"
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

// TestStrayJournalFileRefusedByReadersNotByTheWorker: a journal file
// copied into a journal directory itself, beside the campaign's directory,
// is refused, naming it, by a reader given that directory (send
// --exclude-delivered, report --journal: Files), whatever its campaign,
// since nothing reads there; the worker, whose journal directory it is,
// reads <dir>/<campaign>/ only (CampaignFiles, UnknownRuns) and goes on:
// a file misplaced there must not stop every campaign on the host. A
// .jsonl file not named as a journal file (<run>.<worker>.jsonl) is left
// alone.
func TestStrayJournalFileRefusedByReadersNotByTheWorker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, stray string
		refused     bool
	}{
		{"another host's file of the campaign", "r1.host2.jsonl", true},
		{"a file of a run of another campaign", "r9.host3.jsonl", true},
		{"a .jsonl file not named as a journal's", "notes.jsonl", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			w, err := journal.Open(journal.Config{Dir: root, Worker: "host1", Always: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Append(journal.Entry{Campaign: "rt10", Run: "r1", ID: "a", Email: "a@x.example", Outcome: "sent"}); err != nil {
				t.Fatal(err)
			}
			_ = w.Close()
			line := `{"campaign":"rt10","run":"r0","id":"b","email":"b@x.example","outcome":"sent"}` + "\n"
			if err := os.WriteFile(filepath.Join(root, tt.stray), []byte(line), 0o644); err != nil {
				t.Fatal(err)
			}
			files, err := journal.Files(root, "rt10")
			switch {
			case tt.refused && (err == nil || !strings.Contains(err.Error(), tt.stray) || !strings.Contains(err.Error(), filepath.Join(root, "rt10"))):
				t.Errorf("Files(%s) = %v, %v; want %s refused, naming %s to move it into", root, files, err, tt.stray, filepath.Join(root, "rt10"))
			case !tt.refused && (err != nil || len(files) != 1):
				t.Errorf("Files(%s) = %v, %v; want rt10/r1.host1.jsonl only", root, files, err)
			}
			// The worker's own reading: its file, and the run it knows.
			own, err := journal.CampaignFiles(root, "rt10")
			if err != nil || len(own) != 1 || own[0].Path != filepath.Join(root, "rt10", "r1.host1.jsonl") {
				t.Errorf("CampaignFiles = %v, %v; want rt10/r1.host1.jsonl", own, err)
			}
			if runs, err := journal.UnknownRuns(root, "rt10", []string{"r1"}); err != nil || len(runs) != 0 {
				t.Errorf("UnknownRuns = %v, %v; want none, no error", runs, err)
			}
		})
	}
}

// TestFilesRefusesASiblingDirOfTheCampaign: another host's journal copied
// beside the campaign's directory (<dir>/<campaign>-hostB/, or its whole
// journal directory as <dir>/hostB/) holds deliveries nobody reads there:
// a reader given the journal directory refuses it, naming the directory,
// whether or not the campaign has a directory of its own there. Other
// campaigns' directories (a campaign whose name starts with this one's
// too) are read for nothing and pass.
func TestFilesRefusesASiblingDirOfTheCampaign(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, dir string // where host B's file of rt11 lies, under the journal directory
		own       bool   // whether host A's rt11/ is there too
		refused   bool
	}{
		{"beside the campaign's directory", "rt11-hostB", true, true},
		{"a whole journal directory copied in", filepath.Join("hostB", "rt11"), true, true},
		{"with no directory of the campaign's own", "rt11-hostB", false, true},
		{"in the campaign's own directory", "rt11", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			write := func(dir, campaign, worker string) {
				w, err := journal.Open(journal.Config{Dir: dir, Worker: worker, Always: true})
				if err != nil {
					t.Fatal(err)
				}
				if err := w.Append(journal.Entry{Campaign: campaign, Run: "r1", ID: worker, Email: worker + "@x.example", Outcome: "sent"}); err != nil {
					t.Fatal(err)
				}
				_ = w.Close()
			}
			if tt.own {
				write(root, "rt11", "hostA")
			}
			write(root, "rt11-two", "hostC") // another campaign, named alike
			// Host B's file, copied in (its campaign directory renamed).
			src := t.TempDir()
			write(src, "rt11", "hostB")
			b, err := os.ReadFile(filepath.Join(src, "rt11", "r1.hostB.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(root, tt.dir), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, tt.dir, "r1.hostB.jsonl"), b, 0o644); err != nil {
				t.Fatal(err)
			}
			files, err := journal.Files(root, "rt11")
			switch {
			case tt.refused && (err == nil || !strings.Contains(err.Error(), filepath.Join(root, tt.dir))):
				t.Errorf("Files(%s) = %v, %v; want %s refused, naming it", root, files, err, tt.dir)
			case !tt.refused && (err != nil || len(files) != 2):
				t.Errorf("Files(%s) = %v, %v; want rt11's two files", root, files, err)
			}
			if files, err := journal.Files(root, "rt11-two"); err != nil || len(files) != 1 {
				t.Errorf("Files of the other campaign = %v, %v; want its one file, no error", files, err)
			}
		})
	}
}

// TestSiblingRefusalNeverMovesAFileOverAnother: a file beside the
// campaign's directory (in a directory of its own, or in the journal
// directory itself) named as one that directory holds (an older copy of a
// worker's journal kept in the journal directory, say) is refused like
// any other, but the refusal must not tell the operator to move it
// in keeping its name: mv would replace the campaign's file, whose later
// deliveries would be excluded from nobody and mailed again. It names the
// clash and says what to do instead; a file with no namesake there is
// told to move in as before.
func TestSiblingRefusalNeverMovesAFileOverAnother(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, dir, copyName string // the copy: dir under the journal directory, and name
		clash               bool
	}{
		{"a copy named as the campaign's file", filepath.Join("backup", "rt12"), "r1.hostA.jsonl", true},
		{"a file of its own name", filepath.Join("backup", "rt12"), "r1.hostB.jsonl", false},
		{"a copy in the journal directory itself", "", "r1.hostA.jsonl", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			w, err := journal.Open(journal.Config{Dir: root, Worker: "hostA", Always: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"a", "b"} {
				if err := w.Append(journal.Entry{Campaign: "rt12", Run: "r1", ID: id, Email: id + "@x.example", Outcome: "sent"}); err != nil {
					t.Fatal(err)
				}
				if id == "a" { // the backup, taken after the first line
					b, err := os.ReadFile(filepath.Join(root, "rt12", "r1.hostA.jsonl"))
					if err != nil {
						t.Fatal(err)
					}
					if err := os.MkdirAll(filepath.Join(root, tt.dir), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(root, tt.dir, tt.copyName), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			_ = w.Close()
			_, err = journal.Files(root, "rt12")
			if err == nil {
				t.Fatalf("Files(%s): no refusal of %s", root, filepath.Join(tt.dir, tt.copyName))
			}
			copied, own := filepath.Join(root, tt.dir, tt.copyName), filepath.Join(root, "rt12")
			named := strings.Contains(err.Error(), own+" holds a file named as "+copied+" already: never move one over the other")
			if named != tt.clash {
				t.Errorf("refusal %q: names the clash with %s: %v, want %v", err, copied, named, tt.clash)
			}
		})
	}
}
