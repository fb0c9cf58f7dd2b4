package cli

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
)

// rowsIn returns n recipient rows per language.
func rowsIn(n int, langs ...string) []string {
	var rows []string
	for _, l := range langs {
		for i := range n {
			rows = append(rows, fmt.Sprintf("r%d-%s@example.org,R%d,%s,1", i, l, i, l))
		}
	}
	return rows
}

// TestStatusOfCanaryThenCancel: a campaign that waits for approval after a
// canary of 12 shows its ETA as "after approval" (eta_waits_for in JSON)
// and says how to approve it in its environment; once cancelled, its 18
// unsent recipients are not progress: no full bar, no "DONE 100.0%" in
// the list.
func TestStatusOfCanaryThenCancel(t *testing.T) {
	t.Parallel()
	renv, _ := redisEnv(t)
	env := merge(renv, smtpEnv(startSMTP(t, smtpcapture.Config{})))
	file := writeCampaign(t, campaignFile{name: "halfway", rows: rowsIn(10, "en", "de", "fr"),
		batches: "  canary_per_locale: 4\n  approve_after_canary: true\n  interval: 0s"})
	stop, _ := sendUntil(t, env, file, "halfway", "awaiting-approval")
	stop()

	r := cli(t, env, "status", "halfway", "--env", "staging")
	contains(t, "awaiting approval: status", r.stdout,
		"State:    AWAITING-APPROVAL: canary sent (12 recipients)",
		"tidings approve halfway --env staging",
		"ETA after approval",
		"12 sent")
	r = cli(t, env, "status", "halfway", "--env", "staging", "--json")
	contains(t, "awaiting approval: status --json", r.stdout, `"eta_waits_for":"approval"`)
	if strings.Contains(r.stdout, `"eta_seconds"`) {
		t.Errorf("status --json gives an ETA while awaiting approval\n%s", r)
	}

	if r := cli(t, env, "cancel", "halfway", "--env", "staging", "--reason", "wrong file"); r.code != 0 {
		t.Fatalf("cancel\n%s", r)
	}
	r = cli(t, env, "status", "halfway", "--env", "staging")
	if r.code != 0 {
		t.Fatalf("status\n%s", r)
	}
	contains(t, "cancelled: status", r.stdout,
		"State:    CANCELLED by ",
		": wrong file\n",
		"Progress: [############..................] 12/30 recipients done (40.0%), 12 sent, 18 cancelled",
		"ETA —\n")
	if strings.Contains(r.stdout, "100.0%") || strings.Contains(r.stdout, "[##############################]") {
		t.Errorf("a cancelled campaign with 12 of 30 sent shows a full bar\n%s", r)
	}
	list := cli(t, env, "status", "--env", "staging")
	if !regexp.MustCompile(`(?m)^halfway\s+cancelled\s+12\s+30\s+40\.0%$`).MatchString(list.stdout) {
		t.Errorf("the list shows the cancelled campaign as further than 12 of 30\n%s", list)
	}
}

// TestStatusWhenSMTPIsDown: every first attempt of the canary fails
// temporarily (451); the batch gate pauses the campaign, and status says
// one true thing: the reason once (how many first attempts failed, that
// they are temporary and retried), the 18 waiting for their retry on the
// canary's line and under the outcomes, and how to resume in this
// environment.
func TestStatusWhenSMTPIsDown(t *testing.T) {
	t.Parallel()
	renv, _ := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{Fault: func(string) error { return smtpcapture.Reject(451, "4.3.0 try again later") }})
	env := merge(renv, smtpEnv(smtp))
	file := writeCampaign(t, campaignFile{name: "down", rows: rowsIn(8, "en", "de", "ja"),
		batches: "  canary_per_locale: 6\n  interval: 0s\n  size: 10"})
	stop, _ := sendUntil(t, env, file, "down", "paused")
	stop()

	r := cli(t, env, "status", "down", "--env", "staging")
	out := r.stdout
	contains(t, "status", out,
		"State:    PAUSED by batch-gate at ",
		"18 of the 18 first attempts in batch 0 failed (100%)",
		"18 temporary, retried later",
		"resume with: tidings resume down --env staging",
		"failed 0",
		"18 of the pending failed temporarily and wait for their retry (not failed)",
		"ETA - (not while paused)")
	// 0/18 done: attempted, none has an outcome (it said 18/18, a full bar).
	if !regexp.MustCompile(`(?m)^  canary +\[\.{20}\] +0/18 +retrying +sent 0, 18 failed temporarily and wait for their retry, failed 0`).MatchString(out) {
		t.Errorf("the canary's line does not show the 18 waiting for their retry\n%s", r)
	}
	state, _, _ := strings.Cut(out[strings.Index(out, "State:"):], "\n")
	if strings.Contains(state, "batch gate:") {
		t.Errorf("the state line repeats who paused the campaign: %q", state)
	}
}

