package statusview_test

import (
	"bytes"
	"cmp"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

func TestMain(m *testing.M) {
	time.Local = time.UTC // times in the golden files
	os.Exit(m.Run())
}

var at = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

func counts(kv ...any) map[string]int64 {
	m := map[string]int64{}
	for _, o := range store.Outcomes {
		m[o] = 0
	}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = int64(kv[i+1].(int))
	}
	return m
}

// batches returns n regular batches of size after a canary of canary, the
// first done ones finished (all sent), the current one sending.
func batches(canary, n, size, done int) []store.BatchStatus {
	bs := []store.BatchStatus{{Batch: 0, Canary: true, Size: canary, Released: true, Done: true,
		BatchProgress: store.BatchProgress{Attempted: canary, Sent: canary}}}
	for i := 1; i <= n; i++ {
		b := store.BatchStatus{Batch: i, Size: size}
		switch {
		case i <= done:
			b.Released, b.Done, b.BatchProgress = true, true, store.BatchProgress{Attempted: size, Sent: size}
		case i == done+1:
			b.Released, b.BatchProgress = true, store.BatchProgress{Attempted: size / 2, Sent: size / 2}
		}
		bs = append(bs, b)
	}
	return bs
}

// canary returns a canary of 10 with sent of them sent, then two regular
// batches of 45 not released.
func canary(sent int) []store.BatchStatus {
	return []store.BatchStatus{{Batch: 0, Canary: true, Size: 10, Released: true, Done: sent == 10, BatchProgress: store.BatchProgress{Attempted: sent, Sent: sent}},
		{Batch: 1, Size: 45}, {Batch: 2, Size: 45}}
}

func TestWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		st   store.Status
		hint string
		now  time.Time // when it is read; at when zero
		want []string  // fragments the output must hold
		not  []string  // fragments it must not hold
	}{
		{
			name: "running",
			st: store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateRunning, CurBatch: 3}, Total: 1000, Staged: 1000,
				Counts: counts(store.OutcomeSent, 300, store.OutcomePending, 700), Rate: 20, ETASeconds: 35,
				Batches: batches(10, 4, 250, 1)},
			hint: "pause with: ...",
			want: []string{"State:    RUNNING\n", "pause with: ...", "ETA 35s", "300/1000"},
		},
		{
			// Redis lost chunk 2 after the campaign was done: said before
			// the progress, with the hint.
			name: "lost-chunks",
			st: store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateDone, CurBatch: 2}, Total: 1000, Staged: 1000,
				Counts: counts(store.OutcomeSent, 1000), Batches: batches(10, 4, 250, 4), LostChunks: []int{2}},
			hint: "who was sent is in the workers' delivery journals: ...",
			want: []string{"State:    DONE\nLost:     Redis lost chunk(s) [2] of this campaign (part of its state): a report read from Redis lacks their recipients' rows, and no worker sends those of them not sent yet\n          who was sent"},
		},
		{
			name: "auto-paused",
			st: store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StatePaused, By: "auto-pause", At: at,
				Reason: "auto-pause: error rate 60% over the last 20 attempts (last error: 550 5.1.1 no such user)", CurBatch: 1},
				Total: 100, Staged: 100, Counts: counts(store.OutcomeSent, 8, store.OutcomeFailed, 12, store.OutcomePending, 80),
				Rate: 4, ETASeconds: 20, Batches: batches(10, 2, 45, 0)},
			hint: "resume with: tidings resume c --env production",
			want: []string{"PAUSED by auto-pause at 2026-03-01 09:30:00 UTC: error rate 60%", "resume with: tidings resume c --env production", "ETA - (not while paused)"},
			not:  []string{"auto-pause: error rate", "ETA 20s"},
		},
		{
			// A relay that drops its reply after the data: the recent
			// errors say in doubt, not temporary or permanent.
			name: "gated-in-doubt",
			st: store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StatePaused, By: "batch-gate", At: at,
				Reason: "batch gate: 12 of the 12 first attempts in batch 0 failed or are in doubt (100%), above max_failure_rate 5% (11 in doubt (no reply after the data: the relay may have delivered them; never sent again); 1 permanent; last error: 550 5.1.1 no such user)"},
				Total: 100, Staged: 100, Counts: counts(store.OutcomeInDoubt, 11, store.OutcomeFailed, 1, store.OutcomePending, 88),
				Batches: []store.BatchStatus{{Batch: 0, Canary: true, Size: 12, Released: true, Done: true,
					BatchProgress: store.BatchProgress{Attempted: 12, Errors1: 12, Doubt1: 11, Perm: 1, Failed: 1, InDoubt: 11}}, {Batch: 1, Size: 88}},
				Errors: []store.ErrorGroup{
					{Response: "no reply after the message was sent, it may have been delivered: connection dropped: EOF", InDoubt: true, Count: 11, Last: at},
					{Code: "550 5.1.1", Response: "no such user", Count: 1, Last: at}}},
			want: []string{"11x no reply after the message was sent, it may have been delivered: connection dropped: EOF (in doubt: may have been delivered, never sent again, last 09:30:00 UTC)",
				"1x 550 5.1.1 no such user (permanent, last 09:30:00 UTC)"},
			not: []string{"temporary"},
		},
		{
			// The relay refused batch 0's first attempts; the operator
			// re-queued them (retry --permanent) and resumed: the gate
			// waits for their retries before it releases batch 1.
			name: "gate-waits-for-retried",
			st: store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateRunning, CurBatch: 0},
				Total: 100, Staged: 100, Counts: counts(store.OutcomeSent, 7, store.OutcomePending, 93), Retries: 3, GateWaitsForRetried: 3,
				Batches: []store.BatchStatus{{Batch: 0, Size: 10, Released: true, Done: true,
					BatchProgress: store.BatchProgress{Attempted: 10, Sent: 7, Errors1: 3, Retried1: 3, Perm: 3}}, {Batch: 1, Size: 90}}},
			want: []string{"batch gate: waiting for 3 retried recipients of batch 0: their first attempts failed"},
		},
		{
			name: "canary-then-approval",
			st: store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateRunning}, Total: 100, Staged: 100,
				Counts: counts(store.OutcomeSent, 4, store.OutcomePending, 96), Rate: 2, ETAWaitsFor: store.ETAWaitsForApproval,
				Batches: canary(4)},
			want: []string{"ETA after approval"},
			not:  []string{"ETA 48s", "ETA -"},
		},
		{
			name: "awaiting-approval",
			st: store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateAwaitingApproval, Reason: "canary sent (10 recipients): check it, then approve"},
				Total: 100, Staged: 100, Counts: counts(store.OutcomeSent, 10, store.OutcomePending, 90), ETAWaitsFor: store.ETAWaitsForApproval,
				Batches: canary(10)},
			want: []string{"AWAITING-APPROVAL: canary sent", "ETA after approval"},
			not:  []string{"not while awaiting-approval"},
		},
		{
			name: "cancelled",
			st: store.Status{Campaign: "c", Env: "staging", Control: store.Control{State: store.StateCancelled, By: "ana", At: at, Reason: "wrong file"},
				Total: 30, Staged: 30, Counts: counts(store.OutcomeSent, 12, store.OutcomeCancelled, 18),
				Languages: []store.LangStatus{{Lang: "de", Staged: 15, Counts: map[string]int64{store.OutcomeSent: 6, store.OutcomeCancelled: 9}}},
				Batches: []store.BatchStatus{{Batch: 0, Canary: true, Size: 12, Released: true, Done: true,
					BatchProgress: store.BatchProgress{Attempted: 12, Sent: 12}}, {Batch: 1, Size: 18, BatchProgress: store.BatchProgress{Cancelled: 18}}}},
			// No ETA: nothing more is sent (not "- (not while cancelled)").
			want: []string{"12/30 recipients done (40.0%), 12 sent, 18 cancelled", "6/15", "cancelled 18", "ETA —\n"},
			not:  []string{"100.0%", "[##############################]", "not while"},
		},
		{
			// retry.max_attempts 1: every 451 is failed for good, nothing
			// retries it; the 421s were retried and sent.
			name: "retries-exhausted",
			st: store.Status{Campaign: "c", Env: "staging", Control: store.Control{State: store.StateDone, By: "tidings-worker", At: at},
				Total: 20, Staged: 20, Counts: counts(store.OutcomeSent, 16, store.OutcomeFailed, 4),
				Errors: []store.ErrorGroup{{Code: "451", Response: "4.3.0 try again later", Temporary: true, Count: 4, Exhausted: 4, Last: at},
					{Code: "421", Response: "4.7.0 busy", Temporary: true, Count: 3, Last: at}}},
			want: []string{"4x 451 4.3.0 try again later (temporary, retries exhausted: 4 failed, last 09:30:00 UTC)", "3x 421 4.7.0 busy (temporary, retried, last 09:30:00 UTC)"},
			not:  []string{"try again later (temporary, retried"},
		},
		{
			name: "retries-waiting",
			st: store.Status{Campaign: "c", Env: "staging", Control: store.Control{State: store.StateRunning}, Total: 20, Staged: 20,
				Counts: counts(store.OutcomeSent, 18, store.OutcomePending, 2), Retries: 2, RetriesDue: at.Add(10 * time.Minute), ETASeconds: 600,
				Errors: []store.ErrorGroup{{Code: "451", Response: "4.7.1 greylisted", Temporary: true, Count: 2, Last: at}}},
			want: []string{"2 of the pending failed temporarily and wait for their retry (not failed), all due by 09:40:00", "ETA 10m0s",
				"2x 451 4.7.1 greylisted (temporary, retried, last 09:30:00 UTC)"},
		},
		{
			// Paused with 12 retries whose time came while it was paused:
			// they are due now and go once it is resumed, not "all due by"
			// a time already past (found by the console's red team).
			name: "retries-overdue-paused",
			st: store.Status{Campaign: "c", Env: "staging", Control: store.Control{State: store.StatePaused, By: "ana", At: at, Reason: "bounces"}, Total: 20, Staged: 20,
				Counts: counts(store.OutcomeSent, 8, store.OutcomePending, 12), Retries: 12, RetriesDue: at.Add(10 * time.Minute)},
			now:  at.Add(time.Hour),
			want: []string{"12 of the pending failed temporarily and wait for their retry (not failed), due now: they go once the campaign is resumed\n"},
			not:  []string{"due by"},
		},
		{
			// Paused before they are due: by when, and that they wait for
			// the resume even then.
			name: "retries-waiting-paused",
			st: store.Status{Campaign: "c", Env: "staging", Control: store.Control{State: store.StatePaused, By: "ana", At: at, Reason: "bounces"}, Total: 20, Staged: 20,
				Counts: counts(store.OutcomeSent, 18, store.OutcomePending, 2), Retries: 2, RetriesDue: at.Add(10 * time.Minute)},
			want: []string{"2 of the pending failed temporarily and wait for their retry (not failed), all due by 09:40:00 UTC: they go once the campaign is resumed\n"},
		},
		{
			// Running, their time past (a worker claims them at its next
			// pass): due now, never a time already past.
			name: "retries-overdue-running",
			st: store.Status{Campaign: "c", Env: "staging", Control: store.Control{State: store.StateRunning}, Total: 20, Staged: 20,
				Counts: counts(store.OutcomeSent, 18, store.OutcomePending, 2), Retries: 2, RetriesDue: at.Add(-time.Minute)},
			want: []string{"2 of the pending failed temporarily and wait for their retry (not failed), due now\n"},
			not:  []string{"due by", "resumed"},
		},
		{
			// retry --permanent re-queued 3 recipients a relay refused with
			// 554 while 2 others wait for their retry after a 451: the 3
			// did not fail temporarily, and are not said to have.
			name: "retries-requeued-permanent",
			st: store.Status{Campaign: "c", Env: "staging", Control: store.Control{State: store.StateRunning}, Total: 20, Staged: 20,
				Counts: counts(store.OutcomeSent, 15, store.OutcomePending, 5), Retries: 5, RequeuedPermanent: 3, RetriesDue: at.Add(10 * time.Minute), ETASeconds: 600,
				Batches: []store.BatchStatus{{Batch: 0, Size: 20, Released: true, Done: true,
					BatchProgress: store.BatchProgress{Attempted: 20, Sent: 15, RequeuedPerm: 3}}},
				Errors: []store.ErrorGroup{{Code: "554", Response: "5.7.1 relay access denied", Count: 3, Last: at},
					{Code: "451", Response: "4.7.1 greylisted", Temporary: true, Count: 2, Last: at}}},
			want: []string{"2 of the pending failed temporarily and wait for their retry (not failed), all due by 09:40:00",
				"3 of the pending failed for good and were re-queued by retry: they wait to be sent again (not failed)",
				"sent 15, 2 failed temporarily and wait for their retry, 3 failed for good and re-queued by retry, failed 0"},
			not: []string{"5 of the pending failed temporarily", "5 failed temporarily"},
		},
		{
			// Cancelled while 3 recipients waited for their retry after a
			// 451 and 1 had run out of retries: nothing is retried now.
			name: "cancelled-retries-waiting",
			st: store.Status{Campaign: "c", Env: "staging", Control: store.Control{State: store.StateCancelled, By: "ana", At: at, Reason: "wrong list"},
				Total: 20, Staged: 20, Counts: counts(store.OutcomeSent, 16, store.OutcomeFailed, 1, store.OutcomeCancelled, 3),
				Errors: []store.ErrorGroup{{Code: "451", Response: "4.7.1 greylisted", Temporary: true, Count: 3, Last: at},
					{Code: "421", Response: "4.7.0 busy", Temporary: true, Count: 2, Exhausted: 1, Last: at}}},
			want: []string{"3x 451 4.7.1 greylisted (temporary; any still waiting for a retry were cancelled, last 09:30:00 UTC)",
				"2x 421 4.7.0 busy (temporary, retries exhausted: 1 failed; any still waiting for a retry were cancelled, last 09:30:00 UTC)"},
			not: []string{"temporary, retried"},
		},
		{
			// A relay not set up for tidings refused everyone with 554
			// 5.7.1 and the campaign paused itself: on-call is told that
			// resume alone sends none of them again, and what does, once
			// the relay is fixed (README, "Everyone refused because of
			// us"), with the code to give.
			name: "auto-paused-relay-refusal",
			st: store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StatePaused, By: "auto-pause", At: at,
				Reason: "auto-pause: error rate 100% over the last 20 attempts (last error: 554 5.7.1 relay access denied)"},
				Total: 100, Staged: 100, Counts: counts(store.OutcomeFailed, 20, store.OutcomePending, 80),
				Errors: []store.ErrorGroup{{Code: "554", Response: "5.7.1 relay access denied", Count: 20, Last: at}}},
			hint: "resume with: tidings resume c --env production",
			want: []string{"20x 554 5.7.1 relay access denied (permanent, last 09:30:00 UTC)",
				"20 failed for good (a 5xx reply): neither resume nor a plain retry sends them again",
				"tidings report c --env production --outcome failed",
				"tidings retry c --env production --permanent --code 554"},
		},
		{
			// Red team 29a: 4 recipients refused with 550 5.1.1, re-queued
			// by retry --permanent --code 5.1.1 and refused again (8
			// replies), and 4 whose 451s ran out of retries: 8 failed, of
			// whom 4 for good. The advice counted the 550 replies, not the
			// recipients, and said "8 failed for good (a 5xx reply)".
			name: "permanent-retried-beside-exhausted",
			st: store.Status{Campaign: "c", Env: "staging", Control: store.Control{State: store.StateDone, By: "tidings-worker", At: at},
				Total: 45, Staged: 45, Counts: counts(store.OutcomeSent, 37, store.OutcomeFailed, 8),
				Errors: []store.ErrorGroup{{Code: "550 5.1.1", Response: "no such user", Count: 8, Last: at},
					{Code: "451 4.3.0", Response: "try later", Temporary: true, Count: 11, Exhausted: 4, Last: at}}},
			want: []string{"4 failed for good (a 5xx reply): neither resume nor a plain retry sends them again",
				"tidings retry c --env staging --permanent --code 550"},
			not: []string{"8 failed for good"},
		},
		{
			name: "many-batches",
			st: store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateRunning, CurBatch: 31}, Total: 20010, Staged: 20010,
				Counts: counts(store.OutcomeSent, 15260, store.OutcomePending, 4750), Batches: batches(10, 40, 500, 30)},
			// Every batch is accounted for: 1-28 finished, 29-36 in full,
			// 37-40 waiting.
			want: []string{"batches 1-28  [####################] 14000/14000 28 done: sent 14000", "batch 29 ", "batch 36 ", "batches 37-40 [....................]     0/2000  4 waiting: sent 0"},
		},
		{
			// Paused while its staging again had not ended: the pause is
			// said in the console's words (nextstep.PausedWhileStaging),
			// under the state, with the hint that does not say to pause.
			name: "paused-while-staging",
			st: store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateRestagingInterrupted, By: "bob@box2", At: at, CurBatch: -1,
				Reason: "its staging again never finished: the send that staged it again stopped before its end (interrupted, or it failed); no worker sends it until that send is run again"},
				Total: 30, Staged: 30, Counts: counts(store.OutcomePending, 30),
				PausedWhileStaging: &store.Control{State: store.StatePaused, By: "alice@ops", At: at.Add(-time.Minute), Reason: "fix the list"}},
			hint: "run the same send again as a re-staging: tidings send CAMPAIGN-FILE --env production --resume-existing (with any --exclude-delivered it had)",
			want: []string{"State:    RESTAGING-INTERRUPTED by bob@box2 at 2026-03-01 09:30:00 UTC: its staging again never finished",
				"\nPause:    paused meanwhile by alice@ops at 2026-03-01 09:29:00 UTC (fix the list): the pause stays once it is staged, and nothing else acts on it until then\n"},
		},
		{
			// Being staged by a send that has not recorded its start yet:
			// by whom, and no time (not "at 0001-01-01").
			name: "being-staged",
			st:   *store.BeingStaged("c", "production", &store.BeingStagedError{Campaign: "c", By: "erin@ci", Staged: 64000}),
			hint: "pause with: tidings pause c --env production --reason ...",
			want: []string{"State:    BEING-STAGED by erin@ci: its first staging runs: only a pause acts on it until that staging ends\n"},
			not:  []string{"0001", " at "},
		},
		{
			// A record of an older version, without its environment: not
			// "(environment )", and what to run names ENV.
			name: "no-environment",
			st: store.Status{Campaign: "c", Control: store.Control{State: store.StatePaused, By: "alice", At: at, Reason: "check the list"},
				Total: 3, Staged: 3, Counts: counts(store.OutcomePending, 3)},
			hint: nextstep.Hint(store.NextResume, "c", ""),
			want: []string{"Campaign c (environment not recorded)\n", "tidings resume c --env ENV "},
			not:  []string{"environment )", "--env  "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			statusview.WriteAt(&b, &tt.st, cmp.Or(tt.now, at), tt.hint)
			got := b.String()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("output holds %q", w)
				}
			}
			golden.Check(t, filepath.Join("testdata", tt.name+".golden"), got)
		})
	}
}

