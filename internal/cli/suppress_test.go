package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// suppressReport is what the suppression tests read of a JSON report.
type suppressReport struct {
	Recipients []struct {
		Line                           int
		Email, Outcome, Code, Response string
	} `json:"recipients"`
	Counts map[string]int64 `json:"counts"`
}

// perAddress counts the messages s received per recipient address,
// lower-cased.
func perAddress(s *smtpcapture.Server) map[string]int {
	per := map[string]int{}
	for _, m := range s.Messages() {
		for _, to := range m.To {
			per[strings.ToLower(to)]++
		}
	}
	return per
}

func reportJSON(t *testing.T, env map[string]string, name string) suppressReport {
	t.Helper()
	r := cli(t, env, "report", name, "--env", "staging", "--format", "json")
	var rep suppressReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); r.code != 0 || err != nil {
		t.Fatalf("report: %v\n%s", err, r)
	}
	return rep
}

// TestSuppressionListIsNeverMailed: an environment's suppression list
// (TIDINGS_SUPPRESSION_FILES, here its address in another case) and a
// send's own (--suppress, a CSV export with an email column) keep their
// addresses from being mailed, through a real Redis, worker and SMTP
// server: plan and send say how many rows each list suppressed, the
// report has every row of the file (its counts add up to them), the
// suppressed ones skipped with code suppressed and a reason naming the
// list's file and line, and status counts them.
func TestSuppressionListIsNeverMailed(t *testing.T) {
	t.Parallel()
	const name = "optout"
	renv, _ := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{})
	dir := t.TempDir()
	envList := filepath.Join(dir, "unsubscribed.txt")
	fixture.Write(t, envList, "# unsubscribed via the web form\nR1-EN@Example.ORG\n")
	sendList := filepath.Join(dir, "bounces.csv")
	fixture.Write(t, sendList, "at,email,why\n2026-11-30,r2-de@example.org,550 no such user\n")
	env := merge(renv, smtpEnv(smtp), map[string]string{"TIDINGS_SUPPRESSION_FILES": envList})
	rows := rowsIn(4, "en", "de")
	file := writeCampaign(t, campaignFile{name: name, rows: rows})

	rejects := filepath.Join(dir, "rejects.csv")
	p := cli(t, env, "plan", file, "--env", "staging", "--suppress", sendList, "--rejects", rejects)
	if p.code != 0 {
		t.Fatalf("plan\n%s", p)
	}
	contains(t, "plan", p.stdout, "8 rows: 6 accepted, 0 refused, 0 invalid, 2 skipped (suppressed)",
		"  "+envList+": 1 address, 1 row suppressed\n", "  "+sendList+": 1 address, 1 row suppressed\n")

	r := cli(t, env, "send", file, "--env", "staging", "--suppress", sendList, "--rejects", rejects)
	if r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	contains(t, "send", r.stdout, "Staged 6 recipients", "2 rows not sent (2 suppressed)", "  "+sendList+": 1 address, 1 row suppressed\n")
	stop, log := startWorker(t, env)
	waitState(t, env, name, "done", log)
	stop()

	per := perAddress(smtp)
	for _, to := range []string{"r1-en@example.org", "r2-de@example.org"} {
		if per[to] != 0 {
			t.Errorf("%s is on a suppression list and received %d message(s)", to, per[to])
		}
	}
	if smtp.Count() != 6 {
		t.Errorf("the SMTP server received %d messages, want 6", smtp.Count())
	}
	rep := reportJSON(t, env, name)
	var total int64
	for _, n := range rep.Counts {
		total += n
	}
	if len(rep.Recipients) != len(rows) || total != int64(len(rows)) || rep.Counts["sent"] != 6 || rep.Counts["skipped"] != 2 {
		t.Errorf("report: %d rows, counts %v adding up to %d; want %d rows, 6 sent, 2 skipped", len(rep.Recipients), rep.Counts, total, len(rows))
	}
	want := map[string]string{
		"r1-en@example.org": "on the suppression list " + envList + " (line 2)",
		"r2-de@example.org": "on the suppression list " + sendList + " (line 2)",
	}
	for _, x := range rep.Recipients {
		w, suppressed := want[x.Email]
		switch {
		case suppressed && (x.Outcome != "skipped" || x.Code != "suppressed" || !strings.HasPrefix(x.Response, w)):
			t.Errorf("report: %s is %s (%s: %s), want skipped, code suppressed, %q", x.Email, x.Outcome, x.Code, x.Response, w)
		case !suppressed && (x.Outcome != "sent" || per[x.Email] != 1):
			t.Errorf("report: %s is %s and received %d message(s)", x.Email, x.Outcome, per[x.Email])
		}
	}
	if st := status(t, env, name); st.Counts["skipped"] != 2 || st.Counts["sent"] != 6 {
		t.Errorf("status counts %v, want 6 sent and 2 skipped", st.Counts)
	}
}

