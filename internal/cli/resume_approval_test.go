package cli

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestResumeSaysItStillWaitsForApproval: `tidings resume` of a campaign
// that waits for its canary's approval (approve_after_canary) said only
// "Resumed X.", as if it went on: a resume does not approve, and the
// campaign still waits (or, its canary not sent yet, will wait) for
// `tidings approve`. It now says so and what to run; a campaign with no
// approval ahead is told "Resumed X." alone, as before.
//
// Found by a red team on the command line.
func TestResumeSaysItStillWaitsForApproval(t *testing.T) {
	t.Parallel()
	renv, _ := redisEnv(t)
	env := merge(renv, smtpEnv(startSMTP(t, smtpcapture.Config{})))
	for _, tt := range []struct {
		name, batches string
		canarySent    bool // a worker sends the canary before the pause
		want          string
	}{
		{"awaiting approval", "  canary_per_locale: 1\n  approve_after_canary: true\n  interval: 0s", true,
			"Resumed awaiting.\nIt still waits for approval after its canary, which a resume does not give: check the canary, then approve it: tidings approve awaiting --env staging\n"},
		{"canary not sent yet", "  canary_per_locale: 1\n  approve_after_canary: true\n  interval: 0s", false,
			"Resumed canary-ahead.\nIt waits for approval once its canary is sent, which a resume does not give: check the canary, then approve it: tidings approve canary-ahead --env staging\n"},
		{"no approval", "  canary_per_locale: 1\n  interval: 0s", false,
			"Resumed no-approval.\n"},
	} {
		name := map[string]string{"awaiting approval": "awaiting", "canary not sent yet": "canary-ahead", "no approval": "no-approval"}[tt.name]
		t.Run(tt.name, func(t *testing.T) {
			file := writeCampaign(t, campaignFile{name: name, rows: rowsIn(4, "en", "de"), batches: tt.batches})
			if tt.canarySent {
				stop, _ := sendUntil(t, env, file, name, "awaiting-approval")
				stop()
			} else if r := cli(t, env, "send", file, "--env", "staging"); r.code != 0 {
				t.Fatalf("send\n%s", r)
			}
			if r := cli(t, env, "pause", name, "--env", "staging", "--reason", "checking"); r.code != 0 {
				t.Fatalf("pause\n%s", r)
			}
			r := cli(t, env, "resume", name, "--env", "staging")
			if r.code != 0 || r.stdout != tt.want {
				t.Errorf("resume: exit %d, stdout %q\nwant exit 0, stdout %q\n%s", r.code, r.stdout, tt.want, r)
			}
			if tt.want != "Resumed "+name+".\n" && !strings.Contains(cli(t, env, "status", name, "--env", "staging").stdout, "ETA after approval") {
				t.Errorf("status does not say the campaign waits for approval after the resume")
			}
		})
	}
}
