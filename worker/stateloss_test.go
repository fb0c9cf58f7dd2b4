package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/journal/journaltest"
	"github.com/tidings-mail/tidings/internal/redisserver"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// TestRestoredFromOlderBackup: Redis goes back in time under a running
// worker (restarted from a snapshot taken earlier in the campaign, as after
// a restore from an old backup). Its ledger has forgotten recipients the
// worker already sent; the worker's delivery journal has not. The worker
// notices at its next ledger step, sends nothing more, and pauses the
// campaign saying why: nobody receives a second message.
func TestRestoredFromOlderBackup(t *testing.T) {
	t.Parallel()
	e, r := persistentEnv(t)
	srv := e.smtp
	e.stage(t, opts{n: 3000, size: 3000, rate: "300/s"})
	e.startWorker(t, wopts{journal: t.TempDir()})
	wait.For(t, 30*time.Second, "300 messages", func() bool { return srv.Count() >= 300 })
	backup(t, e) // the "backup"
	wait.For(t, 30*time.Second, "900 messages", func() bool { return srv.Count() >= 900 })
	restore(t, r) // restored from it
	st := pausedForStateLoss(t, e)
	stopped := srv.Count()
	if stopped >= 3000 {
		t.Fatalf("the campaign finished before the restore was noticed")
	}
	t.Logf("restored to ~300 sent after %d; paused: %s", stopped, st.Reason)
}

// TestRestoredBeforeAChunkRan: Redis goes back to a snapshot taken before
// a chunk ran, after the worker sent the whole chunk. The chunk runs again
// (its batch is released anew), and its first ledger step only claims:
// that step's answer already tells the worker that Redis forgot its
// deliveries, so it sends nobody twice. The worker's control loop, which
// would notice too, is kept out of it (an interval of an hour).
func TestRestoredBeforeAChunkRan(t *testing.T) {
	t.Parallel()
	e, r := persistentEnv(t)
	srv := e.smtp
	e.stage(t, opts{n: 400, size: 200, interval: "1h"})
	backup(t, e) // the "backup": staged, nothing released
	e.startWorker(t, wopts{journal: t.TempDir(), control: time.Hour})
	e.waitSent(t, 200) // the first batch
	restore(t, r)      // restored from it
	pausedForStateLoss(t, e)
	if n := srv.Count(); n != 200 {
		t.Errorf("%d messages sent, want the first batch's 200 only", n)
	}
}

// persistentEnv returns a test environment on a Redis of its own that
// saves snapshots (SAVE, then Restart, brings one back), and that Redis.
func persistentEnv(t *testing.T) (*env, *redistest.Redis) {
	t.Helper()
	return envOn(t, "../internal/redistest/testdata/plain.conf")
}