// TestNext: what the hint says next; a finished campaign with temporary
// failures whose retries ran out (done: a retry re-queues them) or with
// recipients in doubt says so rather than only "every recipient's
// outcome".
func TestNext(t *testing.T) {
	t.Parallel()
	exhausted := []store.ErrorGroup{{Code: "451", Temporary: true, Count: 4, Exhausted: 4}}
	retried := []store.ErrorGroup{{Code: "451", Temporary: true, Count: 4}}
	tests := []struct {
		name   string
		state  store.State
		errors []store.ErrorGroup
		doubt  int
		want   store.Next
		lost   []int
	}{
		{"done, retries ran out", store.StateDone, exhausted, 0, store.NextRetry, nil},
		{"done, retries ran out, in doubt too", store.StateDone, exhausted, 1, store.NextRetry, nil},
		{"done, retried and sent", store.StateDone, retried, 0, store.NextOutcomes, nil},
		{"done, in doubt", store.StateDone, retried, 2, store.NextInDoubt, nil},
		{"cancelled, retries ran out", store.StateCancelled, exhausted, 0, store.NextOutcomes, nil}, // a cancelled campaign is not retried
		{"cancelled, in doubt", store.StateCancelled, nil, 1, store.NextInDoubt, nil},
		{"running, retries ran out", store.StateRunning, exhausted, 1, store.NextPause, nil},
		{"running, a chunk lost", store.StateRunning, nil, 0, store.NextLostChunks, []int{3}},
		{"done, retries ran out, a chunk lost", store.StateDone, exhausted, 1, store.NextLostChunks, []int{0}},
	}
	for _, tt := range tests {
		st := &store.Status{Control: store.Control{State: tt.state}, Errors: tt.errors, Counts: counts(store.OutcomeInDoubt, tt.doubt), LostChunks: tt.lost}
		if got := statusview.Next(st); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	// Recipients still pending in a cancelled campaign: its cancel was
	// interrupted before it recorded them all, and is run again (in doubt
	// ones come after); pending in any other state is no cancel's.
	for _, tt := range []struct {
		name  string
		state store.State
		kv    []any
		want  store.Next
	}{
		{"cancelled, pending", store.StateCancelled, []any{store.OutcomePending, 7, store.OutcomeCancelled, 3}, store.NextCancelAgain},
		{"cancelled, pending and in doubt", store.StateCancelled, []any{store.OutcomePending, 7, store.OutcomeInDoubt, 1}, store.NextCancelAgain},
		{"cancelled, none pending", store.StateCancelled, []any{store.OutcomeCancelled, 10}, store.NextOutcomes},
		{"paused, pending", store.StatePaused, []any{store.OutcomePending, 7}, store.NextResume},
	} {
		st := &store.Status{Control: store.Control{State: tt.state}, Counts: counts(tt.kv...)}
		if got := statusview.Next(st); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestWithStall: a running campaign whose recipients have been due to be
// sent (store.Status.DueSince) says so, in the full view and in the
// one-line form (Line, stall="..."), when no outcome came for a minute
// since they became due (no worker runs, or none reaches Redis or SMTP);
// not while it waits on purpose (DueSince zero), nor in another state, nor
// within the minute, nor just after work became due again (an approval,
// a resume, a batch's time) however old the last outcome.
func TestWithStall(t *testing.T) {
	t.Parallel()
	now := at.Add(time.Hour)
	running := func(last, due time.Time) *store.Status {
		return &store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateRunning, At: at},
			LastProgress: last, DueSince: due}
	}
	hhmmss := func(t time.Time) string { return t.UTC().Format("15:04:05 UTC") }
	awaiting := func(st *store.Status, workers ...string) *store.Status { st.Awaited = workers; return st }
	otherBuild := func(st *store.Status) *store.Status { // B of stored format 2, the campaign of 1
		f := 1
		st.Format, st.AwaitedOtherFormat = &f, []store.WorkerBuild{{Worker: "B", Format: 2, Version: "v9.9.9"}}
		return st
	}
	tests := []struct {
		name string
		st   *store.Status
		want string // "" : the hint unchanged
	}{
		{"no outcome for 5m", running(now.Add(-5*time.Minute), now.Add(-20*time.Minute)),
			"NO PROGRESS for 5m0s (no outcome since " + hhmmss(now.Add(-5*time.Minute)) + ") although recipients wait: check that a worker of environment production runs and reaches Redis and SMTP (its log says why not)\n          pause with: ..."},
		{"never an outcome", running(time.Time{}, at),
			"NO PROGRESS for 1h0m0s (recipients due since " + hhmmss(at) + ", no outcome since)"},
		{"approved 10m ago, nothing sent since", running(at, now.Add(-10*time.Minute)),
			"NO PROGRESS for 10m0s (recipients due since " + hhmmss(now.Add(-10*time.Minute)) + ", no outcome since)"},
		{"approved 3s ago, the last outcome an hour old", running(at, now.Add(-3*time.Second)), ""},
		{"an outcome 30s ago", running(now.Add(-30*time.Second), now.Add(-20*time.Minute)), ""},
		{"waiting on purpose (between batches)", running(now.Add(-5*time.Minute), time.Time{}), ""},
		{"paused", &store.Status{Campaign: "c", Control: store.Control{State: store.StatePaused, At: at}, DueSince: at}, ""},
		{"claims wait for two workers' journal checks", awaiting(running(now.Add(-5*time.Minute), now.Add(-20*time.Minute)), "A2", "B"),
			"NO PROGRESS for 5m0s (no outcome since " + hhmmss(now.Add(-5*time.Minute)) + ") although recipients wait: no chunk claims until A2, B (running) check their delivery journals against the campaign's current state: check their logs and that they reach Redis and read their journal directory; and check that a worker of environment production runs and reaches Redis and SMTP (its log says why not)\n          pause with: ..."},
		{"claims wait for a worker of another build", otherBuild(awaiting(running(now.Add(-5*time.Minute), now.Add(-20*time.Minute)), "A2", "B")),
			"NO PROGRESS for 5m0s (no outcome since " + hhmmss(now.Add(-5*time.Minute)) + ") although recipients wait: no chunk claims until A2, B (running) check their delivery journals against the campaign's current state: " +
				"B (version v9.9.9) has stored format 2, not this campaign's 1, and never checks a campaign of another format: stop the workers of another build until this campaign is done (run workers of one build per environment); " +
				"check their logs and that they reach Redis and read their journal directory; and check that a worker of environment production runs"},
	}
	for _, tt := range tests {
		got := statusview.WithStall(tt.st, now, "pause with: ...")
		if tt.want == "" && got != "pause with: ..." || tt.want != "" && !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: %q\nwant %q", tt.name, got, cmp.Or(tt.want, "pause with: ..."))
		}
		// The one-line form (a watch into a log) says the same.
		line := statusview.Line(tt.st, now)
		_, stall, found := strings.Cut(line, ` stall="`)
		switch {
		case tt.want == "" && found:
			t.Errorf("%s: Line %q has a stall", tt.name, line)
		case tt.want != "" && !strings.HasPrefix(stall, strings.ReplaceAll(strings.ReplaceAll(tt.want, "\n          pause with: ...", ""), `"`, `\"`)):
			t.Errorf("%s: Line %q\nwant it to end with stall=%q", tt.name, line, tt.want)
		}
	}
}

