package cli

import (
	"strings"
	"testing"
)

// sendTwo sends campaign c, of two recipients, in environment staging of
// env, and returns its file.
func sendTwo(t *testing.T, env map[string]string, c string) string {
	t.Helper()
	file := writeCampaign(t, campaignFile{name: c, rows: []string{"ada@example.org,Ada,en,1", "bob@example.org,Bob,en,2"}})
	if r := cli(t, env, "send", file, "--env", "staging", "--skip-refused"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	return file
}

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
	sendTwo(t, env, "metalostctl")
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

// TestCancelOfCampaignWhoseMetaRedisLostLeavesTheStagingAgain: Redis lost
// the meta of a running campaign (no worker has paused it yet). A pause
// stops it (paused in Redis) and names the recovery, not a resume; the
// cancel says what Redis lost, in the words status says it with; after
// it, status still says what Redis lost and, of what is left to do, the
// staging again without the journals' deliveries, which names the
// campaign file: never the cancel again. Before, status advised "Cancel
// it (tidings cancel ...)" after the cancel, as before it.
func TestCancelOfCampaignWhoseMetaRedisLostLeavesTheStagingAgain(t *testing.T) {
	t.Parallel()
	env, rd := redisEnv(t)
	file := sendTwo(t, env, "metalostcx")
	if err := rd.Client().Unlink(t.Context(), "tidings:{metalostcx}:meta").Err(); err != nil {
		t.Fatal(err)
	}
	const (
		lost     = "Redis lost this campaign's meta (part of its state: an eviction, a DEL)"
		cancelIt = "tidings cancel metalostcx"
		again    = " --env staging --resume-existing --exclude-delivered JOURNAL_DIR"
	)
	if r := cli(t, env, "pause", "metalostcx", "--env", "staging", "--reason", "bounces"); r.code != 0 || !strings.Contains(r.stdout, "Do not resume") || !strings.Contains(r.stdout, cancelIt) || strings.Contains(r.stdout, "Resume with") {
		t.Errorf("pause of a running campaign whose meta Redis lost: want exit 0 naming the recovery, not a resume\n%s", r)
	}
	if st, err := rd.Client().HGet(t.Context(), "tidings:{metalostcx}:control", "state").Result(); err != nil || st != "paused" {
		t.Errorf("after the pause: %q (%v), want paused", st, err)
	}
	if r := cli(t, env, "cancel", "metalostcx", "--env", "staging", "--reason", "state loss"); r.code != 0 {
		t.Fatalf("cancel\n%s", r)
	} else if !strings.Contains(r.stdout, lost+", so which recipients it has is unknown") {
		t.Errorf("cancel: want it to say %q, as status does\n%s", lost, r)
	}
	r := cli(t, env, "status", "metalostcx", "--env", "staging")
	if r.code != 0 || !strings.Contains(r.stdout, lost) || !strings.Contains(r.stdout, "it is cancelled") || !strings.Contains(r.stdout, file+again) {
		t.Errorf("status after the cancel: want exit 0 saying %q, that it is cancelled, and to stage it again (%q)\n%s", lost, file+again, r)
	}
	if strings.Contains(r.stdout, cancelIt) || strings.Contains(r.stdout, "Cancel it") {
		t.Errorf("status after the cancel advises cancelling it again\n%s", r)
	}
}
