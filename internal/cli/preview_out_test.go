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
