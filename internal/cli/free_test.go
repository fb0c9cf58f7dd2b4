package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestFreeThenSendAgainMailsNobodyTwice: end to end, with a real Redis,
// a real worker and a real SMTP server on loopback. A paused campaign is
// not freed (exit 1, saying its state and what to do). A done campaign:
// `tidings free` without --yes changes nothing; with --yes it saves the
// report (and refuses a report path that exists), frees it, and from then
// on status (of it and the list), doctor and send say that it was freed
// by tidings free, that Redis keeps its ledger (3 recipients), never that
// Redis lost it. Sent again with the saved report excluded, it ends done
// and nobody receives a second message.
func TestFreeThenSendAgainMailsNobodyTwice(t *testing.T) {
	t.Parallel()
	renv, rd := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{})
	env := merge(renv, smtpEnv(smtp))
	rows := []string{"ada@example.org,Ada,en,1", "bo@example.org,Bo,en,2", "cy@example.org,Cy,en,3"}
	file := writeCampaign(t, campaignFile{name: "freeme", rows: rows})
	held := writeCampaign(t, campaignFile{name: "held", rows: rows[:1]})
	for _, f := range []string{file, held} {
		if r := cli(t, env, "send", f, "--env", "staging"); r.code != 0 {
			t.Fatalf("send %s\n%s", f, r)
		}
	}
	if r := cli(t, env, "pause", "held", "--env", "staging", "--reason", "hold"); r.code != 0 {
		t.Fatalf("pause\n%s", r)
	}
	r := cli(t, env, "free", "held", "--env", "staging", "--yes")
	if r.code != 1 || !strings.Contains(r.stderr, `campaign "held" is paused: only a done or cancelled campaign is freed; nothing changed: wait until it is done, or cancel it first`) {
		t.Errorf("free of a paused campaign: want exit 1 saying it is paused and what to do\n%s", r)
	}
	_, log := startWorker(t, env)
	done := func(want int64) {
		t.Helper()
		wait.For(t, time.Minute, "the campaign to be done", func() bool {
			st := status(t, env, "freeme")
			return st.State == "done" && st.Counts["sent"]+st.Counts["skipped"] == want
		}, func() string { return cli(t, env, "status", "freeme", "--env", "staging").stdout + "\n" + log.String() })
	}
	done(3)
	if r := cli(t, env, "free", "freeme", "--env", "staging"); r.code != 0 || !strings.Contains(r.stdout, "Nothing was changed. To free it") {
		t.Fatalf("free without --yes\n%s", r)
	}
	if st := status(t, env, "freeme"); st.State != "done" {
		t.Fatalf("free without --yes changed the campaign: %s", st.State)
	}
	report := filepath.Join(t.TempDir(), "freeme.csv")
	if r := cli(t, env, "free", "freeme", "--env", "staging", "--yes", "--report-out", held); r.code != 2 || !strings.Contains(r.stderr, "exists: the report saved before the free is never written over an existing file") {
		t.Errorf("free over an existing report path: want exit 2\n%s", r)
	}
	r = cli(t, env, "free", "freeme", "--env", "staging", "--yes", "--report-out", report)
	if r.code != 0 || !strings.Contains(r.stdout, "report of freeme saved to "+report) || !strings.Contains(r.stdout, `freed campaign "freeme" (done) in environment staging: unlinked `) {
		t.Fatalf("free --yes\n%s", r)
	}
	const freed, ledger, lost = "was freed by 'tidings free' at ", "Redis keeps its ledger (3 recipients)", "Redis lost"
	for _, args := range [][]string{{"status", "freeme"}, {"free", "freeme", "--yes"}, {"send", file}} {
		r := cli(t, env, append(args, "--env", "staging")...)
		if r.code == 0 || !strings.Contains(r.stderr, freed) || !strings.Contains(r.stderr, ledger) || strings.Contains(r.stderr, lost) {
			t.Errorf("%s once freed: want it to say %q and %q, not %q\n%s", args[0], freed, ledger, lost, r)
		}
	}
	if r := cli(t, env, "send", file, "--env", "staging"); !strings.Contains(r.stderr, "--exclude-delivered "+report) {
		t.Errorf("send once freed does not name the saved report to exclude\n%s", r)
	}
	list := cli(t, env, "status", "--env", "staging")
	if !strings.Contains(list.stdout, "Freed by 'tidings free' (1 campaign(s) this host started in environment staging): freeme.") || strings.Contains(list.stdout, "Redis has no trace") {
		t.Errorf("the list of campaigns once freed\n%s", list)
	}
	c, ok := doctor.State(t.Context(), &environment.Environment{Name: "staging", StateDir: env["TIDINGS_STATE_DIR"], Redis: environment.Redis{URL: rd.URL}})
	if !ok || c.Status != doctor.Pass || !strings.Contains(c.Message, "Freed by 'tidings free'") {
		t.Errorf("doctor's campaign state once freed: %+v, %v; want a pass naming it freed", c, ok)
	}
	if r := cli(t, env, "send", file, "--env", "staging", "--exclude-delivered", report, "--rejects", filepath.Join(t.TempDir(), "rejects.csv")); r.code != 0 {
		t.Fatalf("send again, the saved report excluded\n%s", r)
	}
	done(3)
	var to []string
	for _, m := range smtp.Messages() {
		to = append(to, m.To...)
	}
	slices.Sort(to)
	if want := []string{"ada@example.org", "bo@example.org", "cy@example.org"}; !slices.Equal(to, want) {
		t.Errorf("messages went to %v; want one each to %v", to, want)
	}
}
