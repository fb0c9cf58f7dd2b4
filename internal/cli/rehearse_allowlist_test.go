package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRehearsalCountsTheAllowlistsRefusals: a rehearsal of a
// campaign pinned to an environment with an allowlist must count the rows
// the real send refuses there, as `plan` of the same file does, and must not
// show them as sent.
//
// The promise (README, "QA: sign off every language"): "`rehearse` answers
// "what would happen if we sent this now": plan, batches, worker and report
// in one process on an embedded Redis and SMTP server ... Its counts and its
// exit code include the rows the worker refused ..., not only the plan's";
// README, environments: "A non-production environment with `allow` refuses
// everyone else (`not-allowed-in-staging`), so staging can never mail real
// users"; `plan --env` help: "environment whose allowlist applies (default:
// the campaign's environment)". The package doc of internal/rehearsal:
// "Result.Notes says what was changed" to finish quickly; `rehearse`
// help: "no environment, Redis or SMTP server is needed ... refused and
// invalid rows are recorded as such (as send --skip-refused --skip-invalid
// would). It says all of this in its output." (needing no environment is
// not the same as ignoring the allowlist of the one the campaign is pinned
// to and that `plan` reads by default; the rehearsal does not say it
// ignored it).
//
// What happens: the campaign is pinned to `environment: staging`, whose
// allowlist (TIDINGS_ALLOW=example.org) admits ada@example.org only.
// `tidings plan` (the campaign's environment by default) refuses
// boss@real.example as not-allowed-in-staging and exits 1, and `send --env
// staging` would refuse him; `tidings rehearse` with the same variables
// reports "2 sent, 0 refused, 0 invalid", writes his message under
// mail/de/, says nothing of the allowlist in its notes and exits 0: QA is
// told the whole file goes out.
//
// The cause was: internal/rehearsal/rehearsal.go planned with
// b.LaunchInput(nil, ...) (no environment, so no allowlist), and
// internal/cli/rehearse.go:26 loads the campaign with load(), not
// a.loadCampaign(file, "") as plan and test-send do.
func TestRehearsalCountsTheAllowlistsRefusals(t *testing.T) {
	t.Parallel()
	env := map[string]string{"TIDINGS_ALLOW": "example.org", "TIDINGS_STATE_DIR": t.TempDir()}
	file := writeCampaign(t, campaignFile{name: "rt14e-allow", rows: []string{
		"ada@example.org,Ada,en,1",
		"boss@real.example,Jürg,de,3",
	}})

	p := cli(t, env, "plan", file, "--rejects", filepath.Join(t.TempDir(), "rejects.csv"))
	if p.code != 1 || !strings.Contains(p.stdout+p.stderr, "not-allowed-in-staging") {
		t.Fatalf("setup: plan (the campaign's environment, staging) must refuse boss@real.example as not-allowed-in-staging\n%s", p)
	}

	out := filepath.Join(t.TempDir(), "rehearse")
	r := cli(t, env, "rehearse", file, "--out", out)
	if !strings.Contains(r.stdout, "1 sent, 1 refused") {
		t.Errorf("rehearse does not count the row that plan and send refuse in the campaign's environment (want \"1 sent, 1 refused\")\n%s", r)
	}
	if r.code != 1 {
		t.Errorf("rehearse exit %d, want 1 (a refused recipient), as plan's for the same file", r.code)
	}
	_ = filepath.WalkDir(filepath.Join(out, "mail"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".eml") {
			if to := readEML(t, p).Header.Get("To"); strings.Contains(to, "boss@real.example") {
				t.Errorf("the rehearsal shows boss@real.example mailed (%s), whom the real send refuses: not on the allowlist of staging", p)
			}
		}
		return nil
	})
}
