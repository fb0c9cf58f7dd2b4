package cli

import (
	"context"
	"strings"
	"testing"
)

// TestControlsOfAnUnfinishedFirstStagingSayWhatWorks: while a campaign's
// first staging has not ended (its send was interrupted), resume, approve,
// retry and cancel are refused with advice that works for a campaign never
// staged: run the same send again, as it was (no --resume-existing, which
// is for re-staging a campaign that exists), and, to cancel it with nothing
// sent, pause it first, so that the send run again stages it paused. The
// advice is followed to the end: pause, send, cancel. An interrupted
// re-staging keeps its advice, --resume-existing.
func TestControlsOfAnUnfinishedFirstStagingSayWhatWorks(t *testing.T) {
	t.Parallel()
	env, rd := redisEnv(t)
	ctx := context.Background()
	file := writeCampaign(t, campaignFile{name: "half", rows: []string{"ada@example.org,Ada,en,1"}})
	// A first staging whose send died: its control names the staging,
	// there is no definition (meta) yet.
	if err := rd.Client().HSet(ctx, "tidings:{half}:control", "state", "staged", "stage", "s1").Err(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		action []string
		want   string
	}{
		{[]string{"resume", "half"}, "run it again as it was: tidings send CAMPAIGN-FILE --env staging (with the flags it had)"},
		{[]string{"approve", "half"}, "run it again as it was: tidings send CAMPAIGN-FILE --env staging (with the flags it had)"},
		{[]string{"retry", "half"}, "run it again as it was: tidings send CAMPAIGN-FILE --env staging (with the flags it had)"},
		{[]string{"cancel", "half", "--reason", "wrong list"}, "to cancel it with nothing sent, pause it (tidings pause half --env staging --reason ...), run the send again (it stages it paused), then cancel it"},
	} {
		r := cli(t, env, append(tt.action, "--env", "staging")...)
		if r.code != 1 || !strings.Contains(r.stderr, "its first staging has not ended") || !strings.Contains(r.stderr, tt.want) || strings.Contains(r.stderr, "--resume-existing") {
			t.Errorf("%s of a campaign whose first staging was interrupted: want exit 1 and %q, without --resume-existing\n%s", tt.action[0], tt.want, r)
		}
	}
	// The advice works: paused, staged again (paused), cancelled.
	for _, args := range [][]string{{"pause", "half", "--reason", "wrong list"}, {"send", file}, {"cancel", "half", "--reason", "wrong list"}} {
		if r := cli(t, env, append(args, "--env", "staging")...); r.code != 0 {
			t.Fatalf("%s, as the advice says: want exit 0\n%s", args[0], r)
		}
	}
	// A re-staging interrupted: the campaign exists (its meta names the
	// staging before), so --resume-existing is what stages it again.
	if err := rd.Client().HSet(ctx, "tidings:{half}:control", "state", "staged", "stage", "s2").Err(); err != nil {
		t.Fatal(err)
	}
	r := cli(t, env, "resume", "half", "--env", "staging")
	if r.code != 1 || !strings.Contains(r.stderr, "tidings send CAMPAIGN-FILE --env staging --resume-existing") || strings.Contains(r.stderr, "first staging") {
		t.Errorf("resume of a campaign whose re-staging was interrupted: want exit 1 and the advice to send --resume-existing\n%s", r)
	}
}
