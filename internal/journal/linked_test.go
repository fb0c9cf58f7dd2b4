package journal_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
)

// TestFilesRefusesJournalFilesBehindALink: another host's journal
// directory linked into this one (ln -s /mnt/hostB/journal/c1
// journal/c1/hostB, or journal/hostB, or journal/c1-hostB) holds
// deliveries of the campaign that no reader looks at, as a directory
// copied there does; but the walks that refuse such a directory (nested,
// siblings) did not follow links, so Read read this host's file alone
// and a recovery would mail the other host's recipients again. Files
// refuses them, naming the file behind the link. A link that loops back
// (to the directory itself) ends, and one up to the journal directory is
// refused too (the campaign's own files seen again below it).
func TestFilesRefusesJournalFilesBehindALink(t *testing.T) {
	t.Parallel()
	const c = "c1"
	line := `{"campaign":"c1","run":"r1","worker":"w2","id":"b","email":"b@x.example","outcome":"sent"}` + "\n"
	for _, tc := range []struct {
		link string // where the link to hostB's directory is, in the journal directory
		want string // what the refusal says
	}{
		{"c1/hostB", "holds a journal file in a subdirectory"},
		{"hostB", "holds journal files of campaign c1 in"},
		{"c1-hostB", "holds journal files of campaign c1 in"},
	} {
		t.Run(tc.link, func(t *testing.T) {
			t.Parallel()
			root := filepath.Join(t.TempDir(), "journal")
			mkdir(t, filepath.Join(root, c), 0o755)
			if err := os.WriteFile(filepath.Join(root, c, "r1.w1.jsonl"), []byte(strings.ReplaceAll(line, `"b`, `"a`)), 0o644); err != nil {
				t.Fatal(err)
			}
			hostB := filepath.Join(t.TempDir(), "hostB", c)
			mkdir(t, hostB, 0o755)
			if err := os.WriteFile(filepath.Join(hostB, "r1.w2.jsonl"), []byte(line), 0o644); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(root, tc.link)
			if err := os.Symlink(hostB, link); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{root, filepath.Join(root, c)} {
				_, err := journal.Files(p, c)
				if err == nil {
					t.Errorf("Files(%s): no error; the deliveries of %s, linked in as %s, would be mailed again", p, hostB, link)
					continue
				}
				for _, want := range []string{tc.want, link} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("Files(%s): %v\nwant it to say %q", p, err, want)
					}
				}
			}
		})
	}
	t.Run("loops", func(t *testing.T) {
		t.Parallel()
		root := filepath.Join(t.TempDir(), "journal")
		mkdir(t, filepath.Join(root, c), 0o755)
		if err := os.WriteFile(filepath.Join(root, c, "r1.w1.jsonl"), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(".", filepath.Join(root, c, "self")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(root, filepath.Join(root, "again")); err != nil {
			t.Fatal(err)
		}
		if _, err := journal.Files(root, c); err != nil {
			t.Errorf("Files(%s) with links back to directories it reads: %v, want the campaign's file alone", root, err)
		}
		if err := os.Symlink("..", filepath.Join(root, c, "up")); err != nil {
			t.Fatal(err)
		}
		if _, err := journal.Files(root, c); err == nil || !strings.Contains(err.Error(), filepath.Join(root, c, "up")) {
			t.Errorf("Files(%s) with %s/up -> ..: %v, want it refused, naming the link", root, c, err)
		}
	})
}