func TestReason(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ by, reason, want string }{
		{"auto-pause", "auto-pause: error rate 60%", "error rate 60%"},
		{"batch-gate", "batch gate: 18 of the 18 first attempts", "18 of the 18 first attempts"},
		{"ana", "bounces climbing", "bounces climbing"},
		{"ana", "ana", "ana"},
		{"", "anything: else", "anything: else"},
	} {
		if got := statusview.Reason(&store.Status{Control: store.Control{By: tt.by, Reason: tt.reason}}); got != tt.want {
			t.Errorf("Reason(by %q, %q) = %q, want %q", tt.by, tt.reason, got, tt.want)
		}
	}
}

// TestLineSaysTheRequeuedPermanent: the one-line form says how many of the
// retries waiting are permanent failures a retry re-queued, when any are.
func TestLineSaysTheRequeuedPermanent(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		requeued int64
		want     string
	}{{3, " retries_waiting=5 rate=0.0/s retries_requeued_permanent=3"}, {0, " retries_waiting=5 rate=0.0/s\n"}} {
		st := &store.Status{Campaign: "c", Control: store.Control{State: store.StateRunning}, Retries: 5, RequeuedPermanent: tt.requeued}
		if got := statusview.Line(st, at) + "\n"; !strings.Contains(got, tt.want) {
			t.Errorf("Line with %d re-queued permanent failures: %q, want it to hold %q", tt.requeued, got, tt.want)
		}
	}
}

