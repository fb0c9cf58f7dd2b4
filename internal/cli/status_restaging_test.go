package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestStatusShowsAnInterruptedRestaging: a campaign staged again (send
// --resume-existing) whose staging stopped before its end is shown as
// restaging-interrupted, not as the state its control holds (paused
// here, where resume and cancel are refused until it is staged), in the
// list of campaigns and in status of it (exit 0, JSON state), with who
// began that staging, the pause made before, and what to run: the send
// again with --resume-existing. The console says the same
// (TestUnfinishedStagingOffersWhatWorks). Its cancel is refused, saying
// why and what to run (nextstep.Staging), and what it says to run works:
// paused, the send run again stages it paused, and the cancel then acts.
func TestStatusShowsAnInterruptedRestaging(t *testing.T) {
	t.Parallel()
	env, r := redisEnv(t)
	c, s, ctx := stageCampaign(t, env, "again"), store.New(r.Client()), context.Background()
	bob := interruptRestaging(t, s, c)
	// The send run again as its start record keeps it (file and flags:
	// stageCampaign's; the temporary paths need no quotes).
	files := nextstep.FilesIn(env["TIDINGS_STATE_DIR"])
	rec := files(c, "staging")
	if rec == nil {
		t.Fatalf("no start record of %s", c)
	}
	next := "tidings send " + rec.CampaignFile + " --env staging --resume-existing --skip-refused --skip-invalid --rejects " + filepath.Join(filepath.Dir(rec.CampaignFile), "rejects.csv")
	// The pause made before is said in the console's words, and neither
	// says to pause what is paused.
	// (by whom, at when: UTC, then why).
	by, paused := "paused meanwhile by alice at ", " UTC (fix the list): the pause stays once it is staged, and nothing else acts on it until then"
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"status", "--env", "staging"}, []string{"restaging-interrupted", "its staging again never finished, so no worker sends it; " + by, paused + ". Next: run the same send again as a re-staging: " + next}},
		{[]string{"status", c, "--env", "staging"}, []string{"RESTAGING-INTERRUPTED by " + bob + " at ", "its staging again never finished", "\nPause:    " + by, paused + "\n", next}},
	} {
		res := cli(t, env, tt.args...)
		for _, want := range tt.want {
			if res.code != 0 || !strings.Contains(res.stdout, want) {
				t.Errorf("%s: want exit 0 and %q\n%s", strings.Join(tt.args, " "), want, res)
			}
		}
		if strings.Contains(res.stdout, "tidings pause") {
			t.Errorf("%s: says to pause a campaign paused already\n%s", strings.Join(tt.args, " "), res)
		}
	}
	// On-call wants it stopped for good: the cancel is refused (exit 1),
	// saying why and what to run (nextstep.Staging), and nothing changes.
	if res := cli(t, env, "cancel", c, "--env", "staging", "--reason", "give up"); res.code != 1 || !strings.Contains(res.stderr, files.Staging("cancel", c, "staging", false)) || !strings.Contains(res.stderr, next) {
		t.Errorf("cancel of %s: want exit 1 saying %q\n%s", c, files.Staging("cancel", c, "staging", false), res)
	}
	if ctl, err := s.Control(ctx, c); err != nil || ctl.State != store.StatePaused || ctl.Reason != "fix the list" {
		t.Errorf("%s after the refused cancel: %+v, %v; want it paused as before", c, ctl, err)
	}
	res := cli(t, env, "status", c, "--env", "staging", "--json")
	var doc struct {
		State string `json:"state"`
		By    string `json:"by"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil || doc.State != string(store.StateRestagingInterrupted) || doc.By != bob {
		t.Errorf("status --json of %s: %v, %+v; want state %s by %s\n%s", c, err, doc, store.StateRestagingInterrupted, bob, res)
	}
	// What the refusal says to run stops it for good: paused, the
	// send run again stages it paused (nothing starts), and the
	// cancel then acts.
	file := writeCampaign(t, campaignFile{name: c, locales: filepath.Join(repoRoot(t), "testdata", "locales-incomplete"),
		rows: []string{"ada@example.org,Ada,en,1", "joao@example.org,João,pt,3", "bad-email,Bob,de,2"}})
	if res := cli(t, env, "send", file, "--env", "staging", "--resume-existing", "--skip-refused", "--skip-invalid", "--rejects", filepath.Join(filepath.Dir(file), "rejects.csv")); res.code != 0 {
		t.Fatalf("the send run again as a re-staging: want exit 0\n%s", res)
	}
	if ctl, err := s.Control(ctx, c); err != nil || ctl.State != store.StatePaused {
		t.Errorf("%s staged again: %+v, %v; want it paused (the pause stays)", c, ctl, err)
	}
	if res := cli(t, env, "cancel", c, "--env", "staging", "--reason", "give up"); res.code != 0 || !strings.Contains(res.stdout, "Cancelled "+c) {
		t.Errorf("cancel once staged: want exit 0, Cancelled %s\n%s", c, res)
	}
}

// interruptRestaging pauses campaign c (alice: "fix the list"), then
// begins to stage it again (bob, on this host: the one whose start record
// the hints read; send --resume-existing) and stops that staging before
// its end, as an interrupted send leaves it. It returns who began it.
func interruptRestaging(t *testing.T, s *store.Store, c string) string {
	t.Helper()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := s.Pause(ctx, c, store.Actor{Who: "alice", Env: "staging"}, "fix the list"); err != nil {
		t.Fatal(err)
	}
	sg, err := s.NewStager(ctx, store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "staging", Who: "bob", Host: host, ChunkSize: 7, ResumeExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := sg.Add(ctx, store.Recipient{Line: 2, ID: "ada@example.org", Email: "ada@example.org", Lang: "en"}, 0, false); err != nil {
		t.Fatal(err)
	}
	sg.Abort(ctx) // its send stopped
	return "bob@" + host
}
