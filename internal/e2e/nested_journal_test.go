package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/wait"
)

// TestRecoveryWithANestedJournalDirSendsNobodyTwice follows the recovery message
// ("copy the journal files of every other worker host (<journal
// dir>/<campaign>/ on each) into <journal dir>/<campaign>/") with the
// copy made by `cp -r host2:<journal dir>/<campaign> <journal
// dir>/<campaign>/host2`, one directory deeper. Neither send
// --exclude-delivered (journal.Files globs one level) nor the new worker's
// unknown-run check (same glob) sees host2's file, nothing warns, and
// the recipients host2's worker delivered are mailed a second time.
func TestRecoveryWithANestedJournalDirSendsNobodyTwice(t *testing.T) {
	t.Parallel()
	const (
		name = "e2e-rt8-nested"
		n    = 1200
	)
	srv := startSMTPSink(t)
	e := newEnv(t, srv.Port(), 4)
	file, rows := e.sendLossCampaign(name, n)
	w1 := e.startWorker("worker-a", 2)
	w2 := e.startWorker("worker-b", 2)
	wait.For(t, 2*time.Minute, "400 messages", func() bool { return srv.Count() >= 400 })
	if err := e.redis.Wipe(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, w := range []*process{w1, w2} {
		if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		<-w.child.Done()
	}
	delivered := srv.Count()
	jdir := filepath.Join(e.dir, "state", "journal")
	// The second worker's journal file (the files are <run>.<worker id>.jsonl).
	all, _ := filepath.Glob(filepath.Join(jdir, name, "*.jsonl"))
	if len(all) != 2 {
		t.Fatalf("want the journals of two workers: %v", all)
	}
	files := all[1:]
	// worker-b's journal, as copied from its host with cp -r.
	nested := filepath.Join(jdir, name, "host2", name)
	if err := os.MkdirAll(nested, 0o750); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.Rename(f, filepath.Join(nested, filepath.Base(f))); err != nil {
			t.Fatal(err)
		}
	}
	r := e.run("send", file, "--env", envName, "--exclude-delivered", jdir)
	if r.code != 0 {
		t.Logf("refused (fine): %s", r)
		return
	}
	t.Logf("send --exclude-delivered: %s", strings.TrimSpace(r.stdout))
	w3 := e.startWorker("worker-c", 4)
	st := e.waitState(name, "done", 3*time.Minute, w3)
	per := byRecipient(srv.Messages(t))
	twice := 0
	for _, c := range per {
		if c > 1 {
			twice++
		}
	}
	if twice > 0 {
		t.Fatalf("%d delivered before the loss (SMTP); after the recovery %d recipients received the campaign twice (status %v)", delivered, twice, st.Counts)
	}
	_ = rows
}