// envOn is persistentEnv on a redis-server started with conf.
func envOn(t *testing.T, conf string) (*env, *redistest.Redis) {
	t.Helper()
	srv, err := smtpcapture.Start(t.Context(), smtpcapture.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	r := redistest.StartServer(t, conf)
	rdb := r.Client()
	return &env{rdb: rdb, st: store.New(rdb), smtp: srv, byLang: map[string]int{}}, r
}

// pausedForStateLoss waits for e's campaign to pause, requires the reason
// to be state loss and nobody to have received two messages, and returns
// its status.
func pausedForStateLoss(t *testing.T, e *env) *store.Status {
	t.Helper()
	var st *store.Status
	wait.For(t, 30*time.Second, "the campaign to pause", func() bool {
		s, err := e.st.Status(context.Background(), e.name)
		if err == nil && s.State == store.StatePaused {
			st = s
			return true
		}
		return false
	})
	if !strings.Contains(st.Reason, "state loss suspected") {
		t.Errorf("paused with reason %q, want it to say that Redis lost state", st.Reason)
	}
	for addr, n := range e.received() {
		if n > 1 {
			t.Errorf("%s received %d messages", addr, n)
		}
	}
	return st
}

// TestLostChunkPausesForStateLoss: a chunk Redis lost (part of the
// campaign's state) pauses the campaign as state loss, which resume
// refuses, instead of ending its task quietly and being re-enqueued every
// second with its recipients pending for ever.
func TestLostChunkPausesForStateLoss(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, nil)
	e.stage(t, opts{n: 60, size: 60})
	meta, err := e.st.Meta(ctx, e.name, false)
	if err != nil {
		t.Fatal(err)
	}
	last := meta.Batches[len(meta.Batches)-1].Last
	if n, err := e.rdb.Del(ctx, fmt.Sprintf("tidings:{%s}:chunk:%d", e.name, last)).Result(); err != nil || n != 1 {
		t.Fatalf("delete chunk %d: %d, %v", last, n, err)
	}
	e.startWorker(t, wopts{})
	e.waitState(t, 30*time.Second, store.StatePaused)
	st, err := e.st.Status(ctx, e.name)
	if err != nil {
		t.Fatal(err)
	}
	if st.Action != "state-loss" || !strings.Contains(st.Reason, fmt.Sprintf("Redis lost chunk %d", last)) {
		t.Errorf("paused as %q: %q; want state-loss naming the chunk", st.Action, st.Reason)
	}
	if _, err := e.st.Resume(ctx, e.name, tester, ""); err == nil {
		t.Error("resume of a campaign paused for a lost chunk went through")
	}
	for addr, n := range e.received() {
		if n > 1 {
			t.Errorf("%s received %d messages", addr, n)
		}
	}
}

// TestRestoredWithOtherWorkersDeliveries: another worker's deliveries do
// not hide what Redis forgot of this one's. Worker B sends the canary and
// stops; the campaign is approved and the "backup" taken; worker A sends
// the rest, all of it in its journal; Redis is restored. Compared with the
// campaign's sent count (B's canary, more than A's forgotten batch minus
// the slack), nothing looked lost and A sent its batch again; compared with
// what Redis counts as sent by A (nothing), it pauses before sending.
func TestRestoredWithOtherWorkersDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, r := persistentEnv(t)
	srv := e.smtp
	e.stage(t, opts{n: 380, canary: 30, size: 200, approve: true})
	stopB := e.startWorker(t, wopts{journal: t.TempDir(), id: "B"})
	e.waitState(t, 30*time.Second, store.StateAwaitingApproval)
	stopB()
	canary := srv.Count()
	if _, err := e.st.Approve(ctx, e.name, "", false, tester, ""); err != nil {
		t.Fatal(err)
	}
	backup(t, e) // the "backup"
	e.startWorker(t, wopts{journal: t.TempDir(), id: "A", control: time.Hour})
	e.waitState(t, 30*time.Second, store.StateDone)
	before := srv.Count()
	restore(t, r) // restored from it
	pausedForStateLoss(t, e)
	if n := srv.Count(); n != before {
		t.Errorf("%d messages sent after the restore, want none", n-before)
	}
	t.Logf("canary %d, %d sent before the restore", canary, before)
}

// TestRestoredWithEveryWorkerRestarted: Redis is restored from a backup
// taken before the first batch was released, and the worker that sent that
// batch is gone too (a whole-site move). The new worker has a new id and no
// deliveries of its own to count, but the journal directory it shares
// holds the old worker's: it finds the ledger has forgotten them when it
// loads the campaign, and pauses it before sending anyone twice.
func TestRestoredWithEveryWorkerRestarted(t *testing.T) {
	t.Parallel()
	e, r := persistentEnv(t)
	srv := e.smtp
	e.stage(t, opts{n: 400, size: 200, interval: "1h"})
	backup(t, e) // the "backup": staged, nothing released
	dir := t.TempDir()
	stopA := e.startWorker(t, wopts{journal: dir, id: "A"})
	e.waitSent(t, 200) // the first batch
	stopA()
	restore(t, r) // restored from it
	e.startWorker(t, wopts{journal: dir, id: "B", control: time.Hour})
	st := pausedForStateLoss(t, e)
	if n := srv.Count(); n != 200 {
		t.Errorf("%d messages sent, want the first batch's 200 only", n)
	}
	// Every delivery it looked up (the latest of the batch) was forgotten.
	if m := neverSent.FindStringSubmatch(st.Reason); st.Action != "state-loss" || m == nil || m[1] != m[2] || m[1] == "0" {
		t.Errorf("paused as %q: %q; want state-loss with every delivery checked forgotten", st.Action, st.Reason)
	}
}

