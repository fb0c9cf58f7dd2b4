package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestControlsOfAnUnfinishedFirstStagingSayWhatWorks: while a campaign's
// first staging has not ended (its send was interrupted), resume, approve
// and retry are refused with advice that works for a campaign never
// staged: run the same send again, as it was (no --resume-existing, which
// is for re-staging a campaign that exists), or give it up with a cancel,
// which removes what the staging left (nothing was sent). The advice is
// followed: the cancel gives it up, and the name is free for a send. An
// interrupted re-staging keeps its advice, --resume-existing.
func TestControlsOfAnUnfinishedFirstStagingSayWhatWorks(t *testing.T) {
	t.Parallel()
	env, rd := redisEnv(t)
	ctx := context.Background()
	file := writeCampaign(t, campaignFile{name: "half", rows: []string{"ada@example.org,Ada,en,1"}})
	// A first staging whose send died: its record as begun, then its
	// control naming the staging, as a send writes them; there is no
	// definition (meta) yet.
	if err := rd.Client().HSet(ctx, "tidings:stagings", "half", `{"env":"staging","by":"alice@box","at":1}`).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rd.Client().HSet(ctx, "tidings:{half}:control", "state", "staged", "stage", "s1").Err(); err != nil {
		t.Fatal(err)
	}
	for _, action := range [][]string{{"resume", "half"}, {"approve", "half"}, {"retry", "half"}} {
		r := cli(t, env, append(action, "--env", "staging")...)
		for _, want := range []string{"its first staging has not ended", "run it again as it was (CAMPAIGN-FILE: the campaign file you staged it from): tidings send CAMPAIGN-FILE --env staging (with the flags it had)",
			"give it up (nothing was sent): tidings cancel half --env staging --reason ... removes what the staging left"} {
			if r.code != 1 || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "--resume-existing") {
				t.Errorf("%s of a campaign whose first staging was interrupted: want exit 1 and %q, without --resume-existing\n%s", action[0], want, r)
			}
		}
	}
	// The advice works: given up, then staged anew.
	for _, args := range [][]string{{"cancel", "half", "--reason", "wrong list"}, {"send", file}} {
		if r := cli(t, env, append(args, "--env", "staging")...); r.code != 0 {
			t.Fatalf("%s, as the advice says: want exit 0\n%s", args[0], r)
		}
	}
	// A re-staging interrupted: the campaign exists (its meta names the
	// staging before), so --resume-existing is what stages it again.
	if err := rd.Client().HSet(ctx, "tidings:{half}:control", "state", "staged", "stage", "s2").Err(); err != nil {
		t.Fatal(err)
	}
	// The send above left its start record: the advice names its file.
	r := cli(t, env, "resume", "half", "--env", "staging")
	if r.code != 1 || !strings.Contains(r.stderr, "run it again: tidings send "+file+" --env staging --resume-existing (with any --exclude-delivered it had)\n") || strings.Contains(r.stderr, "first staging") {
		t.Errorf("resume of a campaign whose re-staging was interrupted: want exit 1 and the advice to send --resume-existing\n%s", r)
	}
}

// TestCancelGivesUpAnAbandonedFirstStaging: a first staging abandoned for
// good (its send interrupted, and nobody will run it again) was listed by
// status --env as staging-interrupted for ever: its record in
// tidings:stagings and its partial keys stayed. cancel gives it up, on
// real Redis: it says that nothing was sent, the list no longer has it,
// status of it says it does not exist (exit 2), and a send of that name
// stages it anew, with the cancel in its audit log. A cancel while a send
// is writing the staging is refused, saying to cancel again once it
// ended, and changes nothing.
func TestCancelGivesUpAnAbandonedFirstStaging(t *testing.T) {
	t.Parallel()
	env, rd := redisEnv(t)
	ctx := context.Background()
	st := store.New(rd.Client())
	begin := func(c string) *store.Stager {
		t.Helper()
		sg, err := st.NewStager(ctx, store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "staging", Who: "alice", Host: "box", ChunkSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		for i, email := range []string{"a@example.org", "b@example.org", "c@example.org"} {
			if err := sg.Add(ctx, store.Recipient{Line: i + 2, ID: email, Email: email, Lang: "en"}, 0, false); err != nil {
				t.Fatal(err)
			}
		}
		return sg
	}
	begin("halfway").Abort(ctx) // its send stopped for good
	busy := begin("busy")       // its send runs
	defer busy.Abort(ctx)
	if r := cli(t, env, "status", "--env", "staging"); r.code != 0 || !strings.Contains(r.stdout, "staging-interrupted") || !strings.Contains(r.stdout, "tidings cancel halfway --env staging --reason ...") {
		t.Fatalf("status --env: want halfway staging-interrupted, with the cancel that gives it up\n%s", r)
	}
	r := cli(t, env, "cancel", "busy", "--env", "staging", "--reason", "wrong list")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot cancel busy: its first staging has not ended and a send is writing it now") {
		t.Errorf("cancel of a campaign being staged: want exit 1, refused\n%s", r)
	}
	r = cli(t, env, "cancel", "halfway", "--env", "staging", "--reason", "wrong list")
	if r.code != 0 || !strings.Contains(r.stdout, "Cancelled halfway: its first staging never finished, so nothing was sent: what it left in Redis is removed") {
		t.Fatalf("cancel of an abandoned first staging: want exit 0, saying nothing was sent\n%s", r)
	}
	if r := cli(t, env, "status", "--env", "staging"); r.code != 0 || strings.Contains(r.stdout, "halfway") || !strings.Contains(r.stdout, "busy") {
		t.Errorf("status --env after the cancel: want busy listed, halfway not\n%s", r)
	}
	if r := cli(t, env, "status", "halfway", "--env", "staging"); r.code != 2 || !strings.Contains(r.stderr, `campaign "halfway" does not exist`) {
		t.Errorf("status of the campaign given up: want exit 2, it does not exist\n%s", r)
	}
	file := writeCampaign(t, campaignFile{name: "halfway", rows: []string{"ada@example.org,Ada,en,1"}})
	if r := cli(t, env, "send", file, "--env", "staging"); r.code != 0 {
		t.Fatalf("send of the name given up: want exit 0\n%s", r)
	}
	r = cli(t, env, "status", "halfway", "--env", "staging")
	if r.code != 0 || !strings.Contains(r.stdout, "drop-staging") || !strings.Contains(r.stdout, "wrong list") {
		t.Errorf("status of the campaign staged anew: want the cancel of the staging given up in its audit log\n%s", r)
	}
}
