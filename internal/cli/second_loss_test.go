package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/redistest"
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
// internal/cli/send.go stateLostText (now nextstep.StateLost) points at the journal directory
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

// TestRecoveryFromTheCampaignsOwnDirectoryMailsNobodyTwice: two worker
// hosts with a journal directory each. Host A's worker sends the canary,
// and the operator saves the report, which records the same two
// recipients as host A's journal. Redis loses the campaign; the operator
// recovers from the campaign's own journal directory (typed with a
// trailing slash) and the report; host B's worker sends the next canary.
// Redis loses it again, and host A is retired: its journal is copied to
// host B, as <journal dir>/<campaign>-hostA/ beside B's own, and the
// operator recovers on host B from <journal dir>/<campaign>/.
//
// Before: the sibling copy beside the campaign's directory given was
// neither read nor refused (journal.Files checked only the directory
// given), so host A's deliveries were not excluded and mailed again; and
// the first recovery's run was marked -excl although its report excluded
// nobody the journals did not, so host B's recovery from the journals,
// which hold every delivery, was refused for nothing.
//
// Now the copy is refused, naming it, nothing is staged; once it is moved
// where the refusal says, the journals alone recover the campaign, and
// every recipient is mailed exactly once.
func TestRecoveryFromTheCampaignsOwnDirectoryMailsNobodyTwice(t *testing.T) {
	t.Parallel()
	s := canaryThenReport(t, "own-dir")
	hostB, journalA, journalB, rejects := s.withHostB(t)

	// Loss 1: the recovery reads host A's campaign directory and the
	// report, which adds nobody: its run is not marked.
	s.wipe(t)
	r := cli(t, s.hostA, "send", s.file, "--env", "staging", "--exclude-delivered", filepath.Join(journalA, s.name)+string(os.PathSeparator),
		"--exclude-delivered", s.report, "--rejects", rejects)
	run := regexp.MustCompile(`\(run (\S+)\)`).FindStringSubmatch(r.stdout)
	if r.code != 0 || !strings.Contains(r.stdout, "Excluding 2 recipients already delivered") || run == nil {
		t.Fatalf("first recovery\n%s", r)
	}
	if strings.HasSuffix(run[1], "-excl") {
		t.Errorf("run %s of a recovery whose report records no more than the journals is marked", run[1])
	}
	s.nextCanary(t, hostB)

	// Loss 2: host A's journal copied beside host B's campaign directory.
	s.wipe(t)
	sibling := filepath.Join(journalB, s.name+"-hostA")
	files := s.copyJournal(t, journalA, sibling)
	own := filepath.Join(journalB, s.name)
	r = cli(t, hostB, "send", s.file, "--env", "staging", "--exclude-delivered", own+string(os.PathSeparator), "--rejects", rejects)
	if r.code != 2 || !strings.Contains(r.stderr, sibling) || !strings.Contains(r.stderr, "move each file into "+own) {
		t.Fatalf("recovery from %s/ with host A's journal beside it: want exit 2 naming %s and where its files go\n%s", own, sibling, r)
	}
	t.Logf("the recovery from %s/ says:\n%s", own, r.stderr)
	s.mailed(t, 4)
	for _, f := range files {
		if err := os.Rename(filepath.Join(sibling, filepath.Base(f)), filepath.Join(own, filepath.Base(f))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(sibling); err != nil {
		t.Fatal(err)
	}
	s.recoverAndFinish(t, hostB, "--exclude-delivered", own, "--rejects", rejects)
}

// TestMarkedRunNeedsItsExclusionsOnEveryMachine: host A's worker sends
// the canary and the report is saved; Redis loses the campaign and host A's
// journal goes with it, so the operator recovers from the report alone: the
// run is marked -excl, and host A keeps what it excluded beside its record.
// Host A's worker sends the next canary. On-call on host B re-stages the
// campaign (--resume-existing, a template fix, say): refused, since host
// B's state directory lacks the exclusions (its record would not name
// them), naming the file and where to copy it; copied, the re-staging goes
// through. Redis loses the campaign again, and a new host C recovers from
// host A's journal: with a report written from the journals, or the
// recovery's rejects file, it is refused, naming the file (neither lists
// the recipients the report excluded); with the full report saved from
// Redis, the campaign ends with every recipient mailed exactly once.
func TestMarkedRunNeedsItsExclusionsOnEveryMachine(t *testing.T) {
	t.Parallel()
	s := canaryThenReport(t, "excl-elsewhere")
	hostB, hostC := s.otherHost(t), s.otherHost(t)
	journalA := s.journal(s.hostA)
	tmp := t.TempDir()
	rejects, out := filepath.Join(tmp, "rejects.csv"), filepath.Join(tmp, "out.rejects.csv")

	// Loss 1, with host A's journal: recovery from the report alone.
	s.wipe(t)
	if err := os.RemoveAll(journalA); err != nil {
		t.Fatal(err)
	}
	r := cli(t, s.hostA, "send", s.file, "--env", "staging", "--exclude-delivered", s.report, "--rejects", rejects)
	run := regexp.MustCompile(`\(run (\S+-excl)\)`).FindStringSubmatch(r.stdout)
	if r.code != 0 || run == nil {
		t.Fatalf("recovery from the report: want a run marked -excl\n%s", r)
	}
	s.nextCanary(t, s.hostA)

	// Host B re-stages it.
	if r := cli(t, hostB, "pause", s.name, "--env", "staging", "--reason", "fix the template"); r.code != 0 {
		t.Fatalf("pause\n%s", r)
	}
	here := filepath.Join(hostB["TIDINGS_STATE_DIR"], "campaigns", s.name+".excluded.csv")
	r = cli(t, hostB, "send", s.file, "--env", "staging", "--resume-existing", "--rejects", out)
	if r.code != 2 || !strings.Contains(r.stderr, run[1]) || !strings.Contains(r.stderr, "copy that file to "+here) {
		t.Fatalf("re-staging run %s from host B without its exclusions: want exit 2 naming the run and %s\n%s", run[1], here, r)
	}
	t.Logf("the re-staging from host B says:\n%s", r.stderr)
	fixture.Write(t, here, fixture.Read(t, filepath.Join(s.hostA["TIDINGS_STATE_DIR"], "campaigns", s.name+".excluded.csv")))
	if r := cli(t, hostB, "send", s.file, "--env", "staging", "--resume-existing", "--rejects", out); r.code != 0 || !strings.Contains(r.stdout, "stays paused") {
		t.Fatalf("re-staging from host B with the exclusions copied\n%s", r)
	}
	full, fromJournals := filepath.Join(tmp, "full.csv"), filepath.Join(tmp, "journal.csv")
	if r := cli(t, hostB, "report", s.name, "--env", "staging", "--out", full); r.code != 0 {
		t.Fatalf("report\n%s", r)
	}
	if r := cli(t, s.hostA, "report", s.name, "--journal", journalA, "--out", fromJournals); r.code != 0 {
		t.Fatalf("report --journal\n%s", r)
	}

	// Loss 2: host C, with host A's journal collected.
	s.wipe(t)
	journalC := s.journal(hostC)
	s.copyJournal(t, journalA, filepath.Join(journalC, s.name))
	for _, partial := range []string{fromJournals, rejects} {
		r := cli(t, hostC, "send", s.file, "--env", "staging", "--exclude-delivered", journalC, "--exclude-delivered", partial, "--rejects", out)
		if r.code != 2 || !strings.Contains(r.stderr, partial) || !strings.Contains(r.stderr, s.name+".excluded.csv") {
			t.Errorf("recovery from the journals and %s: want exit 2 naming it and %s.excluded.csv\n%s", partial, s.name, r)
		}
		t.Logf("the recovery from the journals and %s says:\n%s", partial, r.stderr)
	}
	s.mailed(t, 4)
	s.recoverAndFinish(t, hostC, "--exclude-delivered", journalC, "--exclude-delivered", full, "--rejects", out)
}

// TestMarkedRunLostBeforeAnyWorkerNeedsItsExclusions: Redis loses a
// campaign after its canary, and so does host A's journal the lines of
// one of the two canary recipients (a journal that did not survive whole).
// Host A recovers from its journal and the report, with the workers still
// stopped, as the refusal says to: the report alone records that
// recipient, so the run is marked. Redis loses it again before any worker
// picked it up, so no worker's journal holds a file of that run. Host B,
// collecting host A's journal directory as the refusal says, must be
// refused from the journals alone, naming the run and host A's exclusions
// (before, it saw no marked run and staged that canary recipient as new:
// mailed twice); with those exclusions given, everyone is mailed exactly
// once.
func TestMarkedRunLostBeforeAnyWorkerNeedsItsExclusions(t *testing.T) {
	t.Parallel()
	s := canaryThenReport(t, "excl-unpicked")
	hostB, journalA, journalB, out := s.withHostB(t)
	s.wipe(t)
	files, _ := filepath.Glob(filepath.Join(journalA, s.name, "*.jsonl"))
	for _, f := range files { // one recipient's lines lost
		lines := strings.SplitAfter(fixture.Read(t, f), "\n")
		id := regexp.MustCompile(`"id":"[^"]+"`).FindString(lines[0])
		fixture.Write(t, f, strings.Join(slices.DeleteFunc(lines, func(l string) bool { return strings.Contains(l, id) }), ""))
	}
	r := cli(t, s.hostA, "send", s.file, "--env", "staging", "--exclude-delivered", journalA, "--exclude-delivered", s.report, "--rejects", out)
	run := regexp.MustCompile(`\(run (\S+-excl)\)`).FindStringSubmatch(r.stdout)
	if r.code != 0 || run == nil {
		t.Fatalf("recovery from the journal and the report: want a run marked -excl\n%s", r)
	}
	s.wipe(t) // before any worker ran
	s.copyJournal(t, journalA, filepath.Join(journalB, s.name))
	r = cli(t, hostB, "send", s.file, "--env", "staging", "--exclude-delivered", journalB, "--rejects", out)
	if r.code == 0 {
		stop, log := startWorker(t, hostB)
		toDone(t, hostB, s.name, log)
		stop()
		mailedOnce(t, s.smtp, s.name, s.rows)
		t.Fatalf("recovery on host B from the journals alone: want exit 2 naming run %s and %s.excluded.csv\n%s", run[1], s.name, r)
	}
	if r.code != 2 || !strings.Contains(r.stderr, run[1]) || !strings.Contains(r.stderr, s.name+".excluded.csv") {
		t.Errorf("recovery on host B from the journals alone: want exit 2 naming run %s and %s.excluded.csv\n%s", run[1], s.name, r)
	}
	s.mailed(t, 2)
	s.recoverAndFinish(t, hostB, "--exclude-delivered", journalB, "--exclude-delivered",
		filepath.Join(s.hostA["TIDINGS_STATE_DIR"], "campaigns", s.name+".excluded.csv"), "--rejects", out)
}

// lossScene is a campaign of 6 recipients (3 in en, 3 in de) whose canary
// of one per language waits for approval, staged in staging from host A,
// with the SMTP server every host's worker sends to.
type lossScene struct {
	name, file, report string
	rows               []string
	rd                 *redistest.Redis
	smtp               *smtpcapture.Server
	hostA              map[string]string
}

// canaryThenReport sends campaign name from host A until its canary's 2
// messages went, stops the worker, and saves the report (s.report).
func canaryThenReport(t *testing.T, name string) *lossScene {
	t.Helper()
	renv, rd := redisEnv(t)
	s := &lossScene{name: name, rows: rowsIn(3, "en", "de"), rd: rd, smtp: startSMTP(t, smtpcapture.Config{}), report: filepath.Join(t.TempDir(), "before.csv")}
	s.hostA = merge(renv, smtpEnv(s.smtp))
	s.file = writeCampaign(t, campaignFile{name: name, rows: s.rows,
		batches: "  canary_per_locale: 1\n  approve_after_canary: true\n  interval: 0s"})
	stop, log := sendUntil(t, s.hostA, s.file, name, "awaiting-approval")
	wait.For(t, time.Minute, "the canary's 2 messages", func() bool { return s.smtp.Count() == 2 }, log.String)
	stop()
	if r := cli(t, s.hostA, "report", name, "--env", "staging", "--out", s.report); r.code != 0 {
		t.Fatalf("report\n%s", r)
	}
	return s
}

// otherHost returns the variables of another machine: the same Redis and
// SMTP server, a state directory (and journal) of its own.
func (s *lossScene) otherHost(t *testing.T) map[string]string {
	return merge(s.hostA, map[string]string{"TIDINGS_STATE_DIR": t.TempDir()})
}

// withHostB returns the variables of another machine (otherHost), the
// journal directories of host A and of it, and a rejects file's path.
func (s *lossScene) withHostB(t *testing.T) (hostB map[string]string, journalA, journalB, rejects string) {
	hostB = s.otherHost(t)
	return hostB, s.journal(s.hostA), s.journal(hostB), filepath.Join(t.TempDir(), "rejects.csv")
}

// journal is the journal directory of the host with variables env.
func (s *lossScene) journal(env map[string]string) string {
	return filepath.Join(env["TIDINGS_STATE_DIR"], "journal")
}

// wipe makes Redis lose everything.
func (s *lossScene) wipe(t *testing.T) {
	t.Helper()
	if err := s.rd.Wipe(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// nextCanary runs a worker on the host with variables env until a
// recovery's canary (2 more messages) went and the campaign awaits
// approval.
func (s *lossScene) nextCanary(t *testing.T, env map[string]string) {
	t.Helper()
	stop, log := startWorker(t, env)
	wait.For(t, time.Minute, "the second canary's messages", func() bool { return s.smtp.Count() == 4 }, log.String)
	waitState(t, env, s.name, "awaiting-approval", log)
	stop()
}

// copyJournal copies the campaign's journal files in journal directory
// from into directory to, and returns them.
func (s *lossScene) copyJournal(t *testing.T, from, to string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(from, s.name, "*.jsonl"))
	if len(files) == 0 {
		t.Fatalf("%s holds no journal file of %s", from, s.name)
	}
	for _, f := range files {
		fixture.Write(t, filepath.Join(to, filepath.Base(f)), fixture.Read(t, f))
	}
	return files
}

// mailed checks that the SMTP server received n messages.
func (s *lossScene) mailed(t *testing.T, n int) {
	t.Helper()
	if got := s.smtp.Count(); got != n {
		t.Fatalf("the SMTP server received %d messages, want %d", got, n)
	}
}

// recoverAndFinish runs send with args on the host with variables env,
// which must exclude every recipient already mailed, runs that host's
// worker until the campaign is done, and checks that every recipient was
// mailed exactly once.
func (s *lossScene) recoverAndFinish(t *testing.T, env map[string]string, args ...string) {
	t.Helper()
	r := cli(t, env, append([]string{"send", s.file, "--env", "staging"}, args...)...)
	if n := s.smtp.Count(); r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("Excluding %d recipients already delivered", n)) {
		t.Fatalf("send %s: want the %d recipients mailed excluded\n%s", strings.Join(args, " "), n, r)
	}
	stop, log := startWorker(t, env)
	toDone(t, env, s.name, log)
	stop()
	mailedOnce(t, s.smtp, s.name, s.rows)
}

// mailedOnce checks that every recipient of rows (CSV lines, email first)
// received exactly one message of campaign name.
func mailedOnce(t *testing.T, smtp *smtpcapture.Server, name string, rows []string) {
	t.Helper()
	per := map[string]int{}
	for _, msg := range smtp.Messages() {
		for _, to := range msg.To {
			per[strings.ToLower(to)]++
		}
	}
	for _, row := range rows {
		email, _, _ := strings.Cut(row, ",")
		if n := per[strings.ToLower(email)]; n != 1 {
			t.Errorf("%s received %d messages of campaign %s, want exactly one", email, n, name)
		}
	}
}
