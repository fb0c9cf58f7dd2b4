package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestPreviewSaysTheRecipientsFileIsMissing: a campaign whose
// `recipients:` names a file that does not exist (a typo, an export not
// copied yet) is previewed and test-sent with made-up sample data for every
// language, exit 0, and not a word that the file was not read.
//
// The promise (README, "QA: sign off every language": "Each language is
// shown with the first recipient the plan accepts ... A language with no
// recipient in the campaign is shown with sample data"; `preview` help:
// "using one real recipient of that language from the recipients file where
// one exists (else sample data) ... Exit 1 if any language that the
// recipients need is not covered"; `test-send` help: "Exit 1 when ... as
// preview does for the same campaign"; house rule: bad input gets a clear
// error naming the file and saying what to do). `plan` and `send` of the
// same campaign fail: "recipients file ... does not exist".
//
// What happens: `tidings preview` prints every language `ok` with NEEDED 0,
// the gallery's header says "recipients: .../recipients.csv" as if it had
// been read, each card says "sample data (no recipient of this language)",
// and it exits 0; `tidings test-send` sends sample data for every language
// and exits 0. Nothing says the file does not exist, so QA signs off
// messages no recipient gets and learns nothing of the languages the
// recipients need (an incomplete language they need is not flagged).
//
// The cause was: internal/bundle/bundle.go (Bundle.Plan) returns
// nil, nil when the recipients file cannot be opened, and
// internal/bundle/bundle.go:189-193 (Bundle.Recipients) returns a nil
// iterator with no error ("callers then use sample data"); preview and
// test-send never say so.
func TestPreviewSaysTheRecipientsFileIsMissing(t *testing.T) {
	t.Parallel()
	env, commands := qaCommands(t)
	for _, tc := range commands {
		t.Run(tc.name, func(t *testing.T) {
			file := writeCampaign(t, campaignFile{name: "rt14e-norcp", rows: []string{"ada@example.org,Ada,en,1"}})
			rcp := filepath.Join(filepath.Dir(file), "recipients.csv")
			if err := os.Remove(rcp); err != nil {
				t.Fatal(err)
			}
			if p := cli(t, env, "plan", file); p.code == 0 {
				t.Fatalf("setup: plan of a campaign without its recipients file must fail\n%s", p)
			}
			r := cli(t, env, tc.args(file)...)
			out := r.stdout + r.stderr
			said := strings.Contains(out, rcp) && (strings.Contains(out, "does not exist") || strings.Contains(out, "no such file") || strings.Contains(out, "not found") || strings.Contains(out, "cannot"))
			if !said {
				t.Errorf("%s of a campaign whose recipients file %s does not exist does not say so (exit %d): QA signs off sample data believing it is the campaign's\n%s", tc.name, rcp, r.code, r)
			}
			if r.code != 2 {
				t.Errorf("%s of a campaign whose recipients file does not exist: exit %d, want 2 (a configuration error, as plan's)\n%s", tc.name, r.code, r)
			}
		})
	}
}

// qaCommand is a command QA runs on a campaign file.
type qaCommand struct {
	name string
	args func(file string) []string
}

// qaCommands returns preview and test-send (to a loopback SMTP server, in
// environment staging, whose allowlist env holds) of a campaign file.
func qaCommands(t *testing.T) (env map[string]string, commands []qaCommand) {
	t.Helper()
	smtp := startSMTP(t, smtpcapture.Config{})
	env = merge(smtpEnv(smtp), map[string]string{"TIDINGS_ALLOW": "example.org"})
	return env, []qaCommand{
		{"preview", func(file string) []string { return []string{"preview", file, "--out", t.TempDir()} }},
		{"test-send", func(file string) []string {
			return []string{"test-send", file, "--env", "staging", "--to", "qa@example.org"}
		}},
	}
}
