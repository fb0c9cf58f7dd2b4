package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestStatusOnAWorkerHostSaysRedisLostWhatItsJournalHolds: a worker host
// keeps no start record (send ran elsewhere), only its delivery journal.
// Redis is flushed. `status --env` there must not say "No campaigns": its
// journal holds deliveries of a campaign Redis no longer has, so it says
// that state was lost and the recovery to run (send's refusal's command),
// and so does `doctor`, failing (exit 1) instead of "All checks passed".
func TestStatusOnAWorkerHostSaysRedisLostWhatItsJournalHolds(t *testing.T) {
	t.Parallel()
	const name = "worker-lost"
	env, _, journalDir := lostAfterCanary(t, name)
	// The worker host: its journal, no start record.
	if err := os.RemoveAll(filepath.Join(env["TIDINGS_STATE_DIR"], "campaigns")); err != nil {
		t.Fatal(err)
	}
	r := cli(t, env, "status", "--env", "staging")
	if r.code != 0 || strings.Contains(r.stdout, "No campaigns") {
		t.Fatalf("status on the worker host after the flush: want the lost campaign, not 'No campaigns'\n%s", r)
	}
	contains(t, "status", r.stdout, name, "Redis lost", "tidings send CAMPAIGN-FILE --env staging --exclude-delivered "+journalDir)
	r = cli(t, env, "doctor", "--env", "staging")
	if r.code != 1 || strings.Contains(r.stdout, "All checks passed") {
		t.Fatalf("doctor on the worker host after the flush: want a failed check, exit 1\n%s", r)
	}
	contains(t, "doctor", r.stdout, "FAIL  campaign state", name, "tidings send CAMPAIGN-FILE --env staging --exclude-delivered "+journalDir)
}

// lostAfterCanary sends campaign name (two recipients of en and of de, a
// canary of one each, approval after it) until a worker sent its canary,
// then wipes Redis: its start record and the delivery journal stay. It
// returns the variables, the campaign file and the journal directory.
func lostAfterCanary(t *testing.T, name string) (env map[string]string, file, journalDir string) {
	t.Helper()
	renv, rd := redisEnv(t)
	if rd.Embedded {
		t.Skip("Wipe needs a real redis-server")
	}
	env = merge(renv, smtpEnv(startSMTP(t, smtpcapture.Config{})))
	file = writeCampaign(t, campaignFile{name: name, rows: rowsIn(2, "en", "de"),
		batches: "  canary_per_locale: 1\n  approve_after_canary: true\n  interval: 0s"})
	stop, _ := sendUntil(t, env, file, name, "awaiting-approval")
	stop()
	if err := rd.Wipe(t.Context()); err != nil {
		t.Fatal(err)
	}
	return env, file, filepath.Join(env["TIDINGS_STATE_DIR"], "journal")
}
