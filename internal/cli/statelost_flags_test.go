package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestStateLostRefusalRepeatsTheFirstSendsFlags: a campaign with a
// refused row and an invalid one is sent with --skip-refused,
// --skip-invalid and --rejects; Redis loses it. The refusal's step 2 must
// be a command the operator can paste as it is and get the same campaign:
// with the flags the first send had (its start record keeps them). Pasted, it stages the campaign,
// where without --skip-* it would be refused ("not sending: 1 refused").
//
// Found in review: the refusal said "(with the --skip-refused,
// --skip-invalid the first send had)", which the start record did not
// keep, and the operator had to remember them.
func TestStateLostRefusalRepeatsTheFirstSendsFlags(t *testing.T) {
	t.Parallel()
	const name = "flags-lost"
	renv, rd := redisEnv(t)
	if rd.Embedded {
		t.Skip("Wipe needs a real redis-server")
	}
	env := merge(renv, smtpEnv(startSMTP(t, smtpcapture.Config{})))
	rows := append(rowsIn(2, "en", "de"), "refused@example.org,R,rm,1", "not-an-address,N,en,1")
	file := writeCampaign(t, campaignFile{name: name, rows: rows,
		batches: "  canary_per_locale: 1\n  approve_after_canary: true\n  interval: 0s"})
	rejects := filepath.Join(t.TempDir(), "rejects.csv")
	if r := cli(t, env, "send", file, "--env", "staging", "--skip-refused", "--skip-invalid", "--rejects", rejects); r.code != 0 {
		t.Fatalf("first send\n%s", r)
	}
	// The canary (one per language) goes; then Redis loses the campaign.
	stop, log := startWorker(t, env)
	waitState(t, env, name, "awaiting-approval", log)
	stop()
	if err := rd.Wipe(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Run again as status says (with the flags it had, as the operator
	// remembers them: the rejects elsewhere), it is refused.
	r := cli(t, env, "send", file, "--env", "staging", "--skip-refused", "--skip-invalid", "--rejects", filepath.Join(t.TempDir(), "again.csv"))
	m := regexp.MustCompile(`(?m)^  2\. tidings (send .*)$`).FindStringSubmatch(r.stderr)
	if r.code == 0 || m == nil {
		t.Fatalf("send after the loss: want the state-loss refusal with its step 2\n%s", r)
	}
	for _, w := range []string{"--skip-refused", "--skip-invalid", "--rejects " + rejects} {
		if !strings.Contains(m[1], w) {
			t.Errorf("step 2 is %q: want it to have %s, as the first send had", m[1], w)
		}
	}
	if err := os.Remove(rejects); err != nil {
		t.Fatal(err)
	}
	args := strings.Fields(m[1])
	if r := cli(t, env, args...); r.code != 0 || !strings.Contains(r.stdout, "Staged 2 recipients") {
		t.Fatalf("the refusal's step 2 pasted (tidings %s): want the campaign staged again\n%s", m[1], r)
	}
	if _, err := os.Stat(rejects); err != nil {
		t.Errorf("the pasted command wrote no rejects file where the first send wrote it: %v", err)
	}
}