// neverSent matches forgotten's reason: the deliveries checked, and those
// of them Redis has as never sent.
var neverSent = regexp.MustCompile(`of the (\d+) latest deliveries and claims .* has (\d+) as never sent`)

// TestForgottenDeliveryPauses: Redis forgets one recorded delivery while
// the worker runs (its ledger entry goes; its counts stay, so rollback's
// comparison of counts cannot see it). The control loop's check of the
// latest journaled deliveries finds it and pauses the campaign.
func TestForgottenDeliveryPauses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, nil)
	e.stage(t, opts{n: 600, size: 600, rate: "30/s"})
	dir := t.TempDir()
	// Checked every second: the forgotten delivery is still among the
	// latest lines of the file (the check reads ~140 recipients' worth).
	e.startWorker(t, wopts{journal: dir, check: time.Second})
	var forget string
	wait.For(t, 30*time.Second, "a delivery journaled and recorded", func() bool {
		var ids []string
		_ = journal.Read(dir, e.name, func(je journal.Entry) error {
			if je.Outcome == "sent" {
				ids = append(ids, je.ID)
			}
			return nil
		})
		ents, err := e.st.Entries(ctx, e.name, ids)
		for i := len(ents) - 1; err == nil && i >= 0; i-- { // the latest
			if ents[i].State == store.OutcomeSent {
				forget = ids[i]
				return true
			}
		}
		return false
	})
	if n, err := e.rdb.HDel(ctx, fmt.Sprintf("tidings:{%s}:ledger", e.name), forget).Result(); err != nil || n != 1 {
		t.Fatalf("forget %s: %d, %v", forget, n, err)
	}
	st := pausedForStateLoss(t, e)
	if st.Action != "state-loss" || !strings.Contains(st.Reason, "has 1 as never sent") {
		t.Errorf("paused as %q: %q; want state-loss counting the one forgotten", st.Action, st.Reason)
	}
	if st.Counts[store.OutcomeSent] >= 600 {
		t.Errorf("the whole campaign was sent before the loss was noticed")
	}
}

