package worker_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestRestoredWithJournalsOnTwoMachines: two workers, each with a journal
// directory of its own (two machines). Worker A sends part of the
// campaign over 8 connections; Redis is restored from a backup taken
// before some of A's deliveries (while the campaign was paused), and the
// campaign resumed. Worker B's journal holds nothing, so its own check
// passes at once; it must not claim before A, whose journal holds what
// Redis forgot, has checked the resumed campaign: A then pauses it for
// state loss, and nobody receives a second message. A's check is held
// here until B's log says it waits for it (a slow journal disk; A runs
// again with one connection, so B takes most chunks): without the wait for
// every live worker's check, B sent A's forgotten recipients again
// meanwhile.
func TestRestoredWithJournalsOnTwoMachines(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, r := persistentEnv(t)
	srv := e.smtp
	before, after, dirA := sentThenRestored(t, e, r)
	ops := store.Actor{Who: "ops"}
	var logs syncbuf.Buffer
	// A2's check holds until B's log says it waits for it (a slow journal
	// disk, however long a loaded machine takes B to say so): bounded, in
	// A2's goroutine, by a limit that only ends a hang; the assertion on
	// the log below says what went wrong.
	e.startWorker(t, wopts{journal: dirA, id: "A2", concurrency: 1, beforeCheck: func() {
		for end := time.Now().Add(2 * time.Minute); !waitsFor(logs.String(), "A2") && time.Now().Before(end); {
			time.Sleep(wait.Interval)
		}
	}})
	e.startWorker(t, wopts{journal: t.TempDir(), id: "B", concurrency: 8, logs: &logs})
	e.waitSettled(t, "A2", "B") // both alive and settled before the resume
	if _, err := e.st.Resume(ctx, e.name, ops, ""); err != nil {
		t.Fatal(err)
	}
	// Meanwhile status names the worker the chunks wait for.
	wait.For(t, 10*time.Second, "status to name A2 as awaited", func() bool {
		st, err := e.st.Status(ctx, e.name)
		return err == nil && slices.Contains(st.Awaited, "A2")
	})
	st := pausedForStateLoss(t, e)
	if n := srv.Count(); n != after {
		t.Errorf("%d messages sent after the restore, want none (A's journal holds %d deliveries Redis forgot)", n-after, after-before)
	}
	if !waitsFor(logs.String(), "A2") {
		t.Errorf("B's log does not say it waits for A2's check:\n%s", logs.String())
	}
	t.Logf("%d sent before the backup, %d before the restore, %d after; paused: %s", before, after, srv.Count(), st.Reason)
}

// waitsFor reports whether a worker's log says it waits for worker id's
// journal check before claiming (Worker.verify).
func waitsFor(log, id string) bool {
	return strings.Contains(log, "waiting for other workers to check their delivery journals") && strings.Contains(log, "workers="+id)
}

// sentThenRestored stages e's campaign (3,000 recipients at 100/s) and
// runs worker A (8 connections, a journal directory of its own, returned)
// until at least 100 are sent; pauses it and takes the "backup"; resumes it
// until at least 40 more are sent, pauses it again, stops A and restores
// Redis from the backup (the campaign paused, as it was then). It returns
// the messages received at the backup and at the restore: A's journal
// holds after-before deliveries that Redis forgot.
func sentThenRestored(t *testing.T, e *env, r *redistest.Redis) (before, after int, dirA string) {
	t.Helper()
	e.stage(t, opts{n: 3000, size: 3000, rate: "100/s"})
	dirA = t.TempDir()
	stopA := e.startWorker(t, wopts{journal: dirA, id: "A", concurrency: 8})
	wait.For(t, 30*time.Second, "100 messages", func() bool { return e.smtp.Count() >= 100 })
	before = pauseSettled(t, e, "before the backup")
	backup(t, e) // taken while paused
	if _, err := e.st.Resume(context.Background(), e.name, store.Actor{Who: "ops"}, ""); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 30*time.Second, "40 more messages", func() bool { return e.smtp.Count() >= before+40 })
	after = pauseSettled(t, e, "before the restore")
	stopA()
	restore(t, r)
	return before, after, dirA
}

// waitSettled waits until each worker of ids is alive and settled in the
// registry of environment test, as alive.lua judges it in Redis's time:
// seen within store.CheckInWindow, and saying so without a gap for at
// least the window. A sleep of the window after starting them assumed the
// workers had begun to say so at once, which a loaded machine does not
// keep: a worker not yet in the registry is not waited for.
func (e *env) waitSettled(t *testing.T, ids ...string) {
	t.Helper()
	ctx, win := context.Background(), store.CheckInWindow.Milliseconds()
	var reg map[string]string
	wait.For(t, 2*time.Minute, fmt.Sprintf("workers %v alive and settled", ids), func() bool {
		now, err := e.rdb.Time(ctx).Result()
		if err != nil {
			return false
		}
		if reg, err = e.rdb.HGetAll(ctx, store.WorkersKey("test")).Result(); err != nil {
			return false
		}
		for _, id := range ids {
			var first, seen int64
			if _, err := fmt.Sscanf(reg[id], "%d %d", &first, &seen); err != nil ||
				now.UnixMilli()-seen > win || now.UnixMilli()-first < win {
				return false
			}
		}
		return true
	}, func() string { return fmt.Sprintf("the registry: %v", reg) })
}
