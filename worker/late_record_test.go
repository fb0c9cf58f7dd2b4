package worker_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/report"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// lateRecord is a case of
// TestALateTemporaryFailureIsCountedAndJournaledAsTheLedgerRecordedIt:
// what happens while x is at the relay (other), and what the ledger
// records of the relay's late 4xx (want; temp: the temporary flag kept, so
// that a retry re-queues x).
type lateRecord struct {
	name  string
	other func(t *testing.T, e *env, x store.Recipient, stage string)
	want  string
	temp  bool
}

// TestALateTemporaryFailureIsCountedAndJournaledAsTheLedgerRecordedIt: the
// relay holds the worker's message to x, then answers 451 (x has attempts
// left, so the worker's journal line says temp, which `report --journal`
// reads as pending). Meanwhile the ledger made that late record another
// outcome: another pass of the same chunk (a task the reconciler replaced
// while its worker still ran it) claimed x, found it being sent and
// recorded it in doubt, and ended the chunk, so the late 4xx is failed
// (temporary), never deferred; or the campaign was cancelled, so it is
// cancelled. The worker's tidings_messages_total and its delivery journal,
// read back as `report --journal` reads it, say what the ledger recorded,
// the 4xx code kept, one attempt. Before, after another pass, the metric
// said deferred and the journal pending. The cancel held before too when,
// as here, the worker has read the cancel before it writes its line (its
// line then says cancelled); one it reads later is amended as the other
// pass's is (store.StepResult.Recorded).
func TestALateTemporaryFailureIsCountedAndJournaledAsTheLedgerRecordedIt(t *testing.T) {
	t.Parallel()
	for _, tt := range []lateRecord{
		{name: "another pass found it in doubt", want: store.OutcomeFailed, temp: true, other: func(t *testing.T, e *env, x store.Recipient, stage string) {
			ctx := context.Background()
			res, err := e.st.Ledger(e.name, stage).Step(ctx, nil, []store.Claim{{ID: x.ID, Lang: x.Lang, Token: "another-pass"}}, store.Policy{MaxAttempts: 3}, time.Now())
			if err != nil || len(res.Claims) != 1 || res.Claims[0].Result != store.ClaimSkip {
				t.Fatalf("the other pass's claim of x: %+v, %v; want skipped (in doubt: being sent)", res, err)
			}
			if _, err := e.st.EndChunk(ctx, e.name, stage, 0, 0, true); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "cancelled", want: store.OutcomeCancelled, other: func(t *testing.T, e *env, _ store.Recipient, _ string) {
			if _, _, err := e.st.Cancel(context.Background(), e.name, store.Actor{Who: "on-call"}, "wrong template"); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			held, release := make(chan string, 1), make(chan struct{})
			var once sync.Once
			t.Cleanup(func() { close(release) }) // a test that failed early lets the relay go
			e := newEnv(t, func(rcpt string) error {
				first := false
				once.Do(func() { first = true })
				if !first {
					return nil
				}
				held <- rcpt
				<-release
				return smtpReject(451, "4.7.1 greylisted, try again later")
			})
			e.stage(t, opts{n: 1, size: 1, maxAttempt: 3})
			jdir, reg := t.TempDir(), prometheus.NewRegistry()
			stop := e.startWorker(t, wopts{journal: jdir, metrics: reg, id: "w1", control: time.Hour})
			select {
			case <-held:
			case <-time.After(60 * time.Second):
				t.Fatal("the worker sent nobody within 60 s")
			}
			p, err := e.st.Probe(ctx, e.name)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := e.st.Chunk(ctx, e.name, 0)
			if err != nil || len(recs) != 1 {
				t.Fatalf("chunk 0: %v, %v", recs, err)
			}
			tt.other(t, e, recs[0], p.Stage)
			release <- struct{}{} // the relay answers 451
			wait.For(t, 60*time.Second, "the worker's record of x", func() bool {
				n := 0.0
				for _, v := range messagesByOutcome(t, reg) {
					n += v
				}
				return n > 0
			})
			stop()

			es, err := e.st.Entries(ctx, e.name, []string{recs[0].ID})
			if err != nil || es[0].State != tt.want || es[0].Temp != tt.temp {
				t.Fatalf("the ledger holds x %+v, %v; want %s (temporary: %v)", es, err, tt.want, tt.temp)
			}
			if m := messagesByOutcome(t, reg); m[tt.want] != 1 || len(m) != 1 {
				t.Errorf("tidings_messages_total by outcome %v, want x counted %s alone", m, tt.want)
			}
			j, err := report.ReadJournal(jdir, e.name)
			if err != nil {
				t.Fatal(err)
			}
			if len(j.Rows) != 1 {
				t.Fatalf("the journal has %d rows, want x's", len(j.Rows))
			}
			// The 4xx code says it was a temporary failure; one attempt.
			if r := j.Rows[0]; r.ID != recs[0].ID || r.Outcome != tt.want || !strings.HasPrefix(r.Code, "451") || r.Attempts != 1 {
				t.Errorf("report --journal reads x as %+v, want %s, code 451, 1 attempt", *r, tt.want)
			}
		})
	}
}
