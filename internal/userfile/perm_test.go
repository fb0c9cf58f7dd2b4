package userfile_test

import (
	"io"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/report"
)

// TestFilesNamedByAPersonAreTheirOwnersAlone: a report (report --out) and
// a rejects file (--rejects) both list recipients' addresses, personal
// data, so a new one is readable by its owner alone (userfile.Perm, 0600,
// whatever the umask), and one written over keeps the permissions its
// owner gave it. They differed: a rejects file was 0644 under the usual
// umask, and a report written over a file made it 0600.
func TestFilesNamedByAPersonAreTheirOwnersAlone(t *testing.T) {
	t.Parallel()
	rejects := &plan.Summary{Campaign: "c1", Rejects: []plan.Reject{{Line: 3, Email: "x@example.com", Outcome: "invalid", Reason: "bad"}}}
	writers := []struct {
		name, old string // old: what a file it may write over holds
		write     func(path string) error
	}{
		{"report", "line,id,email,locale,lang,outcome\n", func(path string) error {
			return report.WriteFile(t.Context(), path, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err })
		}},
		{"rejects", "", func(path string) error { _, err := rejects.WriteRejectsFile(t.Context(), path); return err }},
	}
	for _, w := range writers {
		for _, tt := range []struct {
			name     string
			existing fs.FileMode // 0: no file yet
			want     fs.FileMode
		}{
			{"new", 0, 0o600},
			{"over a 0640 file", 0o640, 0o640},
			{"over a 0600 file", 0o600, 0o600},
		} {
			t.Run(w.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				path := filepath.Join(t.TempDir(), "out.csv")
				if tt.existing != 0 {
					fixture.Write(t, path, w.old)
					fixture.Chmod(t, path, tt.existing)
				}
				if err := w.write(path); err != nil {
					t.Fatal(err)
				}
				if got := fixture.Perm(t, path); got != tt.want {
					t.Errorf("%s %s: mode %v, want %v", w.name, tt.name, got, tt.want)
				}
			})
		}
	}
}
