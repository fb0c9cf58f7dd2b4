package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestSecondLossAfterAReportRecoveryMailsNobodyTwice: Redis
// loses a campaign twice. The first time the journals are gone too (the
// disk went with the host), and the operator recovers from the report
// saved before the loss, as the refusal says ("only if every journal is
// gone: a report saved before the loss, --exclude-delivered report.csv").
// The recovery run skips the two canary recipients the report records as
// sent and mails the other four. Then Redis loses the campaign again
// (FLUSHALL after it is done), and the operator follows the refusal's
// instructions once more, word for word: `send ... --exclude-delivered
// <journal dir>`.
//
// The promise (README, "When Redis loses a campaign"): lost state is
// "detected, never re-sent blindly", and `send` of a lost campaign says
// "exactly what to run: To send to everyone not yet delivered, and to
// nobody twice: ... --exclude-delivered JOURNAL_DIR"; "Guarantees": at most
// once per recipient per campaign.
//
// What happens: the journals hold only the second run's four deliveries
// (a row skipped as already delivered is never journaled), so the third
// staging excludes four and stages the two canary recipients of the first
// run, who were mailed in it, as new: the worker mails them a second
// time. Nothing warns that the run being excluded itself excluded
// recipients from a report that was not given this time.
//
// Guessed cause: the exclusions a recovery applied live only in Redis
// (the skipped rows of the new run): internal/launch/record.go (Record
// has no field for what a run excluded, or which run it continues) and
// the worker's journal (internal/journal: only claims and outcomes) keep
// nothing of them outside Redis, so internal/launch/exclude.go
// LoadDelivered, reading the journal directory, cannot know of them;
// internal/cli/send.go stateLostText points at the journal directory
// alone.
//
// Now the recovery keeps what it excluded beside the launch record
// (<state dir>/campaigns/<name>.excluded.csv), which the next recovery on
// this machine reads by itself, and the run it stages says in its id that
// it excluded recipients no journal records, so that the same recovery
// from another machine with the journals alone is refused, naming that
// file.
func TestSecondLossAfterAReportRecoveryMailsNobodyTwice(t *testing.T) {
	t.Parallel()
	const name = "twice-lost"
	renv, rd := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{})
	env := merge(renv, smtpEnv(smtp))
	rows := rowsIn(3, "en", "de")
	file := writeCampaign(t, campaignFile{name: name, rows: rows,
		batches: "  canary_per_locale: 1\n  approve_after_canary: true\n  interval: 0s"})
	journalDir := filepath.Join(env["TIDINGS_STATE_DIR"], "journal")
	rejects := filepath.Join(t.TempDir(), "rejects.csv")

	// Run 1: the canary (one per language) goes, then the operator saves
	// the report while the campaign awaits approval.
	stop, log := sendUntil(t, env, file, name, "awaiting-approval")
	wait.For(t, time.Minute, "the canary's 2 messages", func() bool { return smtp.Count() == 2 }, log.String)
	stop()
	report := filepath.Join(t.TempDir(), "before.csv")
	if r := cli(t, env, "report", name, "--env", "staging", "--out", report); r.code != 0 {
		t.Fatalf("report\n%s", r)
	}

	// Loss 1: Redis and the journals are gone.
	if err := rd.Wipe(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(journalDir); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, env, "send", file, "--env", "staging"); r.code == 0 || !strings.Contains(r.stderr, "Redis lost its state") {
		t.Fatalf("send after the first loss: want the state-loss refusal\n%s", r)
	}
	r := cli(t, env, "send", file, "--env", "staging", "--exclude-delivered", report, "--rejects", rejects)
	if r.code != 0 || !strings.Contains(r.stdout, "Excluding 2 recipients already delivered") {
		t.Fatalf("recovery from the report\n%s", r)
	}
	stop, log = startWorker(t, env)
	toDone(t, env, name, log)
	stop()
	if got := smtp.Count(); got != len(rows) {
		t.Fatalf("after the first recovery the SMTP server received %d messages, want %d (one each)", got, len(rows))
	}

	// Loss 2: FLUSHALL after the campaign is done. The operator does what
	// send says.
	if err := rd.Wipe(t.Context()); err != nil {
		t.Fatal(err)
	}
	// From another machine, with every journal file copied there but not
	// the exclusions kept beside this machine's record, the recovery is
	// refused, naming the file to add: the journals hold a run that
	// excluded recipients a report recorded.
	other := filepath.Join(t.TempDir(), "journal")
	files, _ := filepath.Glob(filepath.Join(journalDir, name, "*.jsonl"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fixture.Write(t, filepath.Join(other, name, filepath.Base(f)), string(b))
	}
	hostB := merge(env, map[string]string{"TIDINGS_STATE_DIR": t.TempDir()})
	if r := cli(t, hostB, "send", file, "--env", "staging", "--exclude-delivered", other, "--rejects", rejects); r.code == 0 || !strings.Contains(r.stderr, name+".excluded.csv") {
		t.Fatalf("a recovery from another machine with the journals only: want it refused, naming %s.excluded.csv\n%s", name, r)
	}
	r = cli(t, env, "send", file, "--env", "staging")
	m := regexp.MustCompile(`--exclude-delivered (\S+)`).FindStringSubmatch(r.stderr)
	if r.code == 0 || m == nil {
		t.Fatalf("send after the second loss: want the state-loss refusal with its instructions\n%s", r)
	}
	t.Logf("the refusal says:\n%s", r.stderr)
	r = cli(t, env, "send", file, "--env", "staging", "--exclude-delivered", m[1], "--rejects", rejects)
	t.Logf("send --exclude-delivered %s:\n%s", m[1], r)
	if r.code == 0 {
		stop, log = startWorker(t, env)
		toDone(t, env, name, log)
		stop()
	}
	per := map[string]int{}
	for _, msg := range smtp.Messages() {
		for _, to := range msg.To {
			per[strings.ToLower(to)]++
		}
	}
	for to, n := range per {
		if n > 1 {
			t.Errorf("%s received %d messages of campaign %s", to, n, name)
		}
	}
}

// toDone waits until campaign name awaits approval or is done, approves it
// when it waits, and waits until it is done.
func toDone(t *testing.T, env map[string]string, name string, log *syncbuf.Buffer) {
	t.Helper()
	wait.For(t, time.Minute, name+" awaiting approval or done", func() bool {
		s := status(t, env, name).State
		return s == "awaiting-approval" || s == "done"
	}, log.String)
	if status(t, env, name).State == "awaiting-approval" {
		if r := cli(t, env, "approve", name, "--env", "staging"); r.code != 0 {
			t.Fatalf("approve\n%s", r)
		}
	}
	waitState(t, env, name, "done", log)
}
