package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/unsubscribe"
)

// TestDoctorComparesUnsubscribeSecret: doctor compares this machine's
// unsubscribe secret with the one each {token} campaign under way was
// staged with (one running, one paused): with the same secret it passes,
// saying its workers send them; with another, or none, it fails, saying
// per campaign that its workers would pause it, the fingerprint it was
// staged with, what to set and, of the paused one, the resume to run. A
// campaign without {token} and a cancelled one are not named.
func TestDoctorComparesUnsubscribeSecret(t *testing.T) {
	t.Parallel()
	renv, _ := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{})
	env := merge(renv, smtpEnv(smtp), map[string]string{"TIDINGS_UNSUBSCRIBE_SECRET": tokenSecret})
	token := "list_unsubscribe: \"" + tokenURL + "\"\n"
	for _, c := range []struct{ name, extra, then string }{
		{"keyrun", token, ""}, {"keypaused", token, "pause"}, {"keygone", token, "cancel"}, {"plain", "", ""},
	} {
		if r := cli(t, env, "send", writeCampaign(t, campaignFile{name: c.name, rows: rowsIn(1, "en"), extra: c.extra}), "--env", "staging"); r.code != 0 {
			t.Fatalf("send %s\n%s", c.name, r)
		}
		if r := cli(t, env, c.then, c.name, "--env", "staging", "--reason", "test"); c.then != "" && r.code != 0 {
			t.Fatalf("%s %s\n%s", c.then, c.name, r)
		}
	}
	staged := unsubscribe.KeyFingerprint([]byte(tokenSecret))
	const fix = "set TIDINGS_UNSUBSCRIBE_SECRET, TIDINGS_UNSUBSCRIBE_SECRET_FILE or unsubscribe_secret_file here, and on every worker, to the secret it was staged with (the one send used and the site holds)"
	pauses := func(c, state string) string {
		return c + " (" + state + ") was staged with key fingerprint " + staged + ": this machine's workers would pause it, sending nothing; " + fix
	}
	other := "another-secret-of-another-site"
	tests := []struct {
		name, secret, status string
		want                 []string
	}{
		{"same secret", tokenSecret, "pass", []string{"this machine's unsubscribe secret has key fingerprint " + staged + "; this machine's workers send keypaused (paused), keyrun (running): staged with it"}},
		{"another secret", other, "fail", []string{"this machine's unsubscribe secret has key fingerprint " + unsubscribe.KeyFingerprint([]byte(other)) + "; ",
			pauses("keypaused", "paused") + ", then resume with: tidings resume keypaused --env staging (or cancel: tidings cancel keypaused --env staging --reason ...)",
			pauses("keyrun", "running")}},
		{"no secret", "", "fail", []string{"this machine's unsubscribe secret has key fingerprint none; ", pauses("keyrun", "running")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cli(t, merge(env, map[string]string{"TIDINGS_UNSUBSCRIBE_SECRET": tt.secret}), "doctor", "--env", "staging", "--json")
			var rep struct {
				Checks []struct{ Name, Status, Message string }
			}
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatalf("doctor --json: %v\n%s", err, r)
			}
			var found bool
			for _, c := range rep.Checks {
				if c.Name != "unsubscribe secret" {
					continue
				}
				found = true
				if c.Status != tt.status {
					t.Errorf("status %s, want %s: %s", c.Status, tt.status, c.Message)
				}
				contains(t, "doctor's unsubscribe secret check", c.Message, tt.want...)
				for _, not := range []string{"keygone", "plain", tokenSecret, other} {
					if strings.Contains(c.Message, not) {
						t.Errorf("the check names %q: %s", not, c.Message)
					}
				}
			}
			if !found {
				t.Fatalf("doctor has no unsubscribe secret check\n%s", r)
			}
		})
	}
}
