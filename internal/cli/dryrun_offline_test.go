package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/freeport"
)

// TestSendDryRunNeedsNeitherRedisNorSMTP holds the README's word on `send
// --dry-run` (Operator's walk-through, step 4): it renders every message
// and touches neither Redis nor SMTP, so it runs with both unreachable,
// and it writes the rejects file as plan does.
func TestSendDryRunNeedsNeitherRedisNorSMTP(t *testing.T) {
	t.Parallel()
	smtpHost, smtpPort := closedPort(t)
	env := map[string]string{
		"TIDINGS_REDIS_URL": fmt.Sprintf("redis://%s/0", freeport.Closed(t)),
		"TIDINGS_SMTP_HOST": smtpHost,
		"TIDINGS_SMTP_PORT": strconv.Itoa(smtpPort),
		"TIDINGS_STATE_DIR": t.TempDir(),
	}
	file := writeCampaign(t, campaignFile{rows: []string{"ada@example.org,Ada,en,1", "juerg@example.org,Jürg,de-CH,3", "nope,No,en,1"}})
	rejects := filepath.Join(filepath.Dir(file), "rejects.csv")
	r := cli(t, env, "send", file, "--env", "staging", "--skip-invalid", "--dry-run", "--rejects", rejects)
	if r.code != 0 || !strings.Contains(r.stdout, "Dry run: rendered 2 messages (de 1, en 1); nothing was queued or delivered.") {
		t.Fatalf("send --dry-run with Redis and SMTP unreachable: want exit 0 and the dry run's line\n%s", r)
	}
	b, err := os.ReadFile(rejects)
	if err != nil || !strings.Contains(string(b), `"nope"`) {
		t.Errorf("send --dry-run: want the rejects file to hold the invalid row: %v\n%s", err, b)
	}
}
