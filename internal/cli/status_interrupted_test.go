package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestStatusShowsAnInterruptedFirstStaging: a campaign whose first
// staging stopped before its end (its send interrupted, or failed) is in
// the list of its environment's campaigns, as staging-interrupted with
// what to run (golden), and status of it says the same, exit 0 (before,
// the list left it out, and status of it was an error, exit 2). One whose
// first staging runs is listed as being-staged.
func TestStatusShowsAnInterruptedFirstStaging(t *testing.T) {
	t.Parallel()
	env, r := redisEnv(t)
	stageCampaign(t, env, "whole")
	ctx := context.Background()
	sg, err := store.New(r.Client()).NewStager(ctx, store.StageConfig{Campaign: "halfway", Definition: []byte(`{}`), Hash: "h", Env: "staging", Who: "alice", Host: "box", ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	sg.Abort(ctx) // its send stopped
	busy, err := store.New(r.Client()).NewStager(ctx, store.StageConfig{Campaign: "busy", Definition: []byte(`{}`), Hash: "h", Env: "staging", Who: "bob", Host: "box2", ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Abort(ctx) // its send runs meanwhile
	res := cli(t, env, "status", "--env", "staging")
	if res.code != 0 {
		t.Fatalf("status list\n%s", res)
	}
	golden.Check(t, filepath.Join("testdata", "status-list-interrupted.golden"), res.stdout)
	res = cli(t, env, "status", "halfway", "--env", "staging")
	for _, want := range []string{"never finished", "STAGING-INTERRUPTED by alice@box at ", "run the same send again"} {
		if res.code != 0 || !strings.Contains(res.stdout, want) {
			t.Errorf("status of halfway: want exit 0 and %q\n%s", want, res)
		}
	}
	res = cli(t, env, "status", "halfway", "--env", "staging", "--json")
	var doc struct {
		State string `json:"state"`
		Env   string `json:"env"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil || doc.State != string(store.StateStagingInterrupted) || doc.Env != "staging" {
		t.Errorf("status --json of halfway: %v, %+v; want state %s, env staging\n%s", err, doc, store.StateStagingInterrupted, res)
	}
}
