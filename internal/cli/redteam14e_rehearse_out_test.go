package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
)

// TestRedteam14ERehearseLosesNothingInItsOutputDirectory: `tidings rehearse
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
// Guessed cause: internal/rehearsal/rehearsal.go:180 calls
// os.RemoveAll(r.MailDir) (Config.Out + "/mail") unconditionally, without
// the check demo.Prepare makes that the directory holds an earlier
// rehearsal.
func TestRedteam14ERehearseLosesNothingInItsOutputDirectory(t *testing.T) {
	t.Parallel()
	file := writeCampaign(t, campaignFile{name: "rt14e-out", rows: []string{"ada@example.org,Ada,en,1"}})
	out := t.TempDir() // e.g. the operator's home directory
	keep := filepath.Join(out, "mail", "inbox", "1.eml")
	fixture.Write(t, keep, "From: a friend\r\n\r\nnot a rehearsal's\r\n")

	r := cli(t, nil, "rehearse", file, "--out", out)
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("rehearse --out %s removed %s, a file it did not write (exit %d): %v\n%s", out, keep, r.code, err, r)
	}
}