// TestResumeExistingHonoursAGrownSuppressionList: after the canary went,
// two people opt out: one the canary mailed, one still pending. The list
// grows and the campaign is staged again with --resume-existing: the
// pending one is never mailed (skipped, suppressed), the one already
// mailed stays sent and gets nothing more, and the report accounts for
// every row.
func TestResumeExistingHonoursAGrownSuppressionList(t *testing.T) {
	t.Parallel()
	rows := rowsIn(3, "en", "de")
	c := canaryCancelled(t, "grown", rows, nil) // the canary sent r0-en and r0-de
	// The list, new since the first staging: r0-en was mailed by the
	// canary, r1-de and r2-en are pending.
	list := filepath.Join(t.TempDir(), "optout.txt")
	fixture.Write(t, list, "r2-en@example.org\nr0-en@example.org\nR1-DE@example.org\n")
	env := merge(c.env, map[string]string{"TIDINGS_SUPPRESSION_FILES": list})
	r := cli(t, env, "send", c.file, "--env", "staging", "--resume-existing", "--rejects", filepath.Join(t.TempDir(), "rejects.csv"))
	if r.code != 0 {
		t.Fatalf("send --resume-existing\n%s", r)
	}
	contains(t, "send --resume-existing", r.stdout, "6 rows: 3 accepted, 0 refused, 0 invalid, 3 skipped (suppressed)", "  "+list+": 3 addresses, 3 rows suppressed\n")
	per := c.approveToDone(t, "grown")
	if per["r0-en@example.org"] != 1 || per["r1-de@example.org"] != 0 || per["r2-en@example.org"] != 0 {
		t.Errorf("messages per address %v: want r0-en 1 (the canary's), r1-de and r2-en none", per)
	}
	if smtp := c.smtp.Count(); smtp != 4 {
		t.Errorf("the SMTP server received %d messages, want 4 (6 rows, 2 suppressed before they were mailed)", smtp)
	}
	rep := reportJSON(t, c.env, "grown")
	var total int64
	for _, n := range rep.Counts {
		total += n
	}
	if len(rep.Recipients) != len(rows) || total != int64(len(rows)) || rep.Counts["sent"] != 4 || rep.Counts["skipped"] != 2 {
		t.Errorf("report: %d rows, counts %v adding up to %d; want %d rows, 4 sent, 2 skipped", len(rep.Recipients), rep.Counts, total, len(rows))
	}
	for _, x := range rep.Recipients {
		switch x.Email {
		case "r0-en@example.org":
			if x.Outcome != "sent" {
				t.Errorf("report: r0-en, mailed by the canary and suppressed since, is %s (%s), want sent", x.Outcome, x.Response)
			}
		case "r1-de@example.org", "r2-en@example.org":
			if x.Outcome != "skipped" || x.Code != "suppressed" {
				t.Errorf("report: %s is %s (%s), want skipped, code suppressed", x.Email, x.Outcome, x.Code)
			}
		}
	}
	if st := status(t, c.env, "grown"); st.Counts["sent"] != 4 || st.Counts["skipped"] != 2 {
		t.Errorf("status counts %v, want 4 sent and 2 skipped", st.Counts)
	}
}

// listAndCampaign starts a Redis and writes campaign name of one en row
// (r0-en@example.org) and a suppression list holding body (its path, in
// a directory of its own).
func listAndCampaign(t *testing.T, name, body string) (renv map[string]string, list, file string) {
	t.Helper()
	renv, _ = redisEnv(t)
	list = filepath.Join(t.TempDir(), "optout.txt")
	fixture.Write(t, list, body)
	return renv, list, writeCampaign(t, campaignFile{name: name, rows: rowsIn(1, "en")})
}

// TestUnreadableSuppressionListStopsTheSend: a suppression list the
// environment names that cannot be read, or that holds a line without an
// address, stops plan and send (exit 2) before anything is staged: never
// send because the opt-out list could not be read.
func TestUnreadableSuppressionListStopsTheSend(t *testing.T) {
	t.Parallel()
	renv, bad, file := listAndCampaign(t, "closed", "ok@example.org\nnot an address\n")
	dir := filepath.Dir(bad)
	for list, want := range map[string]string{
		filepath.Join(dir, "missing.txt"): filepath.Join(dir, "missing.txt"),
		bad:                               bad + `:2: email: "not an address"`,
	} {
		env := merge(renv, map[string]string{"TIDINGS_SUPPRESSION_FILES": list})
		for _, cmd := range []string{"plan", "send"} {
			r := cli(t, env, cmd, file, "--env", "staging", "--rejects", filepath.Join(dir, "rejects.csv"))
			if r.code != 2 || !strings.Contains(r.stderr, want) {
				t.Errorf("%s with suppression list %s: want exit 2 naming %q\n%s", cmd, list, want, r)
			}
		}
	}
	if r := cli(t, renv, "status", "closed", "--env", "staging"); r.code == 0 {
		t.Errorf("the campaign was staged although its suppression list could not be read\n%s", r)
	}
}

