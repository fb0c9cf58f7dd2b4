package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRejectsOfAnotherEnvironmentKeptByPlanAndSend: plan and send with no
// row left out keep, and say they keep, the campaign's rejects file at
// their --rejects path when an earlier plan in another environment wrote
// it (the same campaign pinned to staging, then to production, run from
// one directory): deleting it lost staging's account of its rows.
func TestRejectsOfAnotherEnvironmentKeptByPlanAndSend(t *testing.T) {
	t.Parallel()
	env, _ := redisEnv(t)
	rejects := filepath.Join(t.TempDir(), "shared.rejects.csv")
	staging := writeCampaign(t, campaignFile{name: "shared", rows: []string{"ada@example.org,Ada,en,1", "not-an-address,Bob,en,1"}})
	if res := cli(t, env, "plan", staging, "--rejects", rejects); res.code != 1 {
		t.Fatalf("staging plan with an invalid row: want exit 1\n%s", res)
	}
	before, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	production := writeCampaign(t, campaignFile{name: "shared", env: "production", rows: []string{"ada@example.org,Ada,en,1"}})
	for _, args := range [][]string{
		{"plan", production, "--rejects", rejects},
		{"send", production, "--env", "production", "--confirm", "shared", "--dry-run", "--rejects", rejects},
	} {
		res := cli(t, env, args...)
		if b, err := os.ReadFile(rejects); res.code != 0 || err != nil || string(b) != string(before) {
			t.Errorf("%s in production with no row left out: exit %d, staging's rejects file %q, %v; want exit 0 and the file kept as it was\n%s", args[0], res.code, b, err, res)
		}
		if want := rejects + ":2: column \"env\": \"staging\": its rows are of environment staging, not of environment production"; !strings.Contains(res.stdout, want) || !strings.Contains(res.stdout, "was kept") {
			t.Errorf("%s: want it to say it kept the file and why (%q)\n%s", args[0], want, res)
		}
	}
}

// TestPlanWithoutEnvRecordsTheCampaignsEnvironment: plan without --env
// plans in the environment the campaign file pins (the only one it
// accepts), and its rejects file records it in column env: such a file is
// checked by a send in another environment like any other, never among
// the files that "record no environment" (README said a plan without
// --env left the column empty).
func TestPlanWithoutEnvRecordsTheCampaignsEnvironment(t *testing.T) {
	t.Parallel()
	env, _ := redisEnv(t)
	rejects := filepath.Join(t.TempDir(), "r.csv")
	file := writeCampaign(t, campaignFile{name: "noenv", env: "production", rows: []string{"ada@example.org,Ada,en,1", "not-an-address,Bob,en,1"}})
	res := cli(t, env, "plan", file, "--rejects", rejects)
	b, err := os.ReadFile(rejects)
	if res.code != 1 || err != nil || !strings.HasSuffix(string(b), ",noenv,production\n") || !strings.Contains(res.stdout, "Campaign noenv in environment production") {
		t.Errorf("plan without --env of a campaign pinned to production: exit %d, rejects file %q, %v; want exit 1 and its row naming environment production\n%s", res.code, b, err, res)
	}
}
