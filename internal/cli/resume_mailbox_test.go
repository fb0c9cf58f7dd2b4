package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestResumeExistingMatchesByMailbox: an operator cancels a campaign after
// its canary ("wrong recipients file"), fixes the file by adding an id
// column (the same people, the same addresses), and runs `send
// --resume-existing`, which never re-sends anyone sent. A recipient *is*
// their mailbox: the two canary recipients, whose ids changed from their
// address to the new column, keep their earlier outcome under the new id
// and are not mailed again, and send says so. (Found by a red team: the
// staging kept earlier outcomes by id only, and mailed both twice.)
func TestResumeExistingMatchesByMailbox(t *testing.T) {
	t.Parallel()
	rows := rowsIn(3, "en", "de")
	c := canaryCancelled(t, "fixfile", rows, nil)
	env, smtp, file := c.env, c.smtp, c.file

	// The fix: the same rows, with an id column in front.
	var fixed []string
	for i, r := range rows {
		fixed = append(fixed, fmt.Sprintf("user-%d,%s", i+1, r))
	}
	fixture.Write(t, c.recipients, "id,email,name,locale,posts\n"+strings.Join(fixed, "\n")+"\n")
	r := cli(t, env, "send", file, "--env", "staging", "--resume-existing")
	if r.code != 0 {
		t.Fatalf("send --resume-existing\n%s", r)
	}
	contains(t, "send --resume-existing", r.stdout,
		"2 recipients keep their earlier outcome", "2 of them have a new id: matched by address")
	// The canary goes again (its approval is asked again), then the rest
	// once approved.
	per := c.approveToDone(t, "fixfile")
	var twice []string
	for to, n := range per {
		if n > 1 {
			twice = append(twice, fmt.Sprintf("%s (%d)", to, n))
		}
	}
	if len(twice) > 0 || smtp.Count() != len(rows) {
		t.Errorf("%d messages for %d recipients; received more than once: %v\n%s", smtp.Count(), len(rows), twice, r)
	}
	checkReport(t, env, "fixfile", per, len(rows))
}

// TestResumeExistingRefusesAnIDOfAnotherMailbox: the mirror case. The
// file's ids are its own (user-1 ...); after the canary, the operator
// replaces the address of user-1, who was sent, by another person's.
// Keeping user-1's outcome would report the new address as sent although
// the SMTP server never received a message for it; sending to it would
// leave the ledger, the report and the journals disagreeing about who
// user-1 is. The re-staging is refused with the file, line and field and
// what to do, and the campaign stays as it was (cancelled); once the new
// person has an id of their own, they are mailed once, and nobody twice.
func TestResumeExistingRefusesAnIDOfAnotherMailbox(t *testing.T) {
	t.Parallel()
	rows := rowsIn(3, "en", "de")
	var recipients string
	write := func(firstID, firstEmail string) {
		var out []string
		for i, r := range rows {
			id := fmt.Sprintf("user-%d", i+1)
			if i == 0 {
				id, r = firstID, firstEmail+strings.TrimPrefix(r, "r0-en@example.org")
			}
			out = append(out, id+","+r)
		}
		fixture.Write(t, recipients, "id,email,name,locale,posts\n"+strings.Join(out, "\n")+"\n")
	}
	c := canaryCancelled(t, "reused", rows, func(path string) {
		recipients = path
		write("user-1", "r0-en@example.org")
	})
	env, smtp, file := c.env, c.smtp, c.file

	write("user-1", "newcomer@example.org") // user-1 was sent as r0-en@example.org
	r := cli(t, env, "send", file, "--env", "staging", "--resume-existing")
	if r.code != 2 {
		t.Fatalf("send --resume-existing with user-1 given to another address: want exit 2\n%s", r)
	}
	contains(t, "the refusal", r.stderr,
		recipients+`:2: id: "user-1" was staged before for r0-en@example.org, whose outcome is sent; this row is newcomer@example.org`,
		"Nothing was started", "Give each of these rows an id campaign reused has not used for another address")
	if st := status(t, env, "reused"); st.State != "cancelled" {
		t.Errorf("after the refusal the campaign is %s, want cancelled as it was", st.State)
	}

	write("user-7", "newcomer@example.org")
	if r = cli(t, env, "send", file, "--env", "staging", "--resume-existing"); r.code != 0 {
		t.Fatalf("send --resume-existing with an id of its own\n%s", r)
	}
	per := c.approveToDone(t, "reused")
	if per["newcomer@example.org"] != 1 || per["r0-en@example.org"] != 1 || smtp.Count() != len(rows)+1 {
		t.Errorf("%d messages (want %d), per address %v", smtp.Count(), len(rows)+1, per)
	}
	checkReport(t, env, "reused", per, len(rows))
}

