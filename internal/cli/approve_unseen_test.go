package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestApproveNamesLanguagesNoCanaryMessageShowed: QA approves what the
// canary showed, but an approval released the rest whatever the canary
// had shown. A campaign paused after its canary, its de.toml edited and
// staged again (send --resume-existing, a translator's late fix) kept
// its canary recipients sent (never sent twice), so its canary was done
// at once and awaited approval; `tidings approve` said "Approved" alone,
// and the other German recipients received a greeting no canary message
// carried (a red team saw 'CHANGEDX' reach r1-de and r2-de, never the
// canary's r0-de). A language whose every canary recipient failed (550)
// was approved as silently. The approval now says which languages no
// canary message of the content staged now reached (by its hash: a
// change of any template or catalog counts for every language), and
// why; the audit log records, with the approval, the content hash
// approved and those languages; an approval of a canary that showed
// every language is told nothing more.
//
// Found by a red team on what QA approves.
func TestApproveNamesLanguagesNoCanaryMessageShowed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		restage bool // de.toml changed and staged again after the canary
		fault   func(rcpt string) error
		unseen  []string // in the approval's warning
		seen    []string // never in it
	}{
		{name: "content changed after the canary", restage: true,
			// The content hash changed: every language's canary was sent
			// another content (the check is of the hash, not per file).
			unseen: []string{"de (1 canary recipient(s): 1 sent content ", "en (1 canary recipient(s): 1 sent content ", "fr (1 canary recipient(s): 1 sent content "}},
		{name: "a language's canary failed", fault: func(rcpt string) error {
			if rcpt == "r0-fr@example.org" {
				return smtpcapture.Reject(550, "5.1.1 no such mailbox")
			}
			return nil
		}, unseen: []string{"fr (1 canary recipient(s): 1 not sent)"}, seen: []string{"de (", "en ("}},
		{name: "every language seen", seen: []string{"de (", "en (", "fr (", "Warning"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			renv, _ := redisEnv(t)
			smtp := startSMTP(t, smtpcapture.Config{Fault: tt.fault})
			env := merge(renv, smtpEnv(smtp))
			root, dir := repoRoot(t), t.TempDir()
			for _, d := range []string{"templates", "locales"} {
				if err := os.CopyFS(filepath.Join(dir, d), os.DirFS(filepath.Join(root, d))); err != nil {
					t.Fatal(err)
				}
			}
			file := writeCampaign(t, campaignFile{name: "qa", tmpls: filepath.Join(dir, "templates"), locales: filepath.Join(dir, "locales"),
				rows: rowsIn(3, "en", "de", "fr"), batches: "  canary_per_locale: 1\n  approve_after_canary: true\n  interval: 0s\n  size: 3\n  max_failure_rate: 0.9"})
			stop, log := sendUntil(t, env, file, "qa", "awaiting-approval")
			if tt.restage {
				stop()
				if r := cli(t, env, "pause", "qa", "--env", "staging", "--reason", "de greeting fixed"); r.code != 0 {
					t.Fatalf("pause\n%s", r)
				}
				de := filepath.Join(dir, "locales", "de.toml")
				fixture.Write(t, de, strings.Replace(fixture.Read(t, de), "Hallo {{.Name}},", "CHANGEDX {{.Name}},", 1))
				for _, args := range [][]string{{"send", file, "--env", "staging", "--resume-existing"}, {"resume", "qa", "--env", "staging"}} {
					if r := cli(t, env, args...); r.code != 0 {
						t.Fatalf("%s\n%s", args[0], r)
					}
				}
				stop, log = startWorker(t, env)
				waitState(t, env, "qa", "awaiting-approval", log)
			}
			hash := cli(t, env, "status", "qa", "--env", "staging", "--json").stdout
			r := cli(t, env, "approve", "qa", "--env", "staging")
			if r.code != 0 {
				t.Fatalf("approve\n%s", r)
			}
			contains(t, "approve's answer", r.stdout, tt.unseen...)
			for _, s := range tt.seen {
				if strings.Contains(r.stdout, s) {
					t.Errorf("approve's answer names %q, which the canary showed\n%s", s, r)
				}
			}
			if len(tt.unseen) > 0 {
				contains(t, "approve's answer", r.stdout, "Warning: no canary message of the content approved reached ", "tidings pause qa --env staging")
			}
			var rec string
			for _, e := range status(t, env, "qa").Audit {
				if e.Action == "approve" {
					rec = e.Reason
				}
			}
			h := hash[strings.Index(hash, `"hash":"`)+8:][:12]
			contains(t, "the approval's audit entry", rec, append([]string{"content " + h}, tt.unseen...)...)
			waitState(t, env, "qa", "done", log)
			stop()
			if tt.restage { // what the approval released: the changed greeting, which it named
				var changed []string
				for _, m := range smtp.Messages() {
					if strings.Contains(string(m.Data), "CHANGEDX") {
						changed = append(changed, m.To[0])
					}
				}
				if strings.Join(changed, ",") != "r1-de@example.org,r2-de@example.org" && strings.Join(changed, ",") != "r2-de@example.org,r1-de@example.org" {
					t.Errorf("messages with the changed greeting went to %v, want r1-de and r2-de", changed)
				}
			}
		})
	}
}
