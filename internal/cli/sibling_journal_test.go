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
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestRecoveryWithASiblingJournalDirMailsNobodyTwice: two worker
// hosts, a journal directory each (the default, <state_dir>/journal). Host
// A's worker sends the canary, host B's the rest. Redis loses the campaign
// and host B is to be retired, so the operator copies its campaign
// directory next to host A's, as <journal dir>/<campaign>-hostB/ (one
// directory per host, to keep the files apart), and runs exactly what the
// refusal says: `send ... --exclude-delivered <journal dir>`.
//
// The promise (README, "When Redis loses a campaign"): journal files put
// where nothing reads them are refused, naming them — "a subdirectory
// holding journal files, below the campaign's directory or any directory
// of journal files given, is refused, naming it, and so is a journal file
// put in the journal directory beside <campaign>/ ... since nothing reads
// there"; the recovery sends "to everyone not yet delivered, and to nobody
// twice".
//
// What happens: the directory beside <campaign>/ holding the campaign's
// journal files is neither read nor refused. send excludes host A's two
// deliveries only, says nothing of host B's file, and stages host B's four
// recipients as new; host A's worker (which reads <journal
// dir>/<campaign>/ only) mails them a second time.
//
// Guessed cause: internal/journal/journal.go Files: stray() looks for
// *.jsonl files directly in the journal directory and nested() below the
// campaign's directory; no check looks into the journal directory's other
// subdirectories for files whose lines are the campaign's (Campaigns
// would tell), so a sibling copy is invisible to LoadDelivered
// (internal/launch/exclude.go) and to the workers' UnknownRuns alike.
//
// Now a directory beside the campaign's that holds its journal files is
// refused, naming it (journal.Files), as a stray file there is: already
// by the plain send after the loss (checkState cannot read the journal
// whole), which stages nothing; once the file is moved where the refusal
// says, the state-loss refusal and its --exclude-delivered recovery follow.
func TestRecoveryWithASiblingJournalDirMailsNobodyTwice(t *testing.T) {
	t.Parallel()
	const name = "two-hosts"
	renv, rd := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{})
	hostA := merge(renv, smtpEnv(smtp))
	hostB := merge(hostA, map[string]string{"TIDINGS_STATE_DIR": t.TempDir()})
	rows := rowsIn(3, "en", "de")
	file := writeCampaign(t, campaignFile{name: name, rows: rows,
		batches: "  canary_per_locale: 1\n  approve_after_canary: true\n  interval: 0s"})
	rejects := filepath.Join(t.TempDir(), "rejects.csv")

	// Host A sends the canary; host B, after the approval, the rest.
	stop, log := sendUntil(t, hostA, file, name, "awaiting-approval")
	wait.For(t, time.Minute, "the canary's 2 messages", func() bool { return smtp.Count() == 2 }, log.String)
	stop()
	if r := cli(t, hostA, "approve", name, "--env", "staging"); r.code != 0 {
		t.Fatalf("approve\n%s", r)
	}
	stop, log = startWorker(t, hostB)
	waitState(t, hostA, name, "done", log)
	stop()
	if got := smtp.Count(); got != len(rows) {
		t.Fatalf("%d messages before the loss, want %d", got, len(rows))
	}

	// The loss; host B's journal is copied beside host A's.
	if err := rd.Wipe(t.Context()); err != nil {
		t.Fatal(err)
	}
	journalA := filepath.Join(hostA["TIDINGS_STATE_DIR"], "journal")
	files, _ := filepath.Glob(filepath.Join(hostB["TIDINGS_STATE_DIR"], "journal", name, "*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("host B's journal: want one file, got %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fixture.Write(t, filepath.Join(journalA, name+"-hostB", filepath.Base(f)), string(b))
	}

	// The copy beside the campaign's directory is read by nobody: send
	// refuses to decide from a journal it cannot read whole, naming the
	// copy and where its files go, and stages nothing.
	sibling := filepath.Join(journalA, name+"-hostB")
	r := cli(t, hostA, "send", file, "--env", "staging")
	if r.code == 0 || !strings.Contains(r.stderr, sibling) || !strings.Contains(r.stderr, "move each file into") {
		t.Fatalf("send with a sibling journal copy: want a refusal naming %s and what to do\n%s", sibling, r)
	}
	if got := smtp.Count(); got != len(rows) {
		t.Fatalf("the refused send mailed: %d messages, want %d", got, len(rows))
	}

	// The operator does what it says: host B's file goes into the
	// campaign's own directory, keeping its name.
	for _, f := range files {
		if err := os.Rename(filepath.Join(sibling, filepath.Base(f)), filepath.Join(journalA, name, filepath.Base(f))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(sibling); err != nil {
		t.Fatal(err)
	}
	r = cli(t, hostA, "send", file, "--env", "staging")
	m := regexp.MustCompile(`--exclude-delivered (\S+)`).FindStringSubmatch(r.stderr)
	if r.code == 0 || m == nil {
		t.Fatalf("send after the loss: want the state-loss refusal with its instructions\n%s", r)
	}
	r = cli(t, hostA, "send", file, "--env", "staging", "--exclude-delivered", m[1], "--rejects", rejects)
	t.Logf("send --exclude-delivered %s:\n%s", m[1], r)
	if r.code == 0 {
		stop, log = startWorker(t, hostA)
		toDone(t, hostA, name, log)
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
	if len(per) != len(rows) {
		t.Errorf("%d recipients received the campaign, want all %d", len(per), len(rows))
	}
}