// cancelledCanary is a campaign whose canary was sent, then cancelled,
// with the worker still running until stop.
type cancelledCanary struct {
	env              map[string]string
	smtp             *smtpcapture.Server
	file, recipients string
	stop             func() int
	log              *syncbuf.Buffer
}

// canaryCancelled sends campaign name of rows (one per language in the
// canary, approval asked for), waits for the canary's two messages and
// cancels it. ids, when set, writes the recipients file first (its path).
func canaryCancelled(t *testing.T, name string, rows []string, ids func(recipients string)) cancelledCanary {
	t.Helper()
	renv, _ := redisEnv(t)
	c := cancelledCanary{smtp: startSMTP(t, smtpcapture.Config{})}
	c.env = merge(renv, smtpEnv(c.smtp))
	c.file = writeCampaign(t, campaignFile{name: name, rows: rows,
		batches: "  canary_per_locale: 1\n  approve_after_canary: true\n  interval: 0s"})
	c.recipients = filepath.Join(filepath.Dir(c.file), "recipients.csv")
	if ids != nil {
		ids(c.recipients)
	}
	c.stop, c.log = sendUntil(t, c.env, c.file, name, "awaiting-approval")
	wait.For(t, time.Minute, "the canary's 2 messages", func() bool { return c.smtp.Count() == 2 }, c.log.String)
	if r := cli(t, c.env, "cancel", name, "--env", "staging", "--reason", "wrong recipients file"); r.code != 0 {
		t.Fatalf("cancel\n%s", r)
	}
	return c
}

// approveToDone waits for campaign name (staged again) to await approval,
// approves it, waits until it is done, stops the worker, and counts the
// messages received per address.
func (c cancelledCanary) approveToDone(t *testing.T, name string) map[string]int {
	t.Helper()
	waitState(t, c.env, name, "awaiting-approval", c.log)
	if r := cli(t, c.env, "approve", name, "--env", "staging"); r.code != 0 {
		t.Fatalf("approve\n%s", r)
	}
	waitState(t, c.env, name, "done", c.log)
	c.stop()
	return perAddress(c.smtp)
}

// checkReport checks that campaign name's report has rows rows, every one
// sent, each to an address that received exactly one message.
func checkReport(t *testing.T, env map[string]string, name string, per map[string]int, rows int) {
	t.Helper()
	r := cli(t, env, "report", name, "--env", "staging", "--format", "json")
	var rep struct {
		Recipients []struct{ ID, Email, Outcome string } `json:"recipients"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); r.code != 0 || err != nil {
		t.Fatalf("report: %v\n%s", err, r)
	}
	if len(rep.Recipients) != rows {
		t.Errorf("the report has %d rows, want %d\n%s", len(rep.Recipients), rows, r.stdout)
	}
	for _, x := range rep.Recipients {
		if x.Outcome != "sent" || per[strings.ToLower(x.Email)] != 1 {
			t.Errorf("report: %s (%s) is %s, and received %d message(s)", x.ID, x.Email, x.Outcome, per[strings.ToLower(x.Email)])
		}
	}
}