// TestLineSaysAPauseWhileStaging: the one-line form (--watch off a
// terminal) of a staging interrupted and paused meanwhile says the pause
// (pause="..." in nextstep.PausedWhileStaging's words), which the
// status's reason does not hold; none without a pause.
func TestLineSaysAPauseWhileStaging(t *testing.T) {
	t.Parallel()
	for _, paused := range []*store.Control{nil, {State: store.StatePaused, By: "alice@ops", At: at, Reason: "fix the list"}} {
		st := &store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateStagingInterrupted, By: "bob@box2", At: at,
			Reason: "its first staging never finished"}, Counts: counts(), PausedWhileStaging: paused}
		got := statusview.Line(st, at)
		want := ` pause="paused meanwhile by alice@ops at 2026-03-01 09:30:00 UTC (fix the list): the pause stays once it is staged, and only cancel, which gives it up, acts on it until then"`
		if paused != nil && !strings.Contains(got, want) || paused == nil && strings.Contains(got, "pause=") {
			t.Errorf("Line (paused %v) = %q; want the pause said exactly when made", paused != nil, got)
		}
	}
}

// TestTimesSayTheirZone: every time tidings status writes (the state's,
// the errors' last, the retries' due, the audit log's) says its zone,
// UTC, as the console's pages and status's own stall line do, whatever
// the machine's zone: on-call compares them. Before, four of them were
// the machine's local time with no zone, so on a laptop in CET a pause
// the console shows at 09:30:00 UTC was "at 2026-03-01 10:30:00" in the
// same status that said "no outcome since 09:30:00 UTC". Not parallel: it
// sets time.Local.
func TestTimesSayTheirZone(t *testing.T) {
	was := time.Local
	time.Local = time.FixedZone("CET", 3600)
	t.Cleanup(func() { time.Local = was })
	st := store.Status{Campaign: "c", Env: "staging", Control: store.Control{State: store.StatePaused, By: "alice", At: at, Reason: "bounces"},
		Total: 20, Staged: 20, Counts: counts(store.OutcomeSent, 18, store.OutcomePending, 2), Retries: 2, RetriesDue: at.Add(10 * time.Minute),
		Errors: []store.ErrorGroup{{Code: "451", Response: "4.7.1 greylisted", Temporary: true, Count: 2, Last: at}},
		Audit:  []store.AuditEntry{{At: at, Action: "pause", Who: "alice", Host: "box", Env: "staging", Reason: "bounces"}}}
	var b bytes.Buffer
	statusview.WriteAt(&b, &st, at, "")
	got := b.String()
	for _, tt := range []struct{ what, want string }{
		{"the state's time", "PAUSED by alice at 2026-03-01 09:30:00 UTC: bounces"},
		{"the retries' due time", "all due by 09:40:00 UTC"},
		{"the errors' last", "last 09:30:00 UTC)"},
		{"the audit log's time", "  2026-03-01 09:30:00 UTC  pause"},
	} {
		if !strings.Contains(got, tt.want) {
			t.Errorf("%s: want %q in\n%s", tt.what, tt.want, got)
		}
	}
	if strings.Contains(got, "10:30:00") || strings.Contains(got, "10:40:00") {
		t.Errorf("a time in the machine's zone (CET), without it:\n%s", got)
	}
}
