package cli

import (
	"strings"
	"testing"
)

// TestControlsOfCampaignWhoseMetaRedisLostSayIt: Redis lost the meta of a
// paused campaign (an eviction, a DEL) while its control, ledger and
// chunks stayed. status says so, and that resuming would send again those
// its journals have; resume and approve are refused (exit 1) in the same
// words, with the same recovery (cancel, then stage it again without the
// journals' deliveries), and a pause names that recovery, not a resume.
// Before, resume and approve said that its first staging had not ended
// and to run the send again "as it was" or give it up ("nothing was
// sent"), and a pause advised "Resume with: tidings resume".
func TestControlsOfCampaignWhoseMetaRedisLostSayIt(t *testing.T) {
	t.Parallel()
	env, rd := redisEnv(t)
	file := writeCampaign(t, campaignFile{name: "metalostctl", rows: []string{"ada@example.org,Ada,en,1", "bob@example.org,Bob,en,2"}})
	if r := cli(t, env, "send", file, "--env", "staging", "--skip-refused"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	if r := cli(t, env, "pause", "metalostctl", "--env", "staging", "--reason", "bounces"); r.code != 0 {
		t.Fatalf("pause\n%s", r)
	}
	if err := rd.Client().Unlink(t.Context(), "tidings:{metalostctl}:meta").Err(); err != nil {
		t.Fatal(err)
	}
	const (
		lost    = "Redis lost this campaign's meta (part of its state: an eviction, a DEL): its definition, batches and languages are unknown, no worker sends it, and its ledger may have lost deliveries too"
		recover = `do not resume: Redis forgot deliveries, and resuming would send them again. Cancel it (tidings cancel metalostctl --env staging --reason "state loss")`
	)
	if r := cli(t, env, "status", "metalostctl", "--env", "staging"); r.code != 0 || !strings.Contains(r.stdout, lost) || !strings.Contains(r.stdout, recover) {
		t.Errorf("status: want exit 0 saying %q and %q\n%s", lost, recover, r)
	}
	for _, action := range []string{"resume", "approve"} {
		r := cli(t, env, action, "metalostctl", "--env", "staging")
		if r.code != 1 || !strings.Contains(r.stderr, "cannot "+action+" metalostctl: "+lost) || !strings.Contains(r.stderr, recover) ||
			strings.Contains(r.stderr, "staging has not ended") || strings.Contains(r.stderr, "nothing was sent") {
			t.Errorf("%s: want exit 1 saying %q and %q, not that a staging has not ended\n%s", action, lost, recover, r)
		}
	}
	if r := cli(t, env, "pause", "metalostctl", "--env", "staging", "--reason", "again"); r.code != 0 || !strings.Contains(strings.ToLower(r.stdout), strings.ToLower(recover)) || strings.Contains(r.stdout, "Resume with") {
		t.Errorf("pause: want exit 0 naming the recovery (%q), not a resume\n%s", recover, r)
	}
	if st, err := rd.Client().HGet(t.Context(), "tidings:{metalostctl}:control", "state").Result(); err != nil || st != "paused" {
		t.Errorf("after the refused resume and approve: %q (%v), want paused", st, err)
	}
}
