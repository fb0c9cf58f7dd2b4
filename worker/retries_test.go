package worker_test

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestTemporaryFailuresRetriedThenFailedThenRetry: README, Sending
// semantics: "4xx replies ... are temporary: retried with backoff
// (retry.backoff, doubling, retry.max_attempts), then failed"; On-call:
// "Retry temporary failures: re-queues recipients whose retries ran out".
// Counted at the SMTP server: every recipient the relay keeps answering
// 451 is tried exactly max_attempts times, each retry at least the
// doubled backoff after the attempt before; the campaign ends with them
// failed; once the relay is fixed, retry sends each of them once.
func TestTemporaryFailuresRetriedThenFailedThenRetry(t *testing.T) {
	t.Parallel()
	const (
		n       = 120
		maxAtt  = 3
		backoff = 300 * time.Millisecond
	)
	var (
		mu    sync.Mutex
		tries = map[string][]time.Time{}
		fixed atomic.Bool
	)
	e := newEnv(t, func(rcpt string) error {
		var i int
		if _, err := fmtSscanf(rcpt, &i); err != nil || i%10 != 3 || fixed.Load() {
			return nil
		}
		mu.Lock()
		tries[rcpt] = append(tries[rcpt], time.Now())
		mu.Unlock()
		return smtpReject(451, "4.3.0 mailbox temporarily unavailable")
	})
	e.stage(t, opts{n: n, size: n, errorRate: 0.5, maxFail: 0.5, maxAttempt: maxAtt, backoff: backoff.String()})
	e.startWorker(t, wopts{})
	e.startWorker(t, wopts{})
	e.waitState(t, 60*time.Second, store.StateDone)
	st := e.checkReconcile(t)
	if st.Counts[store.OutcomeFailed] != n/10 || st.Counts[store.OutcomeSent] != n-n/10 {
		t.Fatalf("counts %v, want %d failed and %d sent", st.Counts, n/10, n-n/10)
	}
	mu.Lock()
	if len(tries) != n/10 {
		t.Errorf("%d recipients were answered 451, want %d", len(tries), n/10)
	}
	for rcpt, ts := range tries {
		if len(ts) != maxAtt {
			t.Errorf("%s was tried %d times, want %d (retry.max_attempts)", rcpt, len(ts), maxAtt)
			continue
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		for k := 1; k < len(ts); k++ {
			if gap, want := ts[k].Sub(ts[k-1]), backoff<<(k-1); gap < want {
				t.Errorf("%s: attempt %d came %s after the one before, want at least %s (backoff, doubling)", rcpt, k+1, gap, want)
			}
		}
	}
	mu.Unlock()
	ctx := context.Background()
	fixed.Store(true)
	retried, err := e.st.Requeue(ctx, e.name, tester, store.RetryScope{})
	if err != nil {
		t.Fatal(err)
	}
	if retried.N != n/10 {
		t.Errorf("retry re-queued %d, want %d", retried.N, n/10)
	}
	wait.For(t, 60*time.Second, "the retry to finish", func() bool {
		st, err := e.st.Status(ctx, e.name)
		return err == nil && st.State == store.StateDone && st.Counts[store.OutcomeSent] == n
	})
	e.checkReconcile(t)
}

// TestRetriesOutstandingAtTheEndSurviveAPauseAndAWorkerRestart: after the
// last batch's first pass only retries are left (README, On-call: "Retries
// (the only work left after the last batch ...)"). A pause and resume, and
// a worker replaced meanwhile, neither lose them (the campaign ends, every
// one tried max_attempts times) nor try them more often; counted at the
// SMTP server.
func TestRetriesOutstandingAtTheEndSurviveAPauseAndAWorkerRestart(t *testing.T) {
	t.Parallel()
	const (
		n      = 120
		maxAtt = 3
	)
	var (
		mu    sync.Mutex
		tries = map[string]int{}
	)
	e := newEnv(t, func(rcpt string) error {
		var i int
		if _, err := fmtSscanf(rcpt, &i); err != nil || i%10 != 3 {
			return nil
		}
		mu.Lock()
		tries[rcpt]++
		mu.Unlock()
		return smtpReject(451, "4.3.0 mailbox temporarily unavailable")
	})
	e.stage(t, opts{n: n, size: n, errorRate: 0.5, maxFail: 0.5, maxAttempt: maxAtt, backoff: "1s"})
	stop := e.startWorker(t, wopts{})
	ctx := context.Background()
	wait.For(t, 60*time.Second, "the first pass", func() bool { return e.smtp.Count() == n-n/10 })
	if _, err := e.st.Pause(ctx, e.name, tester, "retries outstanding"); err != nil {
		t.Fatal(err)
	}
	stop()
	time.Sleep(2500 * time.Millisecond) // the first retries come due meanwhile
	if _, err := e.st.Resume(ctx, e.name, tester, "go on"); err != nil {
		t.Fatal(err)
	}
	e.startWorker(t, wopts{})
	e.waitState(t, 60*time.Second, store.StateDone)
	st := e.checkReconcile(t)
	if st.Counts[store.OutcomeFailed] != n/10 || st.Counts[store.OutcomeSent] != n-n/10 {
		t.Errorf("counts %v, want %d failed and %d sent", st.Counts, n/10, n-n/10)
	}
	mu.Lock()
	defer mu.Unlock()
	for rcpt, c := range tries {
		if c != maxAtt {
			t.Errorf("%s was tried %d times, want %d", rcpt, c, maxAtt)
		}
	}
}
