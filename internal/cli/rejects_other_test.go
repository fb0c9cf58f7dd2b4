package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanKeepsAnotherCampaignsRejectsFile: an operator keeps
// one rejects file for the night (`--rejects /ops/tonight.rejects.csv`).
// `tidings plan alpha.yaml --rejects FILE` writes alpha's invalid row there
// (with its campaign column, alpha). Then `tidings plan beta.yaml --rejects
// FILE` for another campaign, beta, which has no refused or invalid row.
//
// The README: plan writes every refused and invalid row to the rejects file
// ("--rejects FILE writes them elsewhere; send writes the same file; a
// later plan with none removes it": the campaign's own, now untrue), and
// the rejects file names its campaign "so that send --exclude-delivered
// knows whose it is" (a rejects file of a recovery holds the rows it
// skipped as already delivered, and is read back by --exclude-delivered).
//
// Found by red team 10: beta's plan deleted alpha's rejects file, rows and
// all, though none of them was beta's. The cause:
// internal/plan/text.go Summary.WriteRejectsFile removes any file at the
// path that begins with the rejects header, without looking at its
// campaign column.
func TestPlanKeepsAnotherCampaignsRejectsFile(t *testing.T) {
	t.Parallel()
	rejects := filepath.Join(t.TempDir(), "tonight.rejects.csv")
	alpha := writeCampaign(t, campaignFile{name: "alpha", rows: []string{"ada@example.org,Ada,en,1", "not-an-address,Bo,en,2"}})
	beta := writeCampaign(t, campaignFile{name: "beta", rows: []string{"cy@example.org,Cy,en,1"}})
	if r := cli(t, nil, "plan", alpha, "--rejects", rejects); r.code != exitProblems {
		t.Fatalf("plan alpha: want exit 1 (one invalid row)\n%s", r)
	}
	before, err := os.ReadFile(rejects)
	if err != nil || !strings.Contains(string(before), "not-an-address") || !strings.Contains(string(before), ",alpha") {
		t.Fatalf("alpha's rejects file: %v\n%s", err, before)
	}
	if r := cli(t, nil, "plan", beta, "--rejects", rejects); r.code != 0 {
		t.Fatalf("plan beta\n%s", r)
	}
	after, err := os.ReadFile(rejects)
	if err != nil || string(after) != string(before) {
		t.Errorf("beta's plan (no rejected row) removed or changed alpha's rejects file %s: %v\nbefore:\n%s\nafter:\n%s", rejects, err, before, after)
	}
}
