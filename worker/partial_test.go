package worker_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// The domains of TestOnCallPartlyDegradedRelay: recipient i's is
// partDomains[i%4].
var partDomains = [...]string{"throttled.example", "refusing.example", "slow.example", "ok.example"}

// TestOnCallPartlyDegradedRelay: on-call at 2 a.m. with a relay that
// degrades partly, per recipient domain, and recovers (real Redis, a real
// go-smtp relay): throttled.example is answered 421 4.7.0 / 451 4.7.1,
// refusing.example 550 5.1.1 (for good), slow.example takes a second a
// recipient, and one message in twenty (of ok.example) is read whole and
// its connection dropped before the reply (in doubt). The errors of
// two domains together pass the auto-pause's rate: the campaign pauses
// itself naming a reply, and status groups the errors by reply, 4xx
// temporary, 5xx permanent, in doubt apart. On-call resumes; still
// degraded, on-call pauses by hand: once Pause returns at most one
// message a connection (those being handed over) reaches the relay, and
// none once the claims held at the pause have ended. The relay recovers
// (all but the 550s); on-call resumes and the campaign ends with every
// row accounted for: ok/throttled/slow sent (the throttled after their
// retries), refusing failed with the 550, the dropped in doubt and never
// offered again, nobody sent twice, and no throttled recipient tried
// more than retry.max_attempts times.
func TestOnCallPartlyDegradedRelay(t *testing.T) {
	t.Parallel()
	const (
		n           = 240
		maxAttempt  = 6
		concurrency = 4
	)
	var (
		degraded atomic.Bool
		mails    atomic.Int64 // MAIL FROM commands the relay has seen
		mu       sync.Mutex
		tries    = map[string]int{} // RCPTs per recipient
		dropped  = map[string]int{} // messages read whole, then the connection dropped
		again    = map[string]int{} // RCPTs of a recipient after its message was dropped
		byDomain = map[string]int{} // RCPTs per domain while degraded
	)
	degraded.Store(true)
	domainOf := func(rcpt string) string { return rcpt[strings.IndexByte(rcpt, '@')+1:] }
	e := newEnvWith(t, smtpcapture.Config{
		MailFault: func(string) error { mails.Add(1); return nil },
		Fault: func(rcpt string) error {
			var i int
			if _, err := fmtSscanf(rcpt, &i); err != nil {
				return nil
			}
			d, bad := domainOf(rcpt), degraded.Load()
			mu.Lock()
			tries[rcpt]++
			if dropped[rcpt] > 0 {
				again[rcpt]++
			}
			if bad {
				byDomain[d]++
			}
			mu.Unlock()
			switch {
			case d == "refusing.example":
				return smtpReject(550, "5.1.1 <"+rcpt+">: Recipient address rejected: User unknown")
			case d == "throttled.example" && bad && i%8 == 0:
				return smtpReject(421, "4.7.0 throttled.example: too many messages, slow down")
			case d == "throttled.example" && bad:
				return smtpReject(451, "4.7.1 <"+rcpt+">: try again later")
			case d == "slow.example" && bad:
				time.Sleep(time.Second) // the relay, not the test, is slow
			}
			return nil
		},
		Drop: func(rcpt string) bool {
			var i int
			if _, err := fmtSscanf(rcpt, &i); err != nil || i%20 != 3 {
				return false
			}
			mu.Lock()
			dropped[rcpt]++
			mu.Unlock()
			return true
		},
	})
	// One batch (no gate: the window decides). 25% refused for good and
	// 5% in doubt stay under 40%; with the throttled 25% they pass it.
	e.stage(t, opts{n: n, size: n, errorRate: 0.4, window: 40, minAtt: 20, maxFail: 1, maxAttempt: maxAttempt, backoff: "1s",
		domain: func(i int) string { return partDomains[i%4] }})
	e.startWorker(t, wopts{concurrency: concurrency})
	ctx := context.Background()

	// The auto-pause, naming a reply; status groups them.
	e.waitState(t, 60*time.Second, store.StatePaused)
	st, err := e.st.Status(ctx, e.name)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("auto-pause: %s (by %s); counts %v", st.Reason, st.By, st.Counts)
	if !strings.HasPrefix(st.Reason, "auto-pause:") || !strings.Contains(st.Reason, "last error: ") {
		t.Errorf("paused for %q, want the auto-pause with its last error", st.Reason)
	}
	kinds := map[string]bool{}
	for _, g := range st.Errors {
		t.Logf("error group: %+v", g)
		if strings.Contains(g.Response, "@") {
			t.Errorf("error group %+v shows a recipient's address", g)
		}
		switch {
		case g.InDoubt:
			kinds["in doubt"] = true
		case strings.HasPrefix(g.Code, "4") && g.Temporary:
			kinds["4xx"] = true
		case strings.HasPrefix(g.Code, "550") && !g.Temporary:
			kinds["550"] = true
		}
	}
	for _, k := range []string{"4xx", "550"} {
		if !kinds[k] {
			t.Errorf("status's errors by reply %+v: no %s group", st.Errors, k)
		}
	}

	// Resumed while the relay is still degraded, then paused by hand at
	// once: nothing new starts once Pause has returned, beyond one message
	// a connection already being handed over.
	if _, err := e.st.Resume(ctx, e.name, tester, "relay looks better"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 60*time.Second, "a message after the resume", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return byDomain["ok.example"]+byDomain["slow.example"] > 0
	})
	if _, err := e.st.Pause(ctx, e.name, tester, "errors climbing at 2 a.m."); err != nil {
		t.Fatal(err)
	}
	atPause := mails.Load()
	wait.For(t, 60*time.Second, "the claims made before the pause to end", func() bool { return e.claimed(t) == 0 })
	afterClaims := mails.Load()
	if got := afterClaims - atPause; got > concurrency {
		t.Errorf("%d messages reached the relay after the pause returned, want at most %d (one a connection)", got, concurrency)
	}
	// Waiting for nothing to happen: retries' back-offs (1 s, 2 s) come due.
	time.Sleep(3 * time.Second)
	if got := mails.Load() - afterClaims; got != 0 {
		t.Errorf("%d messages reached the relay once the claims held at the pause had ended, want none", got)
	}
	if s := e.state(t); s != store.StatePaused {
		t.Errorf("state %s after the pause, want paused", s)
	}

	// The relay recovers (refusing.example still refuses: its users are
	// unknown); on-call resumes until the campaign ends.
	degraded.Store(false)
	e.resumeUntilDone(t, 20, 120*time.Second, "relay recovered")
	wait.For(t, 30*time.Second, "the claims to end", func() bool { return e.claimed(t) == 0 })
	st = e.checkReconcile(t)
	t.Logf("done: %v; RCPTs while degraded by domain %v", st.Counts, byDomain)

	mu.Lock()
	defer mu.Unlock()
	if len(dropped) == 0 {
		t.Fatal("no message was dropped after the dot")
	}
	var sum int64
	for _, c := range st.Counts {
		sum += c
	}
	if sum != n || st.Counts[store.OutcomePending] != 0 {
		t.Errorf("counts %v: want all %d accounted for, none pending", st.Counts, n)
	}
	for rcpt, k := range e.received() {
		if k != 1 {
			t.Errorf("%s received %d messages", rcpt, k)
		}
	}
	err = e.st.Report(ctx, e.name, func(r store.Row) error {
		d := domainOf(r.Email)
		switch {
		case dropped[r.Email] > 0:
			if dropped[r.Email] != 1 || again[r.Email] != 0 || r.Outcome != store.OutcomeInDoubt {
				t.Errorf("%s: dropped after the dot %d times, offered again %d times, reported %s: want once, never again, in-doubt", r.Email, dropped[r.Email], again[r.Email], r.Outcome)
			}
		case d == "refusing.example":
			if r.Outcome != store.OutcomeFailed || !strings.Contains(r.Code+" "+r.Response, "550") {
				t.Errorf("%s: refused 550, reported %s %q %q", r.Email, r.Outcome, r.Code, r.Response)
			}
		case r.Outcome != store.OutcomeSent:
			t.Errorf("%s: reported %s (%s %s) after %d attempts, want sent", r.Email, r.Outcome, r.Code, r.Response, r.Attempts)
		}
		if d == "throttled.example" && tries[r.Email] > maxAttempt {
			t.Errorf("%s: %d attempts at a throttled domain, want at most retry.max_attempts %d", r.Email, tries[r.Email], maxAttempt)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