// TestEveryRowSuppressedIsNoSend: a file whose every row is on a
// suppression list stages nothing, and send says why (exit 1).
func TestEveryRowSuppressedIsNoSend(t *testing.T) {
	t.Parallel()
	renv, list, file := listAndCampaign(t, "nobody", "r0-en@example.org\n")
	r := cli(t, renv, "send", file, "--env", "staging", "--suppress", list, "--rejects", filepath.Join(filepath.Dir(list), "rejects.csv"))
	if r.code != 1 || !strings.Contains(r.stderr, "no recipient to send to: every row was left out: 1 suppressed") {
		t.Errorf("send of a file whose every row is suppressed: want exit 1 saying so\n%s", r)
	}
}

// TestSuppressedRowStaysSkippedInItsCampaign: a line removed from the
// list after a campaign skipped its row does not make a re-staging of
// that campaign mail it: the ledger keeps the row skipped, as it keeps
// sent rows (fail safe); the report still says why.
func TestSuppressedRowStaysSkippedInItsCampaign(t *testing.T) {
	t.Parallel()
	renv, list, file := listAndCampaign(t, "kept", "r0-en@example.org\n")
	fixture.Write(t, filepath.Join(filepath.Dir(file), "recipients.csv"), "email,name,locale,posts\n"+strings.Join(rowsIn(2, "en"), "\n")+"\n")
	rejects := filepath.Join(filepath.Dir(list), "rejects.csv")
	if r := cli(t, renv, "send", file, "--env", "staging", "--suppress", list, "--rejects", rejects); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	if r := cli(t, renv, "pause", "kept", "--env", "staging", "--reason", "list edited"); r.code != 0 {
		t.Fatalf("pause\n%s", r)
	}
	if r := cli(t, renv, "send", file, "--env", "staging", "--resume-existing", "--rejects", rejects); r.code != 0 {
		t.Fatalf("send --resume-existing without the list\n%s", r)
	}
	found := false
	for _, x := range reportJSON(t, renv, "kept").Recipients {
		if x.Email == "r0-en@example.org" {
			found = true
			if x.Outcome != "skipped" || x.Code != "suppressed" {
				t.Errorf("report: r0-en, suppressed by the first staging, is %s (%s) after a re-staging without the list", x.Outcome, x.Code)
			}
		}
	}
	if !found {
		t.Error("the report has no row of r0-en")
	}
}

// TestRehearseSuppress: rehearse --suppress (repeatable) adds lists beside
// the environment's, as plan and send do: the rows of both are skipped,
// code suppressed, in the rehearsal's report, and nothing is captured for
// them.
func TestRehearseSuppress(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	envList := filepath.Join(dir, "unsubscribed.txt")
	fixture.Write(t, envList, "r0-en@example.org\n")
	extra := filepath.Join(dir, "bounces.txt")
	fixture.Write(t, extra, "R1-DE@example.org\n")
	env := map[string]string{"TIDINGS_SUPPRESSION_FILES": envList, "TIDINGS_STATE_DIR": t.TempDir()}
	file := writeCampaign(t, campaignFile{name: "rehearse-optout", rows: rowsIn(2, "en", "de")})
	out := filepath.Join(dir, "out")
	if r := cli(t, env, "rehearse", file, "--out", out, "--suppress", extra); r.code != 0 {
		t.Fatalf("rehearse\n%s", r)
	}
	report, err := os.ReadFile(filepath.Join(out, "report.csv"))
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for _, line := range strings.Split(string(report), "\n") {
		want := strings.Contains(line, "r0-en@") || strings.Contains(line, "r1-de@")
		if got := strings.Contains(line, ",skipped,suppressed,"); got != want {
			t.Errorf("report.csv: skipped as suppressed %v, want %v: %s", got, want, line)
		}
		if want {
			skipped++
		}
	}
	if skipped != 2 {
		t.Errorf("report.csv: %d suppressed rows, want 2\n%s", skipped, report)
	}
}