// TestUnreadableJournalFileDoesNotPause: a journal file of the run that
// cannot be parsed (or read) is passed over by the check against the
// ledger, with a warning: it is a detector, and one bad file in a shared
// journal directory must not stop a healthy campaign on every worker. Nor
// does it switch the check off: a delivery journaled in another file that
// the ledger does not know still pauses the campaign.
func TestUnreadableJournalFileDoesNotPause(t *testing.T) {
	t.Parallel()
	for _, forged := range []bool{false, true} {
		t.Run(fmt.Sprintf("forged=%v", forged), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := newEnv(t, nil)
			e.stage(t, opts{n: 50, size: 50})
			meta, err := e.st.Meta(ctx, e.name, false)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			bad := filepath.Join(dir, e.name, meta.Run+".other-worker.jsonl")
			if err := os.MkdirAll(filepath.Dir(bad), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(bad, []byte("not a journal line\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if forged {
				forgeDelivery(t, e, dir, 0)
			}
			e.startWorker(t, wopts{journal: dir})
			if !forged {
				e.waitState(t, 30*time.Second, store.StateDone)
				e.checkReconcile(t)
				return
			}
			pausedForOneForged(t, e)
		})
	}
}

// TestJournalCheckAfterRedisRestart: when another Redis server process
// answers (a restart, a restore), the worker checks the latest journaled
// deliveries at once, not at its next interval (an hour here): a delivery
// another worker journaled, which Redis does not know, pauses the campaign.
func TestJournalCheckAfterRedisRestart(t *testing.T) {
	t.Parallel()
	e, r := persistentEnv(t)
	e.stage(t, opts{n: 400, size: 200, interval: "1h"})
	dir := t.TempDir()
	e.startWorker(t, wopts{journal: dir, check: time.Hour})
	e.waitSent(t, 200) // the first batch
	// A worker that did not come back journaled a recipient of the second
	// batch, whose claim Redis lost.
	forgeDelivery(t, e, dir, 1)
	time.Sleep(300 * time.Millisecond) // its control loop has seen the running Redis
	backup(t, e)
	restore(t, r)
	st := pausedForStateLoss(t, e)
	if m := neverSent.FindStringSubmatch(st.Reason); m == nil || m[2] != "1" {
		t.Errorf("paused with %q; want the one delivery Redis does not know", st.Reason)
	}
}

// pausedForOneForged waits for e to pause for state loss, naming one
// recipient of the journals as never sent (the one forged), with nobody
// sent.
func pausedForOneForged(t *testing.T, e *env) {
	t.Helper()
	st := pausedForStateLoss(t, e)
	if m := neverSent.FindStringSubmatch(st.Reason); m == nil || m[2] != "1" {
		t.Errorf("paused with %q; want the one forged line found", st.Reason)
	}
	if n := e.smtp.Count(); n != 0 {
		t.Errorf("%d messages sent, want none", n)
	}
}

// forgeDelivery journals, in dir, as a worker "gone" would have, the
// delivery of the first recipient of e's batch: one Redis has never seen
// claimed (it stands for one whose claim Redis lost).
func forgeDelivery(t *testing.T, e *env, dir string, batch int) {
	t.Helper()
	forgeLines(t, e, dir, batch, "sent")
}

// forgeLines journals, in dir, as a worker "gone" would have, lines of the
// first recipient of e's batch with these outcomes, in order.
func forgeLines(t *testing.T, e *env, dir string, batch int, outcomes ...string) {
	t.Helper()
	ctx := context.Background()
	meta, err := e.st.Meta(ctx, e.name, false)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := e.st.Chunk(ctx, e.name, meta.Batches[batch].First)
	if err != nil {
		t.Fatal(err)
	}
	var es []journal.Entry
	for _, o := range outcomes {
		es = append(es, journal.Entry{At: time.Now(), Campaign: e.name, Run: meta.Run, ID: recs[0].ID, Email: recs[0].Email, Outcome: o})
	}
	journaltest.Write(t, dir, "gone", es...)
}

// TestForgottenClaimPauses: a claim journaled and not resolved in its file
// (its window was being sent when its worker died, its outcome lines not
// written) is checked against the ledger as a delivery is: Redis had that
// claim before the line was written, so an entry it no longer has means
// it lost state, and the campaign pauses before anyone is sent. A claim
// given back (unclaimed) is no longer the ledger's, and a healthy campaign
// with one runs to the end.
func TestForgottenClaimPauses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		lines []string
		pause bool
	}{
		{[]string{journal.OutcomeClaimed}, true},
		{[]string{journal.OutcomeClaimed, journal.OutcomeUnclaimed}, false},
		{[]string{journal.OutcomeClaimed, journal.OutcomeUnclaimed, journal.OutcomeClaimed}, true},
		{[]string{journal.OutcomeClaimed, "failed"}, false},
	} {
		t.Run(strings.Join(tt.lines, ","), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			e.stage(t, opts{n: 50, size: 50})
			dir := t.TempDir()
			forgeLines(t, e, dir, 0, tt.lines...)
			e.startWorker(t, wopts{journal: dir})
			if !tt.pause {
				e.waitState(t, 30*time.Second, store.StateDone)
				return
			}
			pausedForOneForged(t, e)
		})
	}
}

