package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPreviewOutIsADirectory: preview --out names the directory the
// gallery is written to; a path that cannot be one is refused, exit 2,
// saying what the path is and what to do, before anything is rendered. It
// said "mkdir recipients.csv: not a directory" for a file, and "open
// /proc/ar.html: no such file or directory" for /proc, which exists.
func TestPreviewOutIsADirectory(t *testing.T) {
	t.Parallel()
	file := writeCampaign(t, campaignFile{rows: []string{"ada@example.org,Ada,en,1"}})
	rcp := filepath.Join(filepath.Dir(file), "recipients.csv")
	tests := []struct{ name, out, want string }{
		{"a file", rcp, rcp + ": is a file, not a directory: give the path of a directory (one that does not exist is created)"},
		{"/proc", "/proc", "/proc: is on the kernel's proc file system, which holds no file a command can write"},
		{"/proc/version", "/proc/version", "/proc/version: is on the kernel's proc file system"},
	}
	if _, err := os.Stat("/proc/self"); err != nil {
		tests = tests[:1] // no /proc here
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := cli(t, nil, "preview", file, "--out", tt.out)
			if r.code != 2 || !strings.Contains(r.stderr, "preview output "+tt.want) {
				t.Errorf("preview --out %s: want exit 2 and %q\n%s", tt.out, tt.want, r)
			}
		})
	}
	if b, err := os.ReadFile(rcp); err != nil || !strings.HasPrefix(string(b), "email,") {
		t.Errorf("the recipients file given to --out: %q, %v; want it as it was", b, err)
	}
}

// TestPreviewNamesWhatAnOlderGalleryLeft: preview into the directory of a
// gallery written before tidings listed its files (no .tidings-gallery)
// removes the files its index links and warns, on standard error, naming
// the files of a language's name it kept (it cannot tell whether tidings
// wrote them) and what to do; a directory of its own gallery gets no
// warning.
func TestPreviewNamesWhatAnOlderGalleryLeft(t *testing.T) {
	t.Parallel()
	file := writeCampaign(t, campaignFile{rows: []string{"ada@example.org,Ada,en,1"}})
	out := filepath.Join(t.TempDir(), "gallery")
	if r := cli(t, nil, "preview", file, "--out", out); r.code != 0 || strings.Contains(r.stderr, "warning") {
		t.Fatalf("first preview: want exit 0, no warning\n%s", r)
	}
	if r := cli(t, nil, "preview", file, "--out", out); r.code != 0 || strings.Contains(r.stderr, "warning") {
		t.Fatalf("preview again over its own gallery: want exit 0, no warning\n%s", r)
	}
	if err := os.Remove(filepath.Join(out, ".tidings-gallery")); err != nil { // as an older version left it
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "rm.html"), []byte("a gallery before it"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := cli(t, nil, "preview", file, "--out", out)
	want := "tidings: warning: " + out + " held a gallery written before tidings listed its files (.tidings-gallery): the files its index.html linked were removed; 1 file named like a language's was kept, since tidings cannot tell whether it wrote it: " + filepath.Join(out, "rm.html") + ": remove it if it is an earlier gallery's, before QA opens the directory"
	if r.code != 0 || !strings.Contains(r.stderr, want) {
		t.Errorf("preview over an older gallery: want exit 0 and %q\n%s", want, r)
	}
}