// TestStatusOfAStateLossPause: a campaign a worker paused because Redis
// forgot deliveries says not to resume it (that would send them again) and
// what to run instead; a campaign paused by hand still says how to resume.
func TestStatusOfAStateLossPause(t *testing.T) {
	t.Parallel()
	env, rs := redisEnv(t)
	st := store.New(rs.Client())
	for _, tc := range []struct{ action, want, not string }{
		{"state-loss", "do not resume", "resume with:"},
		{"pause", "resume with:", "do not resume"},
	} {
		c := stageCampaign(t, env, "sl-"+tc.action)
		if _, _, err := st.Transition(t.Context(), c, store.TransitionParams{From: []store.State{store.StateRunning}, To: store.StatePaused,
			Actor: store.Actor{Who: "w1", Host: "h"}, Action: tc.action, Reason: "state loss suspected: test"}); err != nil {
			t.Fatal(err)
		}
		r := cli(t, env, "status", c, "--env", "staging")
		if !strings.Contains(r.stdout, tc.want) || strings.Contains(r.stdout, tc.not) {
			t.Errorf("%s pause: want %q and not %q in\n%s", tc.action, tc.want, tc.not, r)
		}
	}
	if r := cli(t, env, "status", "sl-state-loss", "--env", "staging"); !strings.Contains(r.stdout, "--exclude-delivered") {
		t.Errorf("the state-loss hint does not say how to exclude the deliveries:\n%s", r)
	}
	// resume refuses, with the same steps (every worker's journal).
	if r := cli(t, env, "resume", "sl-state-loss", "--env", "staging"); r.code != 1 || !strings.Contains(r.stderr, "copy every worker's journal directory") {
		t.Errorf("resume of a state-loss pause: want exit 1 and the steps of status's hint\n%s", r)
	}
}

// TestPauseOfAPausedCampaignSaysWhatNext: a pause of a campaign already
// paused says what to run next as status does: resume after a pause by
// hand, but never after a worker's pause for state loss, which resume
// refuses; there, the steps that recover it.
func TestPauseOfAPausedCampaignSaysWhatNext(t *testing.T) {
	t.Parallel()
	env, rs := redisEnv(t)
	st := store.New(rs.Client())
	for _, tc := range []struct{ action, want, not string }{
		{"state-loss", "nothing changed, and this reason is not recorded.\nDo not resume: Redis forgot deliveries", "Resume with"},
		{"pause", "nothing changed, and this reason is not recorded.\nResume with: tidings resume pp-pause --env staging", "not resume"},
	} {
		c := stageCampaign(t, env, "pp-"+tc.action)
		if _, _, err := st.Transition(t.Context(), c, store.TransitionParams{From: []store.State{store.StateRunning}, To: store.StatePaused,
			Actor: store.Actor{Who: "w1", Host: "h"}, Action: tc.action, Reason: "state loss suspected: test"}); err != nil {
			t.Fatal(err)
		}
		r := cli(t, env, "pause", c, "--env", "staging", "--reason", "errors climbing")
		if r.code != 0 || !strings.Contains(r.stdout, tc.want) || strings.Contains(r.stdout, tc.not) {
			t.Errorf("pause after a %s pause: want exit 0, %q and not %q in\n%s", tc.action, tc.want, tc.not, r)
		}
		if tc.action == "state-loss" && !strings.Contains(r.stdout, "--exclude-delivered") {
			t.Errorf("pause after a state-loss pause does not say how to exclude the deliveries:\n%s", r)
		}
	}
}