// TestJournalClaimsBeforeSending: every outcome line of the journal
// follows a claimed line of the same recipient (the window was journaled
// before its first message went), and a campaign that ends leaves no claim
// unresolved.
func TestJournalClaimsBeforeSending(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.stage(t, opts{n: 120, size: 60})
	dir := t.TempDir()
	e.startWorker(t, wopts{journal: dir})
	e.waitState(t, 30*time.Second, store.StateDone)
	files, err := journal.Files(dir, e.name)
	if err != nil || len(files) != 1 {
		t.Fatalf("journal files %v, %v", files, err)
	}
	b, err := os.ReadFile(files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	claimed, outcomes := map[string]bool{}, 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var je journal.Entry
		if err := json.Unmarshal([]byte(line), &je); err != nil {
			t.Fatal(err)
		}
		switch je.Outcome {
		case journal.OutcomeClaimed:
			claimed[je.ID] = true
		case journal.OutcomeUnclaimed:
			delete(claimed, je.ID)
		default:
			outcomes++
			if !claimed[je.ID] {
				t.Errorf("%s: outcome %s with no claim journaled before it", je.ID, je.Outcome)
			}
			delete(claimed, je.ID)
		}
	}
	if outcomes != 120 || len(claimed) != 0 {
		t.Errorf("%d outcome lines (want 120), %d claims left unresolved (want 0)", outcomes, len(claimed))
	}
}

// TestJournalWritesAWindowAtATime: a connection writes its journal once
// per claim window for the claims and once for their outcomes, not once a
// message, so that journal.fsync: always costs two fsyncs a window; and
// every outcome is in the file all the same.
func TestJournalWritesAWindowAtATime(t *testing.T) {
	t.Parallel()
	const n = 128 // one chunk, so one connection
	e := newEnv(t, nil)
	e.stage(t, opts{n: n, size: n})
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	e.startWorker(t, wopts{journal: dir, always: true, metrics: reg})
	e.waitState(t, 30*time.Second, store.StateDone)
	sent := 0
	if err := journal.Read(dir, e.name, func(je journal.Entry) error {
		if je.Outcome == "sent" {
			sent++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if sent != n {
		t.Errorf("the journal holds %d deliveries, want %d", sent, n)
	}
	windows := int64((n + worker.DefaultClaimWindow - 1) / worker.DefaultClaimWindow)
	writes, syncs := gather(t, reg, "tidings_journal_writes_total"), gather(t, reg, "tidings_journal_fsyncs_total")
	if writes > 2*windows+2 {
		t.Errorf("%d journal writes for %d messages in %d windows, want at most %d (two a window)", writes, n, windows, 2*windows+2)
	}
	if syncs < 1 || syncs > 2*windows+2 {
		t.Errorf("%d fsyncs with fsync always for %d messages in %d windows, want between 1 and %d (two a window)", syncs, n, windows, 2*windows+2)
	}
}

// gather returns the value of reg's counter name.
func gather(t *testing.T, reg *prometheus.Registry, name string) int64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return int64(mf.GetMetric()[0].GetCounter().GetValue())
		}
	}
	t.Fatalf("no counter %s", name)
	return 0
}

