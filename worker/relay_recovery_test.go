package worker_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// relayScenario: the relay misbehaves from the start (greet421) or after
// 40 messages (auth535, its open connections dropped), the campaign must
// pause itself naming the reply (README, On-call: automatic pauses;
// Sending semantics: 4xx and failures to connect are temporary), and, once
// the relay is fixed and the campaign resumed, send everyone exactly once.
func TestRelayMisbehavesThenRecovers(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		mode  int32
		after int // messages accepted before the relay misbehaves
		code  string
		tls   string
	}{
		{"421 at greeting", modeGreet421, 0, "421", send.TLSNone},
		{"AUTH rejected mid-campaign", modeAuth535, 40, "535", send.TLSNone},
		{"STARTTLS refused mid-campaign", modeTLS454, 40, "454", send.TLSStartTLS},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const n = 200
			e := newEnvWith(t, smtpcapture.Config{Username: "tidings", Password: "s3cret", StartTLS: tt.tls == send.TLSStartTLS})
			p := startRelayProxy(t, net.JoinHostPort(e.smtp.Host(), strconv.Itoa(e.smtp.Port())))
			if tt.after == 0 {
				p.mode.Store(tt.mode)
			}
			// A backoff long enough that no retry comes before the pause. When
			// the relay turns bad mid-campaign, a rate (4 s for all) keeps the
			// campaign from ending before the test turns it: on a loaded
			// machine the worker sent all 200 first, and nothing paused.
			rate := ""
			if tt.after > 0 {
				rate = "50/s"
			}
			e.stage(t, opts{n: n, size: n, errorRate: 0.5, window: 100, minAtt: 20, maxAttempt: 3, backoff: "10s", rate: rate})
			e.startWorker(t, wopts{smtp: &send.Config{Host: "127.0.0.1", Port: p.port(), TLS: tt.tls, InsecureSkipVerify: true, Timeout: 5 * time.Second,
				Username: "tidings", Password: "s3cret"}})
			if tt.after > 0 {
				wait.For(t, 30*time.Second, "the first messages", func() bool { return e.smtp.Count() >= tt.after })
				p.mode.Store(tt.mode)
				p.kill()
			}
			e.waitState(t, 30*time.Second, store.StatePaused)
			ctx := context.Background()
			st, err := e.st.Status(ctx, e.name)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("paused: %s; counts %v", st.Reason, st.Counts)
			if !strings.Contains(st.Reason, tt.code) {
				t.Errorf("pause reason %q does not name the relay's %s", st.Reason, tt.code)
			}
			if len(st.Errors) == 0 || !strings.Contains(st.Errors[0].Code+" "+st.Errors[0].Response, tt.code) {
				t.Errorf("errors by reply %+v do not name %s", st.Errors, tt.code)
			}
			p.mode.Store(modeProxy)
			t.Logf("resume at %s", time.Now().Format("15:04:05.000"))
			if _, err := e.st.Resume(ctx, e.name, tester, "relay fixed"); err != nil {
				t.Fatal(err)
			}
			wait.For(t, 60*time.Second, "the campaign to finish", func() bool {
				s := e.state(t)
				if s == store.StatePaused {
					st, _ := e.st.Status(ctx, e.name)
					t.Fatalf("paused again: %s (%v)", st.Reason, st.Counts)
				}
				return s == store.StateDone
			})
			st = e.checkReconcile(t)
			t.Logf("done: %v", st.Counts)
			_ = e.st.Report(ctx, e.name, func(r store.Row) error {
				if r.Outcome == store.OutcomeFailed {
					t.Logf("failed: %s attempts %d at %s: %s %s", r.Email, r.Attempts, r.At.Format("15:04:05.000"), r.Code, r.Response)
				}
				return nil
			})
			if got := st.Counts[store.OutcomeSent] + st.Counts[store.OutcomeInDoubt]; got != n || st.Counts[store.OutcomeInDoubt] > 4 {
				t.Errorf("counts %v: want all %d sent (a few in doubt at most: the connections dropped)", st.Counts, n)
			}
		})
	}
}
