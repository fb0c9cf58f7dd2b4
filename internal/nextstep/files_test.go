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