// backup saves e's Redis to its snapshot (the "backup"; restore brings it
// back).
func backup(t *testing.T, e *env) {
	t.Helper()
	if err := e.rdb.Save(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
}

// restore restarts r from its last snapshot: Redis restored from a backup.
func restore(t *testing.T, r *redistest.Redis) {
	t.Helper()
	if err := r.Restart(context.Background(), false); err != nil {
		t.Fatal(err)
	}
}

// waitSent waits until Redis records n of e's recipients sent.
func (e *env) waitSent(t *testing.T, n int64) {
	t.Helper()
	wait.For(t, 30*time.Second, fmt.Sprintf("%d recipients sent and recorded", n), func() bool {
		s, err := e.st.Status(context.Background(), e.name)
		return err == nil && s.Counts[store.OutcomeSent] == n
	})
}

// TestRestoredWhilePausedThenResumed: Redis's ledger goes back to a
// backup taken while the campaign was paused, after it had been resumed
// and had sent more (too few for the step's count check to notice: under
// two windows per connection), and the campaign is paused again: restored
// whole (a new Redis server process, the campaign paused as in the
// backup), or the ledger alone restored in place (RESTORE into the same
// process, after a pause by hand). The periodic journal check (an hour
// here) passes over a paused campaign; when someone resumes it, its first
// chunk checks the journals against the ledger before it claims anyone,
// and pauses the campaign for state loss: nobody receives a second
// message. (Before, the resume sent the forgotten recipients again.)
func TestRestoredWhilePausedThenResumed(t *testing.T) {
	t.Parallel()
	for _, whole := range []bool{true, false} {
		t.Run(map[bool]string{true: "a new Redis process", false: "the ledger in place"}[whole], func(t *testing.T) {
			t.Parallel()
			restoredWhilePaused(t, whole)
		})
	}
}

func restoredWhilePaused(t *testing.T, whole bool) {
	ctx := context.Background()
	e, r := persistentEnv(t)
	srv := e.smtp
	e.stage(t, opts{n: 3000, size: 3000, rate: "100/s"})
	e.startWorker(t, wopts{journal: t.TempDir(), check: time.Hour})
	wait.For(t, 30*time.Second, "100 messages", func() bool { return srv.Count() >= 100 })
	ops := store.Actor{Who: "ops"}
	settled := func(what string) int { return pauseSettled(t, e, what) }
	before := settled("before the backup")
	ledger := "tidings:{" + e.name + "}:ledger"
	dump, err := e.rdb.Dump(ctx, ledger).Result()
	if err != nil {
		t.Fatal(err)
	}
	backup(t, e) // taken while paused
	if _, err := e.st.Resume(ctx, e.name, ops, ""); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 30*time.Second, "40 more messages", func() bool { return srv.Count() >= before+40 })
	after := settled("before the restore")
	if after-before >= 2*4*16 {
		t.Fatalf("%d sent between the backup and the restore; the test wants fewer than the step's count check allows (128)", after-before)
	}
	if whole {
		restore(t, r) // the campaign is paused again, as in the backup
	} else if err := e.rdb.RestoreReplace(ctx, ledger, 0, dump).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Resume(ctx, e.name, ops, ""); err != nil {
		t.Fatal(err)
	}
	st := pausedForStateLossOrEnd(t, e)
	t.Logf("%d sent before the backup, %d before the restore; then %d; paused: %s", before, after, srv.Count(), st.Reason)
}

// pauseSettled pauses e's campaign and waits for its sends to settle: no
// recipient is claimed without an outcome. The pause lets no claim be
// made after it returned (a claim reads the state in the script that
// makes it), and a message claimed before it has reached the server when
// its outcome is recorded (the server holds a message before it replies):
// nothing more can come. Every message received is then recorded sent. It
// returns the messages received. (It used to wait for the server's count
// to match the ledger's and stay still for a second, which a window
// claimed before the pause and not sent yet also shows on a loaded
// machine: its messages came after.)
func pauseSettled(t *testing.T, e *env, what string) int {
	t.Helper()
	ctx := context.Background()
	if _, err := e.st.Pause(ctx, e.name, store.Actor{Who: "ops"}, what); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 30*time.Second, "the claims made before the pause to end", func() bool { return e.claimed(t) == 0 })
	n := e.smtp.Count()
	s, err := e.st.Status(ctx, e.name)
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[store.OutcomeSent] != int64(n) {
		t.Fatalf("paused %s with no claim left: the SMTP server received %d messages, the ledger records %d sent (counts %v)", what, n, s.Counts[store.OutcomeSent], s.Counts)
	}
	return n
}

