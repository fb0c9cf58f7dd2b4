package rehearsal

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
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
		{"marked", []string{"mail/" + Mark, "mail/de/a.eml", "mail/notes.txt"}, false},
		{"an older rehearsal's", []string{"summary.txt", "mail/de/a.eml", "mail/en/b.eml"}, false},
		{"mail of its own", []string{"mail/inbox/1.eml"}, true},
		{"beside a summary, a file not .eml", []string{"summary.txt", "mail/de/a.eml", "mail/de/draft.txt"}, true},
		{"beside a summary, a file at the top", []string{"summary.txt", "mail/todo.txt"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := tree(t, tt.files)
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
			if len(entries) != 1 || entries[0].Name() != Mark {
				t.Errorf("mail/ holds %v after clearing, want only the mark %s", entries, Mark)
			}
		})
	}
}

// tree creates files (a trailing / makes a directory) in a new directory
// and returns it.
func tree(t *testing.T, files []string) string {
	t.Helper()
	out := t.TempDir()
	for _, f := range files {
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
	return out
}

// TestClaimOut: a rehearsal writes into an output directory that is new,
// empty but for what the caller keeps there (the demo's campaign/),
// marked, or an older rehearsal's (only what a rehearsal writes, with a
// marked mail/), and marks it; any other is a *ForeignDirError naming the
// files, and is left as it was.
func TestClaimOut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   []string
		keep    []string
		foreign []string // the files named, nil: written
	}{
		{"empty", nil, nil, nil},
		{"the demo's campaign", []string{"campaign/campaign.yaml"}, []string{"campaign"}, nil},
		{"marked, with notes beside", []string{Mark, "report.csv", "notes.txt"}, nil, nil},
		{"an older rehearsal's", []string{"mail/" + Mark, "report.csv", "summary.txt", "preview/index.html"}, nil, nil},
		{"a report of its own", []string{"report.csv"}, nil, []string{"report.csv"}},
		{"an older rehearsal's and notes", []string{"mail/" + Mark, "notes.txt"}, nil, []string{"mail", "notes.txt"}},
		{"a campaign not kept", []string{"campaign/campaign.yaml"}, nil, []string{"campaign"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := tree(t, tt.files)
			err := claimOut(out, tt.keep)
			var fe *ForeignDirError
			if tt.foreign != nil {
				if !errors.As(err, &fe) || fe.Dir != out || !slices.Equal(fe.Files, tt.foreign) {
					t.Fatalf("claimOut = %v, want a *ForeignDirError naming %v", err, tt.foreign)
				}
				if _, err := os.Stat(filepath.Join(out, Mark)); err == nil {
					t.Errorf("the refused directory was marked")
				}
				return
			}
			if err != nil {
				t.Fatalf("claimOut = %v", err)
			}
			if _, err := os.Stat(filepath.Join(out, Mark)); err != nil {
				t.Errorf("not marked: %v", err)
			}
		})
	}
}
