package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestALateRecordOfAClaimFoundInDoubtByAnotherPass: two passes of one chunk
// run at once (a task the reconciler replaced while its worker still ran
// it, asynq running a task twice). The second pass claims x; the first
// reaches x, finds it being sent under another claim and records it in
// doubt (an abandoned claim, as far as it can tell), sends the others,
// ends the chunk finished, and the campaign is done (in doubt is an
// outcome). Then the second pass's late record of x arrives. Whatever it
// is, the campaign must stay accounted for: every row has an outcome, the
// report and the status counts agree, and a done campaign holds nobody
// pending. Before, a late temporary failure made x deferred again: done
// with 1 pending, in a finished chunk that nothing ran again, and `retry`
// re-queued nobody (x was not failed). A temporary failure means that x
// was not delivered: it is recorded failed (temporary), and `retry`
// re-queues it as it does every temporary failure past its attempts;
// x is then sent once. An outcome that may have been delivered (sent, in
// doubt) is never re-queued.
func TestALateRecordOfAClaimFoundInDoubtByAnotherPass(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	pol := store.Policy{MaxAttempts: 3} // x's temporary failure has attempts left
	for i, tt := range []struct {
		late    store.Kind // the second pass's record of x
		want    string     // x's outcome then
		temp    bool       // recorded as a temporary failure (retry re-queues it)
		scope   store.RetryScope
		requeue int // what that retry re-queues: x, or nobody
		end     string
	}{
		{late: store.KindTemp, want: store.OutcomeFailed, temp: true, requeue: 1, end: store.OutcomeSent},
		{late: store.KindSent, want: store.OutcomeSent, scope: store.RetryScope{Permanent: true}, end: store.OutcomeSent},
		{late: store.KindFailed, want: store.OutcomeFailed, scope: store.RetryScope{Permanent: true}, requeue: 1, end: store.OutcomeSent},
		{late: store.KindRefused, want: store.OutcomeRefused, scope: store.RetryScope{Permanent: true}, end: store.OutcomeRefused},
		{late: store.KindInvalid, want: store.OutcomeInvalid, scope: store.RetryScope{Permanent: true}, end: store.OutcomeInvalid},
		{late: store.KindInDoubt, want: store.OutcomeInDoubt, scope: store.RetryScope{Permanent: true}, end: store.OutcomeInDoubt},
	} {
		t.Run(string(tt.late), func(t *testing.T) {
			c := fmt.Sprintf("c-late-doubt-%d", i)
			sum, l, recs := oneChunk(t, st, c)
			x := recs[0]
			claim := func(r store.Recipient, tok string) store.ClaimResult {
				t.Helper()
				res, err := l.Step(ctx, nil, []store.Claim{{ID: r.ID, Lang: r.Lang, Token: tok}}, pol, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				return first(res).Result
			}
			if res := claim(x, "second"); res != store.ClaimOK {
				t.Fatalf("the second pass claims x: %v, want OK", res)
			}
			// The first pass: x is claimed by another: in doubt, not sent.
			for j, r := range recs {
				tok := fmt.Sprint("first", j)
				res := claim(r, tok)
				if j == 0 {
					if res != store.ClaimSkip {
						t.Fatalf("the first pass claims x, being sent by the second: %v, want SKIP (in doubt)", res)
					}
					continue
				}
				if res != store.ClaimOK {
					t.Fatalf("the first pass claims %s: %v", r.ID, res)
				}
				record(t, l, r, store.KindSent, tok, pol, time.Now())
			}
			if _, err := st.EndChunk(ctx, c, sum.Stage, 0, 0, true); err != nil {
				t.Fatal(err)
			}
			if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickDone {
				t.Fatalf("tick after the first pass: %+v, want done (x in doubt)", r)
			}

			// The step says what it recorded (the worker's metric and
			// journal line follow it), not what the second pass asked.
			if res := record(t, l, x, tt.late, "second", pol, time.Now()); len(res.Recorded) != 1 || res.Recorded[0] != tt.want {
				t.Errorf("the late %s's step answers it recorded %q, want [%s]", tt.late, res.Recorded, tt.want)
			}
			es, err := st.Entries(ctx, c, []string{x.ID})
			if err != nil {
				t.Fatal(err)
			}
			if es[0].State != tt.want || es[0].Temp != tt.temp {
				t.Errorf("x after the second pass's late %s: %+v, want %s (temporary: %v)", tt.late, es[0], tt.want, tt.temp)
			}
			s := accounted(t, st, c)
			// What status shows of it: a temporary failure whose retries ran
			// out, which a retry re-queues (statusview.Next: NextRetry).
			exhausted := 0
			for _, g := range s.Errors {
				exhausted += g.Exhausted
			}
			if want := map[bool]int{true: 1}[tt.temp]; exhausted != want {
				t.Errorf("status counts %d temporary failures failed for good (errors %+v), want %d", exhausted, s.Errors, want)
			}

			retried, err := st.Requeue(ctx, c, who, tt.scope)
			if err != nil || retried.N != tt.requeue {
				t.Fatalf("retry (%s): %d, %v; want %d re-queued", tt.scope, retried.N, err, tt.requeue)
			}
			// The chunk's pass after the retry (the reconciler runs a chunk
			// not finished): it claims what is not final.
			if !chunkFinished(t, st, c) {
				passAgain(t, st, l, c, sum.Stage, recs, pol, "again")
			}
			if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickDone && r.Code != store.TickNoop {
				t.Fatalf("tick after the retry: %+v", r)
			}
			s = accounted(t, st, c)
			if s.State != store.StateDone {
				t.Errorf("after the retry: %s (counts %v), want done", s.State, s.Counts)
			}
			if es, err = st.Entries(ctx, c, []string{x.ID}); err != nil || es[0].State != tt.end {
				t.Errorf("x in the end: %+v, %v; want %s", es, err, tt.end)
			}
			if res := claim(x, "later"); res != store.ClaimStop && res != store.ClaimSkip {
				t.Errorf("a later claim of x: %v, want it refused (x would be sent twice)", res)
			}
		})
	}
}

// accounted checks that campaign c is accounted for: its report has a row
// per recipient, whose outcomes are the status's counts, and a done
// campaign has nobody pending. It returns the status.
func accounted(t *testing.T, st *store.Store, c string) *store.Status {
	t.Helper()
	ctx := context.Background()
	s, err := st.Status(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int64{}
	var n int64
	if err := st.Report(ctx, c, func(r store.Row) error {
		rows[r.Outcome]++
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != s.Total {
		t.Errorf("%s: the report has %d rows, the status %d recipients", c, n, s.Total)
	}
	for _, o := range store.Outcomes {
		if rows[o] != s.Counts[o] {
			t.Errorf("%s: %d %s in the report, %d in the status (report %v, status %v)", c, rows[o], o, s.Counts[o], rows, s.Counts)
		}
	}
	if s.State == store.StateDone && s.Counts[store.OutcomePending] != 0 {
		t.Errorf("%s: done with %d pending (counts %v): nothing sends them", c, s.Counts[store.OutcomePending], s.Counts)
	}
	return s
}