// TestVerifyOnARedisWithoutINFO: a Redis that refuses INFO (a managed one
// that forbids it; the embedded one of the demo and of tests without
// redis-server) is checked at state changes only: a worker with a journal
// sends its campaign, instead of failing every chunk on reading the run
// id.
func TestVerifyOnARedisWithoutINFO(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		start func(t *testing.T) *redis.Client
	}{
		{"redis-server, a user without INFO", func(t *testing.T) *redis.Client {
			// As a managed Redis that forbids INFO: an ACL user denied it.
			r := redistest.StartServer(t, "../internal/redistest/testdata/plain.conf")
			if err := r.Client().Do(t.Context(), "ACL", "SETUSER", "noinfo", "on", ">pw", "~*", "&*", "+@all", "-info").Err(); err != nil {
				t.Fatal(err)
			}
			o := r.Client().Options()
			rdb := redis.NewClient(&redis.Options{Addr: o.Addr, DB: o.DB, Username: "noinfo", Password: "pw"})
			t.Cleanup(func() { rdb.Close() })
			return rdb
		}},
		{"the embedded Redis", func(t *testing.T) *redis.Client {
			mr, err := redisserver.Start(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { mr.Close() })
			rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
			t.Cleanup(func() { rdb.Close() })
			return rdb
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rdb := tt.start(t)
			if err := rdb.Info(t.Context(), "server").Err(); err == nil {
				t.Fatal("this Redis answers INFO: the test no longer tests one that refuses it")
			}
			srv, err := smtpcapture.Start(t.Context(), smtpcapture.Config{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			e := &env{rdb: rdb, st: store.New(rdb), smtp: srv, byLang: map[string]int{}}
			e.stage(t, opts{n: 20, size: 20})
			e.startWorker(t, wopts{journal: t.TempDir()})
			e.waitSent(t, 20)
		})
	}
}

// pausedForStateLossOrEnd waits for e's campaign to pause or to end, and
// requires a pause for state loss with nobody sent twice (counted at the
// SMTP server); it returns the status.
func pausedForStateLossOrEnd(t *testing.T, e *env) *store.Status {
	t.Helper()
	var st *store.Status
	wait.For(t, 60*time.Second, "a pause for state loss (or the end of the campaign)", func() bool {
		s, err := e.st.Status(context.Background(), e.name)
		if err == nil && (s.State == store.StatePaused || s.State == store.StateDone) {
			st = s
			return true
		}
		return false
	})
	twice := 0
	for _, n := range e.received() {
		if n > 1 {
			twice++
		}
	}
	if twice > 0 || st.Action != "state-loss" {
		t.Fatalf("%d recipients received two messages; the campaign is %s (%s: %s), want paused for state loss with nobody sent twice", twice, st.State, st.Action, st.Reason)
	}
	return st
}

// TestAWorkerJournalsARunBeforeItClaims: a worker that picks up a chunk of
// a run has its journal file of that run before it claims anyone (the
// writer creates it when the worker first counts what it journaled of the
// run: journal.Writer.Count), so that a run a recovery marked
// (store.RunExcludedMark) that Redis lost again before anyone was claimed
// still shows in the journals of every worker that touched it, and a
// second recovery from them knows it needs that recovery's exclusions.
// Held here at the gate by a worker that says it is alive and never
// checks in: the file is there, empty, with nobody sent; once that worker
// goes silent, everyone is.
func TestAWorkerJournalsARunBeforeItClaims(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, nil)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { // a worker alive that never checks in: no chunk claims
		defer close(done)
		for {
			now := e.rdb.Time(ctx).Val().UnixMilli()
			e.rdb.HSet(ctx, store.WorkersKey("test"), "ghost", fmt.Sprintf("%d %d", now-60000, now))
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	var once sync.Once
	silent := func() { once.Do(func() { close(stop); <-done; e.rdb.HDel(ctx, store.WorkersKey("test"), "ghost") }) }
	defer silent()
	jdir := t.TempDir()
	e.startWorker(t, wopts{journal: jdir, id: "A"})
	e.stage(t, opts{n: 4, size: 4})
	meta, err := e.st.Meta(ctx, e.name, false)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(jdir, e.name, meta.Run+".A.jsonl")
	wait.For(t, 30*time.Second, "the worker's journal file of run "+meta.Run, func() bool {
		_, err := os.Stat(file)
		return err == nil
	})
	if fi, err := os.Stat(file); err != nil || fi.Size() != 0 || e.smtp.Count() != 0 {
		t.Fatalf("held at the gate: journal %v (%v), %d sent; want an empty file and nobody sent", fi, err, e.smtp.Count())
	}
	silent()
	wait.For(t, 90*time.Second, "everyone sent once the silent worker is gone", func() bool { return e.smtp.Count() == 4 })
}
