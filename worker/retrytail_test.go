package worker_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestRestoredBeforeARetriedCanary: the canary's 240 recipients all fail
// temporarily (a greylisting relay; max_attempts 1, so they end failed)
// and the campaign waits for approval; a backup is taken then. Approved,
// batch 1 (60 recipients) is sent and the campaign is done; a `retry`
// then delivers the canary's 240. Redis is restored from the backup
// (awaiting approval again, batch 1 never sent, the canary failed) and the
// worker is replaced by a new one on the same journal directory, as the
// README says to do after a restore ("a Redis restored while every worker
// was restarted too is caught by the first new worker that shares a
// journal directory with the old ones"). Someone approves. The journal's
// latest lines are the retry's deliveries, which the restored ledger has
// as failed (final), not missing nor deferred; batch 1's deliveries are
// further back than the check reads. Nobody may receive a second message:
// the new worker must pause the campaign for state loss. The same holds
// for a worker kept running across the restore at the default 8
// connections, with a canary of 162: the 222 deliveries Redis forgot are
// under its step's count allowance (256), so only the journal check can
// see them.
func TestRestoredBeforeARetriedCanary(t *testing.T) {
	t.Parallel()
	for _, replaced := range []bool{true, false} {
		t.Run(map[bool]string{true: "the worker replaced", false: "the worker kept running"}[replaced], func(t *testing.T) {
			t.Parallel()
			restoredBeforeARetry(t, replaced, false)
		})
	}
}

// TestRestoredBeforeARetryThatFailedAgain: as
// TestRestoredBeforeARetriedCanary, but the relay still greylists the
// canary when it is retried: the retry's attempts fail again (their
// journal lines are claims and temporary failures, no delivery), and they
// are the latest lines of the journal. (Automatic retries of deferred
// recipients after the backup leave the same lines, with no retry by
// hand.) The restored ledger has the canary failed after one attempt
// although the journal records second attempts: Redis went back in time,
// and batch 1's deliveries, further back than the check reads, must not
// be sent again.
func TestRestoredBeforeARetryThatFailedAgain(t *testing.T) {
	t.Parallel()
	for _, replaced := range []bool{true, false} {
		t.Run(map[bool]string{true: "the worker replaced", false: "the worker kept running"}[replaced], func(t *testing.T) {
			t.Parallel()
			restoredBeforeARetry(t, replaced, true)
		})
	}
}

// TestRestoredBeforeARetryThenStagedAgain: as
// TestRestoredBeforeARetryThatFailedAgain (the worker replaced), but after
// the restore nobody approves: someone cancels the campaign and stages it
// again with send --resume-existing (no state loss was ever reported, so
// nothing advised otherwise). The re-staging keeps the run and clears the
// canary's failed entries; the journal's latest lines are the earlier
// staging's claims and temporary failures. Batch 1's deliveries, which
// the restore forgot, must not be sent again.
func TestRestoredBeforeARetryThenStagedAgain(t *testing.T) {
	t.Parallel()
	restoredBeforeARetry(t, true, true, true)
}

func restoredBeforeARetry(t *testing.T, replaced, failsAgain bool, restage ...bool) {
	ctx := context.Background()
	// 6 languages x perLang: the canary is recipients 0 to canary-1;
	// batch 1 is the next 60.
	perLang, conc := 40, 4
	if !replaced {
		perLang, conc = 27, 8
	}
	canary := 6 * perLang
	var greylist atomic.Bool
	greylist.Store(true)
	srv, err := smtpcapture.Start(t.Context(), smtpcapture.Config{Fault: func(rcpt string) error {
		var i int
		if greylist.Load() && strings.HasPrefix(rcpt, "u") {
			if _, err := fmtSscanf(rcpt, &i); err == nil && i < canary {
				return smtpReject(451, "greylisted, try again later")
			}
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	r := redistest.StartServer(t, "../internal/redistest/testdata/plain.conf")
	rdb := r.Client()
	e := &env{rdb: rdb, st: store.New(rdb), smtp: srv, byLang: map[string]int{}}
	e.stage(t, opts{n: canary + 60, canary: perLang, size: 500, approve: true, maxAttempt: 1, errorRate: 1, maxFail: 1})
	dir := t.TempDir()
	ops := store.Actor{Who: "ops"}
	stop := e.startWorker(t, wopts{journal: dir, id: "w1", concurrency: conc})
	e.waitState(t, 30*time.Second, store.StateAwaitingApproval)
	if st, err := e.st.Status(ctx, e.name); err != nil || st.Counts[store.OutcomeFailed] != int64(canary) {
		t.Fatalf("canary: %v, %v; want its %d recipients failed", st.Counts, err, canary)
	}
	backup(t, e) // taken while the campaign waits for approval
	if _, err := e.st.Approve(ctx, e.name, "", false, ops, ""); err != nil {
		t.Fatal(err)
	}
	e.waitState(t, 30*time.Second, store.StateDone)
	greylist.Store(failsAgain)
	if retried, err := e.st.Requeue(ctx, e.name, ops, store.RetryScope{}); err != nil || retried.N != canary {
		t.Fatalf("retry: %d, %v; want %d re-queued", retried.N, err, canary)
	}
	sent := canary + 60
	if failsAgain {
		sent = 60
		wait.For(t, 30*time.Second, "the retried canary to fail again", func() bool {
			s, err := e.st.Status(ctx, e.name)
			return err == nil && s.State == store.StateDone && s.Counts[store.OutcomeFailed] == int64(canary)
		})
	}
	e.waitSent(t, int64(sent))
	e.waitState(t, 30*time.Second, store.StateDone)
	if replaced {
		stop()
	}
	if n := srv.Count(); n != sent {
		t.Fatalf("%d messages before the restore, want %d", n, sent)
	}

	restore(t, r) // awaiting approval, batch 1 pending, the canary failed
	if replaced {
		e.startWorker(t, wopts{journal: dir, id: "w2", concurrency: conc})
	}
	if len(restage) > 0 && restage[0] {
		if _, _, err := e.st.Cancel(ctx, e.name, ops, "changed our minds"); err != nil {
			t.Fatal(err)
		}
		e.stage(t, opts{n: canary + 60, canary: perLang, size: 500, approve: true, maxAttempt: 1, errorRate: 1, maxFail: 1, resume: true})
		if _, err := e.st.Approve(ctx, e.name, "", true, ops, ""); err != nil {
			t.Fatal(err)
		}
	} else if _, err := e.st.Approve(ctx, e.name, "", false, ops, ""); err != nil {
		t.Fatal(err)
	}
	st := pausedForStateLossOrEnd(t, e)
	t.Logf("paused: %s", st.Reason)
}
