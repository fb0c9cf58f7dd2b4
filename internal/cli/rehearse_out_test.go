package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
)

// TestRehearseLosesNothingInItsOutputDirectory: `tidings rehearse
// CAMPAIGN --out DIR` given a directory that already holds files of the
// operator's own must not delete them.
//
// The promise: `rehearse` help: "It writes, under --out: mail/<lang>/*.eml
// (every captured message ...), preview/index.html ..., report.csv and
// report.json ... and summary.txt" (writes, nothing about removing); the
// same command family's standard, `tidings demo` (internal/demo.Prepare):
// "Only a directory that does not exist, is empty, or holds an earlier demo
// ... is cleared; anything else is a *ForeignDirError, so that pointing a
// demo at any other directory loses nothing", and its error says "(nothing
// was removed)".
//
// What happens: with --out pointing at a directory that has a mail/ folder
// of its own (a home directory's ~/mail, pine's and many MUAs' folder
// directory; or a campaign directory whose templates live in mail/), the
// rehearsal deletes that folder recursively, with everything in it, before
// it writes the captured messages; nothing asks or warns.
//
// The cause was: internal/rehearsal/rehearsal.go called
// os.RemoveAll(r.MailDir) (Config.Out + "/mail") unconditionally, without
// the check demo.Prepare makes that the directory holds an earlier
// rehearsal.
func TestRehearseLosesNothingInItsOutputDirectory(t *testing.T) {
	t.Parallel()
	file := writeCampaign(t, campaignFile{name: "rt14e-out", rows: []string{"ada@example.org,Ada,en,1"}})
	out := t.TempDir() // e.g. the operator's home directory
	keep := filepath.Join(out, "mail", "inbox", "1.eml")
	fixture.Write(t, keep, "From: a friend\r\n\r\nnot a rehearsal's\r\n")

	r := cli(t, nil, "rehearse", file, "--out", out)
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("rehearse --out %s removed %s, a file it did not write (exit %d): %v\n%s", out, keep, r.code, err, r)
	}
	if r.code != 2 || !strings.Contains(r.stderr, "nothing was removed") {
		t.Errorf("rehearse into a directory whose mail/ it did not write: want exit 2 saying nothing was removed\n%s", r)
	}

	// An earlier rehearsal's messages are replaced, run after run.
	again := filepath.Join(t.TempDir(), "rehearsal")
	for i := range 2 {
		if r := cli(t, nil, "rehearse", file, "--out", again); r.code != 0 {
			t.Fatalf("rehearsal %d into %s: want exit 0\n%s", i+1, again, r)
		}
	}
}
