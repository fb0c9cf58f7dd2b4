package worker_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// Phases of the relay in TestOnCallSMTPStorm.
const (
	storm4xx  = iota // every RCPT: 421 4.7.0 or 451 4.7.1 (throttling, greylisting)
	storm5xx         // a third 550 5.7.1 (policy), the rest accepted
	stormDrop        // as storm5xx, and some messages read whole, then the connection dropped
)

// TestOnCallSMTPStorm: on-call at 2 a.m. during an SMTP error storm, on
// real Redis and a real SMTP server (go-smtp) whose behaviour the test
// switches. A burst of 421/451 replies, then 550 5.7.1 for a third of the
// mail, then connections dropped after the final dot. The campaign pauses
// itself on the 4xx storm and again on the 5xx one, naming the reply
// (PRODUCT.md, Gates); status groups the errors by reply; the worker's
// metrics count what happened (tidings_messages_total by outcome agrees
// with the ledger, tidings_auto_pauses_total counts the pauses).
// Afterwards every row has an outcome, report names the 550 5.7.1 of each
// recipient the relay refused, every recipient whose message was dropped
// after the dot is in doubt and was never offered to the relay again, and
// nobody received two messages.
func TestOnCallSMTPStorm(t *testing.T) {
	t.Parallel()
	const n = 300
	var (
		phase    atomic.Int32
		mu       sync.Mutex
		refused  = map[string]bool{} // answered 550 5.7.1
		dropped  = map[string]int{}  // messages read whole, then the connection dropped
		again    = map[string]int{}  // RCPTs of a recipient after its message was dropped
		deferred int                 // 4xx replies
	)
	e := newEnvWith(t, smtpcapture.Config{
		Fault: func(rcpt string) error {
			var i int
			if _, err := fmtSscanf(rcpt, &i); err != nil {
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			if dropped[rcpt] > 0 {
				again[rcpt]++
			}
			switch {
			case phase.Load() == storm4xx && i%2 == 0:
				deferred++
				return smtpReject(421, "4.7.0 try again later")
			case phase.Load() == storm4xx:
				deferred++
				return smtpReject(451, "4.7.1 greylisted, try again later")
			case i%3 == 0:
				refused[rcpt] = true
				return smtpReject(550, "5.7.1 message rejected by policy")
			}
			return nil
		},
		Drop: func(rcpt string) bool {
			var i int
			if _, err := fmtSscanf(rcpt, &i); err != nil || phase.Load() != stormDrop || i%7 != 1 {
				return false
			}
			mu.Lock()
			dropped[rcpt]++
			mu.Unlock()
			return true
		},
	})
	// The gate after the batch off (its only batch: the window decides);
	// backoff long enough that no recipient's attempts run out in the
	// 4xx storm before it pauses.
	e.stage(t, opts{n: n, size: n, errorRate: 0.2, window: 100, minAtt: 20, maxFail: 1, maxAttempt: 5, backoff: "1s"})
	reg := prometheus.NewRegistry()
	e.startWorker(t, wopts{metrics: reg})
	ctx := context.Background()

	// The 4xx storm: paused by itself, naming the reply; nothing sent.
	e.waitState(t, 60*time.Second, store.StatePaused)
	st, err := e.st.Status(ctx, e.name)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("4xx storm: %s; counts %v", st.Reason, st.Counts)
	if !strings.HasPrefix(st.Reason, "auto-pause:") || !strings.Contains(st.Reason, "4.7.") {
		t.Errorf("paused for %q, want the auto-pause naming the 421/451", st.Reason)
	}
	if len(st.Errors) == 0 || !strings.HasPrefix(st.Errors[0].Code, "4") || !st.Errors[0].Temporary {
		t.Errorf("status's errors by reply %+v: want the 4xx first, temporary", st.Errors)
	}
	if got := e.smtp.Count(); got != 0 {
		t.Errorf("%d messages accepted in a storm that refused every recipient", got)
	}
	if got := messagesByOutcome(t, reg)["deferred"]; got == 0 {
		t.Errorf("tidings_messages_total{outcome=deferred} = 0 after a 4xx storm")
	}
	if got := seriesBy(t, reg, "tidings_auto_pauses_total", "campaign")[e.name]; got != 1 {
		t.Errorf("tidings_auto_pauses_total = %v, want 1", got)
	}

	// The 5xx storm: resumed, it pauses by itself again, naming the 550.
	phase.Store(storm5xx)
	if _, err := e.st.Resume(ctx, e.name, tester, "relay answers again"); err != nil {
		t.Fatal(err)
	}
	e.waitState(t, 60*time.Second, store.StatePaused)
	if st, err = e.st.Status(ctx, e.name); err != nil {
		t.Fatal(err)
	}
	t.Logf("5xx storm: %s; counts %v", st.Reason, st.Counts)
	if !strings.HasPrefix(st.Reason, "auto-pause:") || !strings.Contains(st.Reason, "550 5.7.1") {
		t.Errorf("paused for %q, want the auto-pause naming the 550 5.7.1", st.Reason)
	}
	if got := seriesBy(t, reg, "tidings_auto_pauses_total", "campaign")[e.name]; got != 2 {
		t.Errorf("tidings_auto_pauses_total = %v, want 2", got)
	}

	// Drops after the dot too; on-call resumes each time it pauses (the
	// window starts afresh) until every recipient has an outcome.
	phase.Store(stormDrop)
	e.resumeUntilDone(t, 100, 60*time.Second, "on-call resumes")
	st = e.checkReconcile(t)
	t.Logf("done: %v", st.Counts)

	mu.Lock()
	defer mu.Unlock()
	if len(dropped) == 0 || len(refused) == 0 || deferred == 0 {
		t.Fatalf("the storm did not happen: %d dropped, %d refused, %d deferred", len(dropped), len(refused), deferred)
	}
	for rcpt, k := range dropped {
		if k != 1 || again[rcpt] != 0 {
			t.Errorf("%s: its message dropped after the dot %d times, offered again %d times: want once, never again (in doubt)", rcpt, k, again[rcpt])
		}
	}
	err = e.st.Report(ctx, e.name, func(r store.Row) error {
		switch {
		case dropped[r.Email] > 0:
			if r.Outcome != store.OutcomeInDoubt {
				t.Errorf("%s: its message was dropped after the dot, reported %s, want in-doubt", r.Email, r.Outcome)
			}
		case refused[r.Email]:
			if r.Outcome != store.OutcomeFailed || !strings.Contains(r.Code+" "+r.Response, "550") || !strings.Contains(r.Code+" "+r.Response, "5.7.1") {
				t.Errorf("%s: refused 550 5.7.1, reported %s %q %q", r.Email, r.Outcome, r.Code, r.Response)
			}
		case r.Outcome == store.OutcomeFailed:
			// Only its retries running out could fail it: 5 attempts of 4xx.
			if !strings.HasPrefix(r.Code, "4") || r.Attempts != 5 {
				t.Errorf("%s: failed with %q after %d attempts, neither refused nor out of retries", r.Email, r.Code, r.Attempts)
			}
		case r.Outcome != store.OutcomeSent:
			t.Errorf("%s: reported %s, want sent", r.Email, r.Outcome)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The worker's counters agree with the ledger.
	for _, o := range []string{store.OutcomeSent, store.OutcomeFailed, store.OutcomeInDoubt} {
		if got, want := messagesByOutcome(t, reg)[o], float64(st.Counts[o]); got != want {
			t.Errorf("tidings_messages_total{outcome=%s} = %v, the ledger has %v", o, got, want)
		}
	}
}

// TestPauseHoldsThroughRetryBackoff: on-call pauses a campaign while every
// recipient it tried waits out a retry's back-off (a relay greylisting
// everyone, with the auto-pause off): once the claims made before the
// pause have ended, the back-offs that end send nothing more, not even an
// RCPT, until a resume.
func TestPauseHoldsThroughRetryBackoff(t *testing.T) {
	t.Parallel()
	const n = 40
	var tries atomic.Int64
	e := newEnv(t, func(string) error {
		tries.Add(1)
		return smtpReject(451, "4.7.1 greylisted, try again later")
	})
	e.stage(t, opts{n: n, size: n, errorRate: 1, maxFail: 1, maxAttempt: 10, backoff: "500ms"})
	e.startWorker(t, wopts{})
	ctx := context.Background()
	wait.For(t, 60*time.Second, "every recipient's first attempt", func() bool { return tries.Load() >= n })
	if _, err := e.st.Pause(ctx, e.name, tester, "relay greylists everyone"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 30*time.Second, "the claims made before the pause to end", func() bool { return e.claimed(t) == 0 })
	before := tries.Load()
	// Waiting for nothing to happen: the back-offs of the recipients tried
	// once or twice (0.5 s, then 1 s) come due meanwhile.
	time.Sleep(3 * time.Second)
	if got := tries.Load(); got != before {
		t.Errorf("%d attempts at the relay after the pause took effect, want none", got-before)
	}
	if s := e.state(t); s != store.StatePaused {
		t.Errorf("state %s after the pause, want paused", s)
	}
	// Resumed, the retries go on.
	if _, err := e.st.Resume(ctx, e.name, tester, "greylisting over"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 30*time.Second, "a retry after the resume", func() bool { return tries.Load() > before })
}

// TestRetriesOfAStormDoNotPause: why TidingsCampaignDeferred exists. A
// 4xx storm pauses the campaign on its first attempts; resumed while the
// relay still defers everyone, it does not pause again while the retries
// fail temporarily (a retry that fails temporarily again is not counted
// by the auto-pause's window: README, Automatic pauses), only once they
// run out: the relay sees every recipient's every attempt first.
func TestRetriesOfAStormDoNotPause(t *testing.T) {
	t.Parallel()
	const (
		n      = 20
		maxAtt = 4
	)
	var tries atomic.Int64
	e := newEnv(t, func(string) error {
		tries.Add(1)
		return smtpReject(451, "4.7.1 try again later")
	})
	e.stage(t, opts{n: n, size: n, errorRate: 0.2, window: n, minAtt: n, maxFail: 1, maxAttempt: maxAtt, backoff: "300ms"})
	e.startWorker(t, wopts{})
	e.waitState(t, 60*time.Second, store.StatePaused)
	ctx := context.Background()
	if _, err := e.st.Resume(ctx, e.name, tester, "the relay should accept again"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 60*time.Second, "a pause or the end", func() bool {
		s := e.state(t)
		return s == store.StatePaused || s == store.StateDone
	})
	st, err := e.st.Status(ctx, e.name)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s after %d attempts: %s %v", st.State, tries.Load(), st.Reason, st.Counts)
	if got := tries.Load(); got != n*maxAtt {
		t.Errorf("the relay saw %d attempts before the campaign stopped, want every one of %d recipients' %d", got, n, maxAtt)
	}
	if st.Counts[store.OutcomeFailed] != n {
		t.Errorf("counts %v: want all %d failed, their retries run out", st.Counts, n)
	}
}
