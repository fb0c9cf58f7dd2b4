package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSendOfCampaignWhoseMetaRedisLostSaysCancelFirst: Redis lost the meta
// of a running campaign alone (an eviction, a DEL): its control, ledger
// and chunks stay, and status says to cancel it, then stage it again. A
// send run before the cancel is refused, exit 1 (a state loss, as the
// README's exit codes say), with the cancel to run first. Before, the
// send with --resume-existing said "Redis has no trace of it" and gave
// a send without the cancel (which the store then refused, exit 2), and
// the send with --none-delivered or --exclude-delivered got the store's
// refusal with exit 2.
// After the cancel, the send stages the campaign afresh.
func TestSendOfCampaignWhoseMetaRedisLostSaysCancelFirst(t *testing.T) {
	t.Parallel()
	env, rd := redisEnv(t)
	ctx := t.Context()
	file := writeCampaign(t, campaignFile{name: "metalostsend", rows: []string{"ada@example.org,Ada,en,1", "bob@example.org,Bob,en,2"}})
	if r := cli(t, env, "send", file, "--env", "staging", "--skip-refused"); r.code != 0 {
		t.Fatalf("first send\n%s", r)
	}
	rep := cli(t, env, "report", "metalostsend", "--env", "staging") // saved before the loss
	report := filepath.Join(t.TempDir(), "report.csv")
	if err := os.WriteFile(report, []byte(rep.stdout), 0o600); rep.code != 0 || err != nil {
		t.Fatalf("report: %v\n%s", err, rep)
	}
	if err := rd.Client().Unlink(ctx, "tidings:{metalostsend}:meta").Err(); err != nil {
		t.Fatal(err)
	}
	cancel := `tidings cancel metalostsend --env staging --reason "state loss"`
	for _, flags := range [][]string{{"--resume-existing"}, {"--resume-existing", "--none-delivered"}, {"--none-delivered"}, {"--resume-existing", "--exclude-delivered", report}} {
		r := cli(t, env, append([]string{"send", file, "--env", "staging", "--skip-refused"}, flags...)...)
		if r.code != 1 || !strings.Contains(r.stderr, cancel+")") || !strings.Contains(r.stderr, "Redis lost its meta") || strings.Contains(r.stderr, "no trace") {
			t.Errorf("send %v before the cancel: want exit 1, the meta's loss and the cancel to run first (%s)\n%s", flags, cancel, r)
		}
	}
	if r := cli(t, env, "cancel", "metalostsend", "--env", "staging", "--reason", "state loss"); r.code != 0 {
		t.Fatalf("cancel\n%s", r)
	}
	if r := cli(t, env, "send", file, "--env", "staging", "--skip-refused", "--resume-existing", "--none-delivered"); r.code != 0 || !strings.Contains(r.stdout, "Staged 2 recipients") {
		t.Fatalf("send after the cancel: want it staged\n%s", r)
	}
}
