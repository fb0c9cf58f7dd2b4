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

// TestRehearseRefusesAnOutputDirectoryOfOtherFiles: `tidings rehearse
// --out DIR` writes report.csv, report.json, summary.txt, preview/ and
// mail/ in DIR, replacing what is there; pointed at a directory that holds
// files no rehearsal wrote (the real campaign's report.csv an operator
// exported there, notes), it must refuse, naming the directory and what
// to do, and write nothing. A directory a rehearsal wrote carries its mark
// (.tidings-rehearsal) and is written again.
func TestRehearseRefusesAnOutputDirectoryOfOtherFiles(t *testing.T) {
	t.Parallel()
	file := writeCampaign(t, campaignFile{name: "out-mark", rows: []string{"ada@example.org,Ada,en,1"}})
	tests := []struct {
		name  string
		files []string // written in DIR before
	}{
		{"the real campaign's report", []string{"report.csv"}},
		{"notes of the operator's", []string{"notes.txt"}},
		{"a summary of its own beside a preview", []string{"summary.txt", "preview/index.html"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			for _, f := range tt.files {
				fixture.Write(t, filepath.Join(out, f), "the operator's own\n")
			}
			r := cli(t, nil, "rehearse", file, "--out", out)
			if r.code != exitUsage || !strings.Contains(r.stderr, out) || !strings.Contains(r.stderr, "choose a new or empty output directory") {
				t.Errorf("rehearse --out %s holding %v: want exit 2 naming the directory and what to do\n%s", out, tt.files, r)
			}
			top := map[string]bool{}
			for _, f := range tt.files {
				top[strings.Split(f, "/")[0]] = true
				if got := fixture.Read(t, filepath.Join(out, f)); got != "the operator's own\n" {
					t.Errorf("%s was overwritten: %.60q...", f, got)
				}
			}
			entries, _ := os.ReadDir(out)
			for _, e := range entries {
				if !top[e.Name()] {
					t.Errorf("the refused rehearsal wrote %s in %s", e.Name(), out)
				}
			}
		})
	}
	// Its own output, marked, is written again; a file put beside it stays.
	out := filepath.Join(t.TempDir(), "rehearsal")
	if r := cli(t, nil, "rehearse", file, "--out", out); r.code != exitOK {
		t.Fatalf("rehearsal into a new directory\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(out, ".tidings-rehearsal")); err != nil {
		t.Errorf("the rehearsal did not mark its output: %v", err)
	}
	fixture.Write(t, filepath.Join(out, "notes.txt"), "looked at it\n")
	if r := cli(t, nil, "rehearse", file, "--out", out); r.code != exitOK || fixture.Read(t, filepath.Join(out, "notes.txt")) != "looked at it\n" {
		t.Errorf("a second rehearsal into its own output: want exit 0, notes.txt kept\n%s", r)
	}
}
