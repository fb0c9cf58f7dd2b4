package cli

import (
	"encoding/csv"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestJournalReportAgreesWithRedisWhenRetriesRunOut: `report --journal`
// is "the report of a lost campaign" (README, "When Redis loses a
// campaign": it "lists every recipient the journals mention, one row each
// (id, email, lang, outcome, ...)"), and a temporary failure is "retried
// with backoff (retry.backoff, doubling, retry.max_attempts), then failed"
// (README, "Sending semantics"). So for a campaign Redis still has, the
// journals' report gives each recipient the outcome Redis's report gives:
// a recipient whose one allowed attempt (retry.max_attempts: 1) got 451 is
// failed in both.
//
// Red team 14b found it pending in `report --journal`: the worker
// journaled every temporary failure as "temp", which the reader takes as
// pending, even on the last attempt the ledger records as failed. The
// worker now journals what the ledger records (run.journaled).
func TestJournalReportAgreesWithRedisWhenRetriesRunOut(t *testing.T) {
	t.Parallel()
	const name = "retries-out"
	renv, _ := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{Fault: func(rcpt string) error {
		if strings.EqualFold(rcpt, "r1-en@example.org") {
			return smtpcapture.Reject(451, "4.3.0 try later")
		}
		return nil
	}})
	env := merge(renv, smtpEnv(smtp))
	file := writeCampaign(t, campaignFile{name: name, rows: rowsIn(3, "en", "de"),
		batches: "  max_failure_rate: 0.5\n  interval: 0s",
		extra:   "auto_pause:\n  error_rate: 0.5\nretry:\n  max_attempts: 1\n"})
	stop, _ := sendUntil(t, env, file, name, "done")
	stop()

	outcomes := func(args ...string) map[string]string {
		t.Helper()
		r := cli(t, env, append([]string{"report", name}, args...)...)
		recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		if r.code != 0 || err != nil || len(recs) == 0 {
			t.Fatalf("report %v: %v\n%s", args, err, r)
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		out := map[string]string{}
		for _, rec := range recs[1:] {
			out[rec[col["email"]]] = rec[col["outcome"]]
		}
		return out
	}
	redis := outcomes("--env", "staging")
	if redis["r1-en@example.org"] != "failed" {
		t.Fatalf("report --env: r1-en@example.org is %q, want failed (its one attempt got 451): %v", redis["r1-en@example.org"], redis)
	}
	journals := outcomes("--journal", filepath.Join(env["TIDINGS_STATE_DIR"], "journal"))
	for email, want := range redis {
		if got := journals[email]; got != want {
			t.Errorf("%s: report --journal says %q, report --env says %q", email, got, want)
		}
	}
}
