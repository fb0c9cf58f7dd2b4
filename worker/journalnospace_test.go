package worker_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// smallDisk mounts a tmpfs of size (mount's -o size=) on a new directory
// and returns it, unmounted when the test ends: a real file system whose
// writes fail with ENOSPC once it is full. It needs root (CI runs as
// root); elsewhere the test is skipped, and so it is when mount fails
// outside CI.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root (CI runs this as root)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount a tmpfs on %s: %v: %s", dir, err, out)
		}
		t.Skipf("mount a tmpfs on %s: %v: %s", dir, err, out)
	}
	// Registered after TempDir's clean-up, so it runs before it.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file into dir until the file system is full (ENOSPC),
// and returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v, want ENOSPC", dir, err)
			}
			return p
		}
	}
}

// TestJournalDiskFullMidSend: the disk of the delivery journal fills up
// (a real ENOSPC, from a tmpfs) while a worker sends. The worker must
// hand SMTP no message whose claim it could not journal: every address
// the SMTP server received is in the journal as sent or in doubt; it
// pauses the campaign (action journal) saying so, naming the journal
// file and the fix; /healthz answers 503 saying the journal is broken.
// Once space returns, a restarted worker and a resume send the rest:
// nobody got two messages, everyone the journal records as sent got one
// (one in doubt, at most one), the ledger accounts for every row,
// and the journal records each recipient as delivered.
func TestJournalDiskFullMidSend(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		always bool
	}{{"fsync always", true}, {"fsync every 200ms", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const n = 300
			dir := smallDisk(t, "1m")
			e := newEnv(t, nil)
			e.stage(t, opts{n: n, size: n, rate: "60/s"})
			ctx := context.Background()
			var logs syncbuf.Buffer
			var served http.Handler
			stop := e.startWorker(t, wopts{id: "w1", journal: dir, always: tc.always, logs: &logs, metrics: prometheus.NewRegistry(), served: &served})
			wait.For(t, 60*time.Second, "the first messages", func() bool { return e.smtp.Count() >= 20 })
			filler := fillDisk(t, dir)

			wait.For(t, 120*time.Second, "the campaign to pause (or finish)", func() bool {
				s := e.state(t)
				return s == store.StatePaused || s == store.StateDone
			}, logs.String)
			st, err := e.st.Status(ctx, e.name)
			if err != nil {
				t.Fatal(err)
			}
			file := journal.FileName(dir, e.name, st.Run, "w1")
			if st.State != store.StatePaused || st.Action != "journal" {
				t.Fatalf("campaign %s (action %q, reason %q) once the journal's disk is full; want paused by the journal", st.State, st.Action, st.Reason)
			}
			for _, want := range []string{"cannot write its delivery journal", file, "no space left on device", "fix the journal directory (space"} {
				if !strings.Contains(st.Reason, want) {
					t.Errorf("the pause's reason does not say %q:\n%s", want, st.Reason)
				}
			}
			wait.For(t, 30*time.Second, "the claims made before the pause to end", func() bool { return e.claimed(t) == 0 })

			rec := httptest.NewRecorder()
			served.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
			if body := rec.Body.String(); rec.Code != http.StatusServiceUnavailable || !strings.Contains(body, "delivery journal") ||
				!strings.Contains(body, "no space left on device") {
				t.Errorf("/healthz with the journal's disk full: %d %q, want 503 saying the delivery journal cannot be written and why", rec.Code, body)
			}

			// Nobody reached SMTP whom the journal does not record.
			journaled := map[string]string{}
			if err := journal.Read(dir, e.name, func(en journal.Entry) error {
				if en.Delivered() {
					journaled[en.Email] = en.Outcome
				}
				return nil
			}); err != nil && !errors.Is(err, journal.ErrTruncated) {
				t.Fatal(err)
			}
			before := e.received()
			for addr := range before {
				if journaled[addr] == "" {
					t.Errorf("%s received a message that the full journal does not record", addr)
				}
			}
			t.Logf("%d messages before the disk filled up and the pause; %d delivered in the journal", len(before), len(journaled))

			// Space returns; the worker is restarted, the campaign resumed.
			stop()
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			e.startWorker(t, wopts{id: "w1", journal: dir, always: tc.always})
			if _, err := e.st.Resume(ctx, e.name, store.Actor{Who: "tester"}, ""); err != nil {
				t.Fatal(err)
			}
			e.waitState(t, 180*time.Second, store.StateDone)
			st = e.checkReconcile(t)
			got := e.received()
			// A message sent whose outcome line the full disk refused is
			// in doubt in the journal (its claim line, unresolved), never
			// unrecorded.
			delivered := map[string]string{}
			if err := journal.Read(dir, e.name, func(en journal.Entry) error {
				if en.Delivered() {
					delivered[en.Email] = en.Outcome
				}
				return nil
			}); err != nil {
				t.Fatalf("the journal after the disk had space again: %v", err)
			}
			for addr, c := range got {
				if c != 1 {
					t.Errorf("%s received %d messages", addr, c)
				}
				if delivered[addr] == "" {
					t.Errorf("%s received a message the journal does not record as sent or in doubt", addr)
				}
			}
			// In doubt is "may have been sent": a claim whose give-back
			// the full disk refused stays in doubt in the journal, unsent
			// (docs/design.md, a connection that fails holds no window),
			// and is never sent again (at most once). So one in doubt
			// received at most one; one sent, exactly one.
			for addr, o := range delivered {
				if got[addr] > 1 || (o == store.OutcomeSent && got[addr] != 1) {
					t.Errorf("%s is %s in the journal but received %d messages", addr, o, got[addr])
				}
			}
			if st.Counts[store.OutcomeSent]+st.Counts[store.OutcomeInDoubt] != n {
				t.Errorf("status %v after the resume, want all %d sent or in doubt", st.Counts, n)
			}
			t.Logf("status %v; %d received a message", st.Counts, len(got))
		})
	}
}
