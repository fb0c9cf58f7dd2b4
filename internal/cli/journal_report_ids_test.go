package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestJournalReportOneRowPerMailboxWhoseIDChanged: Redis loses a campaign
// in which one recipient's message was refused by the relay (550). Before
// the recovery the operator adds an id column to the recipients file (the
// same people, the same addresses); `send --exclude-delivered` matches
// "by id and by mailbox identity", so the five delivered are skipped, and
// the sixth, whose mailbox is fixed meanwhile, is sent once. Every
// recipient has received exactly one message, and `report --journal`
// lists each of the six once, as sent.
//
// The promise (README, "When Redis loses a campaign"): `report --journal`
// "lists every recipient the journals mention, one row each (...; a
// delivery wins over any later line of the same recipient)", and "It is
// the report of a lost campaign"; docs/design.md: "a recipient is their
// mailbox".
//
// Red team 14b found seven rows for six recipients: the reader keyed rows
// by id alone, so the recipient who failed in the first run (under the
// id the address gave them) and was delivered in the recovery (under the
// new id) was two rows, one failed and one sent; an on-call engineer who
// followed `report --journal --outcome failed` would have mailed them
// twice. Rows are now keyed by mailbox (internal/report.ReadJournal).
func TestJournalReportOneRowPerMailboxWhoseIDChanged(t *testing.T) {
	t.Parallel()
	const name = "ids-added"
	var refuse atomic.Bool
	refuse.Store(true)
	renv, rd := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{Fault: func(rcpt string) error {
		if refuse.Load() && strings.EqualFold(rcpt, "r1-de@example.org") {
			return smtpcapture.Reject(550, "5.2.1 mailbox disabled")
		}
		return nil
	}})
	env := merge(renv, smtpEnv(smtp))
	rows := rowsIn(3, "en", "de")
	file := writeCampaign(t, campaignFile{name: name, rows: rows,
		batches: "  max_failure_rate: 0.5\n  interval: 0s", extra: "auto_pause:\n  error_rate: 0.5\n"})
	rejects := filepath.Join(t.TempDir(), "rejects.csv")
	stop, _ := sendUntil(t, env, file, name, "done")
	stop()

	// The loss; the file gets an id column; the mailbox is fixed.
	if err := rd.Wipe(t.Context()); err != nil {
		t.Fatal(err)
	}
	var withIDs []string
	for i, r := range rows {
		withIDs = append(withIDs, fmt.Sprintf("user-%d,%s", i+1, r))
	}
	fixture.Write(t, filepath.Join(filepath.Dir(file), "recipients.csv"), "id,email,name,locale,posts\n"+strings.Join(withIDs, "\n")+"\n")
	refuse.Store(false)
	journalDir := filepath.Join(env["TIDINGS_STATE_DIR"], "journal")
	r := cli(t, env, "send", file, "--env", "staging", "--exclude-delivered", journalDir, "--rejects", rejects)
	if r.code != 0 || !strings.Contains(r.stdout, "Excluding 5 recipients already delivered") {
		t.Fatalf("recovery\n%s", r)
	}
	stop, log := startWorker(t, env)
	waitState(t, env, name, "done", log)
	stop()
	per := map[string]int{}
	for _, m := range smtp.Messages() {
		for _, to := range m.To {
			per[strings.ToLower(to)]++
		}
	}
	for _, row := range rows {
		if email := strings.Split(row, ",")[0]; per[email] != 1 {
			t.Fatalf("%s received %d messages, want 1: %v", email, per[email], per)
		}
	}

	r = cli(t, env, "report", name, "--journal", journalDir, "--format", "json")
	var rep struct {
		Recipients []struct{ ID, Email, Outcome, Run string } `json:"recipients"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); r.code != 0 || err != nil {
		t.Fatalf("report --journal: %v\n%s", err, r)
	}
	rowsOf := map[string][]string{}
	for _, x := range rep.Recipients {
		k := strings.ToLower(x.Email)
		rowsOf[k] = append(rowsOf[k], fmt.Sprintf("%s (id %s, run %s)", x.Outcome, x.ID, x.Run))
	}
	for email, got := range rowsOf {
		if len(got) != 1 || !strings.HasPrefix(got[0], "sent ") {
			t.Errorf("report --journal: %s, who received one message, is %v; want one row, sent", email, got)
		}
	}
	if len(rep.Recipients) != len(rows) {
		t.Errorf("report --journal lists %d rows for %d recipients (%s)", len(rep.Recipients), len(rows), strings.TrimSpace(r.stderr))
	}
}
