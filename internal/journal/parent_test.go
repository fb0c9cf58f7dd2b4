package journal_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/journal"
)

// TestFilesChecksTheParentOfTheCampaignsDirectory: the campaign's own
// directory given instead of the journal directory (send
// --exclude-delivered <journal dir>/<campaign>, report --journal the
// same) is read as the campaign's, and what lies beside it in the journal
// directory is checked as when the journal directory is given: another
// host's files copied in beside it (<campaign>-hostB/, or its whole
// journal directory as hostB/) or a journal file in the journal directory
// itself are refused, naming them, since nothing reads there. A trailing
// slash on either path changes nothing. The worker, which reads
// <journal dir>/<campaign>/ only (CampaignFiles), is not stopped by them.
func TestFilesChecksTheParentOfTheCampaignsDirectory(t *testing.T) {
	t.Parallel()
	const c = "rt17"
	line := func(worker string) string {
		return `{"campaign":"` + c + `","run":"r1","worker":"` + worker + `","id":"` + worker + `","email":"` + worker + `@x.example","outcome":"sent"}` + "\n"
	}
	tests := []struct {
		name  string
		extra string // host B's file of the campaign, under the journal directory ("" for none)
	}{
		{"nothing beside it", ""},
		{"another host's directory beside it", filepath.Join(c+"-hostB", "r1.hostB.jsonl")},
		{"another host's whole journal directory", filepath.Join("hostB", c, "r1.hostB.jsonl")},
		{"a journal file in the journal directory itself", "r1.hostB.jsonl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			fixture.Write(t, filepath.Join(root, c, "r1.hostA.jsonl"), line("hostA"))
			fixture.Write(t, filepath.Join(root, c+"-two", "r1.hostC.jsonl"), strings.ReplaceAll(line("hostC"), c, c+"-two")) // another campaign, named alike
			if tt.extra != "" {
				fixture.Write(t, filepath.Join(root, tt.extra), line("hostB"))
			}
			want := filepath.Dir(filepath.Join(root, tt.extra)) // the directory refused, or the file
			if filepath.Dir(tt.extra) == "." {
				want = tt.extra
			}
			for _, path := range []string{root, root + string(os.PathSeparator), filepath.Join(root, c), filepath.Join(root, c) + string(os.PathSeparator)} {
				files, err := journal.Files(path, c)
				switch {
				case tt.extra == "" && (err != nil || len(files) != 1 || files[0].Path != filepath.Join(root, c, "r1.hostA.jsonl")):
					t.Errorf("Files(%s) = %v, %v; want %s/r1.hostA.jsonl alone", path, files, err, c)
				case tt.extra != "" && (err == nil || !strings.Contains(err.Error(), want)):
					t.Errorf("Files(%s) = %v, %v; want host B's file (%s) refused, naming %s", path, files, err, tt.extra, want)
				}
			}
			// The worker's own reading goes on.
			if own, err := journal.CampaignFiles(root, c); err != nil || len(own) != 1 {
				t.Errorf("CampaignFiles = %v, %v; want its one file", own, err)
			}
		})
	}
}
