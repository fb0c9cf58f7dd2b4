package rehearsal

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestClearMail: a rehearsal clears only a mail directory it wrote (marked,
// or an older rehearsal's <lang>/*.eml beside summary.txt), and marks the
// one it writes; any other is a *ForeignDirError and loses nothing.
func TestClearMail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   []string // under out/, created before
		foreign bool
	}{
		{"does not exist", nil, false},
		{"empty", []string{"mail/"}, false},
		{"marked", []string{"mail/" + MailMark, "mail/de/a.eml", "mail/notes.txt"}, false},
		{"an older rehearsal's", []string{"summary.txt", "mail/de/a.eml", "mail/en/b.eml"}, false},
		{"mail of its own", []string{"mail/inbox/1.eml"}, true},
		{"beside a summary, a file not .eml", []string{"summary.txt", "mail/de/a.eml", "mail/de/draft.txt"}, true},
		{"beside a summary, a file at the top", []string{"summary.txt", "mail/todo.txt"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			for _, f := range tt.files {
				p := filepath.Join(out, f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if f[len(f)-1] != '/' {
					if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			dir := filepath.Join(out, "mail")
			err := clearMail(dir, filepath.Join(out, "summary.txt"))
			if fe := (*ForeignDirError)(nil); errors.As(err, &fe) != tt.foreign || (!tt.foreign && err != nil) {
				t.Fatalf("clearMail = %v, want a *ForeignDirError: %v", err, tt.foreign)
			}
			entries, _ := os.ReadDir(dir)
			if tt.foreign {
				for _, f := range tt.files {
					if _, err := os.Stat(filepath.Join(out, f)); err != nil {
						t.Errorf("%s was removed: %v", f, err)
					}
				}
				return
			}
			if len(entries) != 1 || entries[0].Name() != MailMark {
				t.Errorf("mail/ holds %v after clearing, want only the mark %s", entries, MailMark)
			}
		})
	}
}
