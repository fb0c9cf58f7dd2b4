package nextstep

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestHintsNameTheCampaignFileTheRecordKeeps: every send a hint or a
// control's refusal advises (state loss, lost chunks, a staging not
// ended, a cancelled campaign staged again) names the campaign file this
// host's start record keeps, quoted for a POSIX shell (the path here has
// a space and a quote), and CAMPAIGN-FILE only when no record names it,
// saying then which file that is. They all said CAMPAIGN-FILE.
func TestHintsNameTheCampaignFileTheRecordKeeps(t *testing.T) {
	t.Parallel()
	rec := &launch.Record{CampaignFile: "/home/ops/Q4 mail/altea's.yaml", Send: &launch.SendOptions{SkipRefused: true, Rejects: "/home/ops/Q4 mail/rejects.csv"}}
	known := Files(func(c, env string) *launch.Record { return rec })
	noFlags := Files(func(c, env string) *launch.Record { return &launch.Record{CampaignFile: rec.CampaignFile} }) // a record of a version that kept no flags
	say := func(f Files) []string {
		return []string{
			f.Hint(store.NextRecover, "altea", "production"),
			f.Hint(store.NextLostChunks, "altea", "production"),
			f.Hint(store.NextRestageAgain, "altea", "production"),
			f.HintPaused(store.NextRestageAgain, "altea", "production"),
			f.Advice(store.NextRecover, "altea", "production"),
			f.Staging("resume", "altea", "production", true),
			f.Staging("resume", "altea", "production", false),
			f.Staging("cancel", "altea", "production", false),
			f.LostChunks(errors.New("cancel altea: lost chunks [3]"), "altea", "production").Error(),
			f.LostChunksCancelled(errors.New("cancel altea: lost chunks [3]"), "altea", "production").Error(),
			"cannot resume altea: the campaign is cancelled" + f.Cancelled("altea", "production"),
		}
	}
	out := "# the file and flags known\n" + strings.Join(say(known), "\n") + "\n\n# the file known, not the flags\n" + strings.Join(say(noFlags), "\n") + "\n\n# not known\n" + strings.Join(say(nil), "\n") + "\n"
	golden.Check(t, filepath.Join("testdata", "files.golden"), out)
	for _, line := range say(known) {
		if strings.Contains(line, "CAMPAIGN-FILE") || !strings.Contains(line, `tidings send '/home/ops/Q4 mail/altea'\''s.yaml' --env production`) ||
			!strings.Contains(line, ` --skip-refused --rejects '/home/ops/Q4 mail/rejects.csv'`) || strings.Contains(line, "with the flags it had") {
			t.Errorf("with the file and flags known: want them quoted, and no CAMPAIGN-FILE, in\n%s", line)
		}
	}
	for _, line := range say(nil) {
		if !strings.Contains(line, "(CAMPAIGN-FILE: the campaign file you staged it from): tidings send CAMPAIGN-FILE --env production") {
			t.Errorf("with the file not known: want CAMPAIGN-FILE, said what it is, in\n%s", line)
		}
	}
}

// TestFilesIn: the campaign file of a start record, of the environment
// asked (or any, when not known), while the file is there; none without
// a state dir, a record, a file in it (an older version's record), or
// once the file is gone.
func TestFilesIn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "Q4 mail", "altea's.yaml")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("name: altea\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, r := range []launch.Record{{Campaign: "altea", Env: "production", CampaignFile: file}, {Campaign: "old", Env: "production"}, {Campaign: "moved", Env: "production", CampaignFile: file + ".gone"}} {
		if _, err := launch.WriteRecord(dir, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		stateDir, c, env, want string
	}{
		{dir, "altea", "production", file},
		{dir, "altea", "", file},
		{dir, "altea", "staging", ""},
		{dir, "old", "production", ""},
		{dir, "moved", "production", ""},
		{dir, "nosuch", "production", ""},
		{"", "altea", "production", ""},
	} {
		got := ""
		if rec := FilesIn(tt.stateDir)(tt.c, tt.env); rec != nil {
			got = rec.CampaignFile
		}
		if got != tt.want {
			t.Errorf("FilesIn(%q)(%q, %q) = %q; want %q", tt.stateDir, tt.c, tt.env, got, tt.want)
		}
	}
}

// TestHintOfAStagingBegunOnAnotherHost: the send the hint of a staging
// that did not end advises names this host's start record's file and
// flags only when that staging was begun on this host (the control's
// staging_by, status's By then); begun on another, this host's record is
// of another send (an older file, another run's flags), and the hint says
// CAMPAIGN-FILE, naming who began it, on which host. Who last changed the
// state of a campaign staged (By, then) is no staging's: the file stays.
// The hint named this host's file whoever began the staging.
func TestHintOfAStagingBegunOnAnotherHost(t *testing.T) {
	t.Parallel()
	rec := &launch.Record{CampaignFile: "/home/ops/altea.yaml", Host: "ops1", Send: &launch.SendOptions{SkipRefused: true}}
	f := Files(func(c, env string) *launch.Record { return rec })
	const file = "tidings send /home/ops/altea.yaml --env production --resume-existing --skip-refused"
	for _, tt := range []struct {
		name  string
		st    store.Status
		next  store.Next
		file  bool   // the hint names this host's file
		names string // who began the staging, said when it does not
	}{
		{"re-staging begun on another host", store.Status{Control: store.Control{State: store.StateRestagingInterrupted, By: "carol@build"}}, store.NextRestageAgain, false, "carol@build"},
		{"re-staging begun on another host, paused meanwhile", store.Status{Control: store.Control{State: store.StateRestagingInterrupted, By: "carol@build"}, PausedWhileStaging: &store.Control{State: store.StatePaused}}, store.NextRestageAgain, false, "carol@build"},
		{"re-staging begun on this host", store.Status{Control: store.Control{State: store.StateRestagingInterrupted, By: "alice@ops1"}}, store.NextRestageAgain, true, ""},
		{"re-staging, who began it not known", store.Status{Control: store.Control{State: store.StateRestagingInterrupted}}, store.NextRestageAgain, true, ""},
		{"paused from another host: no staging's", store.Status{Control: store.Control{State: store.StatePaused, By: "carol@build"}}, store.NextLostChunks, true, ""},
	} {
		tt.st.Campaign, tt.st.Env = "altea", "production"
		h := f.HintOf(tt.next, &tt.st)
		if got := strings.Contains(h, "/home/ops/altea.yaml"); got != tt.file || got == strings.Contains(h, "CAMPAIGN-FILE") {
			t.Errorf("%s: names this host's file: %v, want %v:\n%s", tt.name, got, tt.file, h)
		}
		if tt.file && tt.next == store.NextRestageAgain && !strings.Contains(h, file) {
			t.Errorf("%s: want %q in\n%s", tt.name, file, h)
		}
		if !tt.file && (!strings.Contains(h, "begun from, by "+tt.names+": another host") || strings.Contains(h, "--skip-refused")) {
			t.Errorf("%s: want CAMPAIGN-FILE said begun by %s on another host, and not this host's flags, in\n%s", tt.name, tt.names, h)
		}
	}
}
