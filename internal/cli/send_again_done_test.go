package cli

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestSendAgainOfADoneCampaignSaysItIsDone: send of a campaign that is
// done, without --resume-existing (red team: an operator running the
// same send again), must say that it is done, where to see who received
// it, and that a new mail takes a new campaign name; not that it "is
// already staged" and to re-stage it, which would send nothing. Exit 2,
// the campaign stays done.
func TestSendAgainOfADoneCampaignSaysItIsDone(t *testing.T) {
	t.Parallel()
	renv, _ := redisEnv(t)
	env := merge(renv, smtpEnv(startSMTP(t, smtpcapture.Config{})))
	file := writeCampaign(t, campaignFile{name: "altea-migration", rows: []string{"ada@example.org,Ada,en,1", "bea@example.org,Bea,en,3"}})
	stop, _ := sendUntil(t, env, file, "altea-migration", "done")
	stop()
	r := cli(t, env, "send", file, "--env", "staging")
	if r.code != 2 {
		t.Errorf("send again of a done campaign: exit %d, want 2\n%s", r.code, r)
	}
	for _, w := range []string{`campaign "altea-migration" is done in staging`, "tidings report altea-migration --env staging", "new campaign name"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q\n%s", w, r)
		}
	}
	if strings.Contains(r.stderr, "already staged") {
		t.Errorf("stderr says the done campaign is merely staged\n%s", r)
	}
	if st := status(t, env, "altea-migration"); st.State != "done" {
		t.Errorf("after the refused send: state %s, want done", st.State)
	}
}
