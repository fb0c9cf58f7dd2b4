package cli

import (
	"os"
	"strings"
	"testing"
)

// TestOutToAKernelFileSaysWhatItIs: --out or --rejects naming a file of the
// kernel (/proc, /sys) is refused, exit 2, with what the path is and what
// to do. It was told to move "that file" away (the first line of
// /proc/version "is not a report"), or that the directory /proc/1 or /proc
// does not exist.
func TestOutToAKernelFileSaysWhatItIs(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc here:", err)
	}
	file := writeCampaign(t, campaignFile{rows: []string{"ada@example.org,Ada,en,1", "bob@example.org,Bob,xx,1"}})
	for _, tt := range []struct{ name, flag, path, fs string }{
		{"report, /proc/version", "--out", "/proc/version", "proc"},
		{"report, /proc/self/status", "--out", "/proc/self/status", "proc"},
		{"report, a new file in /proc", "--out", "/proc/tidings-report.csv", "proc"},
		{"report, a file in /sys", "--out", "/sys/kernel/uevent_seqnum", "sysfs"},
		{"rejects, /proc/version", "--rejects", "/proc/version", "proc"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"report", "c1", "--journal", t.TempDir(), tt.flag, tt.path}
			if tt.flag == "--rejects" {
				args = []string{"plan", file, tt.flag, tt.path}
			}
			r := cli(t, nil, args...)
			want := tt.flag + " " + tt.path + ": is on the kernel's " + tt.fs + " file system, which holds no file a command can write: give a path on a disk, in a directory you can write to"
			if r.code != 2 || !strings.Contains(r.stderr, want) {
				t.Errorf("%s %s: want exit 2 and %q\n%s", tt.flag, tt.path, want, r)
			}
		})
	}
}
