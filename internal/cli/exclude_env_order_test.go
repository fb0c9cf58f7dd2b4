package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
)

// TestSendRefusesAnotherEnvironmentsJournalBeforeExcluding: send
// --exclude-delivered given a production journal in staging printed
// "Excluding 1 recipients already delivered" and only then refused the
// journal as another environment's: a claim of progress before the
// refusal, read in a log as "it excluded them" (fx35d). The refusal now
// comes first, and nothing of the exclusions is said.
func TestSendRefusesAnotherEnvironmentsJournalBeforeExcluding(t *testing.T) {
	t.Parallel()
	env, _ := redisEnv(t)
	file := writeCampaign(t, campaignFile{rows: []string{"ada@example.org,Ada,en,1"}})
	jdir := t.TempDir()
	w, err := journal.Open(journal.Config{Dir: jdir, Worker: "w1", Always: true, Env: "production"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(journal.Entry{Campaign: "c1", Run: "r1", ID: "ada@example.org", Email: "ada@example.org", Outcome: "sent"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := cli(t, env, "send", file, "--env", "staging", "--exclude-delivered", filepath.Join(jdir, "c1"))
	if r.code != 2 || !strings.Contains(r.stderr, `field "env": "production"`) {
		t.Fatalf("want exit 2 and the journal refused as production's\n%s", r)
	}
	if strings.Contains(r.stdout, "Excluding") {
		t.Errorf("send said it excluded recipients before it refused their journal:\n%s", r)
	}
	noCampaign(t, env, "staging")
}
