package cli

import (
	"context"
	"strings"
	"testing"
)

// TestSendInterruptedBeforeStagingSaysNothingWasStaged: a send interrupted
// (Ctrl-C) before its staging began (here in its plan phase) exits 130
// saying that nothing was staged and that running the same send again is
// safe; it said "tidings: interrupted" and nothing more. Redis holds
// nothing of the campaign afterwards.
func TestSendInterruptedBeforeStagingSaysNothingWasStaged(t *testing.T) {
	t.Parallel()
	renv, _ := redisEnv(t)
	file := writeCampaign(t, campaignFile{name: "planned", rows: rowsIn(3, "en", "de")})
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // Ctrl-C before the plan has read the rows
	r := cliIn(t, ctx, renv, strings.NewReader(""), "send", file, "--env", "staging")
	want := "tidings: interrupted before staging: nothing of campaign \"planned\" was staged in environment staging (Redis was not written); running the same send again is safe: tidings send " + file + " --env staging"
	if r.code != 130 || strings.TrimSpace(r.stderr) != want {
		t.Errorf("exit %d, stderr %q; want 130 and %q", r.code, r.stderr, want)
	}
	if s := cli(t, renv, "status", "planned", "--env", "staging"); s.code != 2 || !strings.Contains(s.stderr, `campaign "planned" does not exist`) {
		t.Errorf("status after the interrupted send: want exit 2, campaign does not exist\n%s", s)
	}
}
