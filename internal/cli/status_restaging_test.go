package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestStatusShowsAnInterruptedRestaging: a campaign staged again (send
// --resume-existing) whose staging stopped before its end is shown as
// restaging-interrupted, not as the state its control holds (paused
// here, where resume and cancel are refused until it is staged), in the
// list of campaigns and in status of it (exit 0, JSON state), with who
// began that staging, the pause made before, and what to run: the send
// again with --resume-existing. The console says the same
// (TestUnfinishedStagingOffersWhatWorks).
func TestStatusShowsAnInterruptedRestaging(t *testing.T) {
	t.Parallel()
	env, r := redisEnv(t)
	c, s, ctx := stageCampaign(t, env, "again"), store.New(r.Client()), context.Background()
	if _, err := s.Pause(ctx, c, store.Actor{Who: "alice", Env: "staging"}, "fix the list"); err != nil {
		t.Fatal(err)
	}
	sg, err := s.NewStager(ctx, store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "staging", Who: "bob", Host: "box2", ChunkSize: 7, ResumeExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := sg.Add(ctx, store.Recipient{Line: 2, ID: "ada@example.org", Email: "ada@example.org", Lang: "en"}, 0, false); err != nil {
		t.Fatal(err)
	}
	sg.Abort(ctx) // its send stopped
	next := "tidings send CAMPAIGN-FILE --env staging --resume-existing"
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"status", "--env", "staging"}, []string{"restaging-interrupted", "its staging again never finished, so no worker sends it: " + "run the same send again as a re-staging: " + next}},
		{[]string{"status", c, "--env", "staging"}, []string{"RESTAGING-INTERRUPTED by bob@box2 at ", "its staging again never finished", "fix the list", next}},
	} {
		res := cli(t, env, tt.args...)
		for _, want := range tt.want {
			if res.code != 0 || !strings.Contains(res.stdout, want) {
				t.Errorf("%s: want exit 0 and %q\n%s", strings.Join(tt.args, " "), want, res)
			}
		}
	}
	res := cli(t, env, "status", c, "--env", "staging", "--json")
	var doc struct {
		State string `json:"state"`
		By    string `json:"by"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil || doc.State != string(store.StateRestagingInterrupted) || doc.By != "bob@box2" {
		t.Errorf("status --json of %s: %v, %+v; want state %s by bob@box2\n%s", c, err, doc, store.StateRestagingInterrupted, res)
	}
}