// TestPlanAndRehearseSuppressAlike (fx43f): plan and rehearse read the
// suppression lists through one path (launch.Plan: the environment's,
// TIDINGS_SUPPRESSION_FILES here, then the command's --suppress), so for
// the same files they skip the same rows: plan's count per list equals
// the rows rehearse's report holds as skipped, code suppressed, naming
// that list. A list named both ways is read once.
func TestPlanAndRehearseSuppressAlike(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	envList := filepath.Join(dir, "unsubscribed.txt")
	fixture.Write(t, envList, "# web form\nR0-EN@example.org\nr2-de@example.org\n")
	extra := filepath.Join(dir, "bounces.csv")
	fixture.Write(t, extra, "at,email\n2026-12-01,r1-de@example.org\n2026-12-01,r0-en@example.org\n")
	env := map[string]string{"TIDINGS_SUPPRESSION_FILES": envList, "TIDINGS_STATE_DIR": t.TempDir()}
	file := writeCampaign(t, campaignFile{name: "alike", rows: rowsIn(3, "en", "de")})

	p := cli(t, env, "plan", file, "--env", "staging", "--suppress", extra, "--suppress", envList, "--format", "json", "--rejects", filepath.Join(dir, "rejects.csv"))
	var sum struct {
		Skipped    int
		Suppressed []struct {
			File string
			Rows int
		}
	}
	if err := json.Unmarshal([]byte(p.stdout), &sum); p.code != 0 || err != nil {
		t.Fatalf("plan: %v\n%s", err, p)
	}
	planned := map[string]int{}
	for _, s := range sum.Suppressed {
		planned[s.File] += s.Rows
	}
	// r0-en is on both lists: the first, the environment's, skips it.
	if want := map[string]int{envList: 2, extra: 1}; len(sum.Suppressed) != 2 || planned[envList] != want[envList] || planned[extra] != want[extra] || sum.Skipped != 3 {
		t.Fatalf("plan suppressed %+v (%d skipped), want %v", sum.Suppressed, sum.Skipped, want)
	}

	out := filepath.Join(dir, "out")
	if r := cli(t, env, "rehearse", file, "--out", out, "--suppress", extra, "--suppress", envList); r.code != 0 {
		t.Fatalf("rehearse\n%s", r)
	}
	report, err := os.ReadFile(filepath.Join(out, "report.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rehearsed := map[string]int{}
	for _, line := range strings.Split(string(report), "\n") {
		if !strings.Contains(line, ",skipped,suppressed,") {
			continue
		}
		for _, l := range []string{envList, extra} {
			if strings.Contains(line, "on the suppression list "+l+" ") {
				rehearsed[l]++
			}
		}
	}
	for f, n := range planned {
		if rehearsed[f] != n {
			t.Errorf("%s: plan suppressed %d rows, rehearse %d\n%s", f, n, rehearsed[f], report)
		}
	}
}

// TestUnreadableSuppressFlagIsNamedAsTheFlag: a --suppress list of plan
// or send that cannot be read, or holds a line without an address, is
// named as the command's --suppress (exit 2, nothing staged), not as the
// environment's (which lists none of it here, or only a good one); the
// environment's own list that cannot be read is still named as its.
func TestUnreadableSuppressFlagIsNamedAsTheFlag(t *testing.T) {
	t.Parallel()
	renv, good, file := listAndCampaign(t, "flagged", "ok@example.org\n")
	dir := filepath.Dir(good)
	missing, bad := filepath.Join(dir, "missing.txt"), filepath.Join(dir, "bad.txt")
	fixture.Write(t, bad, "ok@example.org\nnot an address\n")
	withList := merge(renv, map[string]string{"TIDINGS_SUPPRESSION_FILES": good})
	for _, tc := range []struct {
		name, flag, want, not string
		env                   map[string]string
	}{
		{"missing, no list of the environment", missing, "tidings: --suppress " + missing + ": the file does not exist: check the path", "environment staging", renv},
		{"missing, beside the environment's", missing, "tidings: --suppress " + missing + ": the file does not exist: check the path", "environment staging", withList},
		{"a bad line", bad, "tidings: --suppress " + bad + `:2: email: "not an address"`, "environment staging", withList},
		{"the environment's missing", good, "environment staging: read suppression list: " + missing, "--suppress", merge(renv, map[string]string{"TIDINGS_SUPPRESSION_FILES": missing})},
	} {
		for _, cmd := range []string{"plan", "send"} {
			r := cli(t, tc.env, cmd, file, "--env", "staging", "--suppress", tc.flag, "--rejects", filepath.Join(dir, "rejects.csv"))
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, tc.not) {
				t.Errorf("%s: %s: want exit 2 saying %q, not %q\n%s", tc.name, cmd, tc.want, tc.not, r)
			}
		}
	}
	if r := cli(t, renv, "status", "flagged", "--env", "staging"); r.code == 0 {
		t.Errorf("the campaign was staged although a suppression list could not be read\n%s", r)
	}
}
