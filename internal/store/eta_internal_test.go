package store

import (
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/campaign"
)

// TestETA computes the ETA from fixed inputs: the pending recipients at
// the recent rate (or the campaign's between batches), plus an interval
// before each batch still to be released, less what has passed of the
// current wait, and no sooner than the retries waiting are due (then at
// the rate); "approval" when a canary's approval is awaited or ahead.
func TestETA(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	perSec := func(n int) campaign.Rate { return campaign.Rate{Count: n, Per: time.Second} }
	tests := []struct {
		name     string
		state    State
		cur      int  // current batch
		batches  int  // in all
		canary   bool // batch 0 is a canary
		approve  bool // approve_after_canary
		approved bool
		pending  int64
		recent   float64 // Status.Rate
		rate     campaign.Rate
		interval time.Duration
		passed   time.Duration // since the current batch's first pass completed (0: not completed)
		took     time.Duration // from its release to the end of its first pass (0: not known)
		tried    int           // its recipients attempted
		waiting  int           // of tried, those waiting for a retry (no outcome); the others are sent
		idle     time.Duration // of took, the time it spent before its first claim or paused
		last     time.Duration // of took, from its last outcome to the end of its first pass (a tick's)
		sending  time.Duration // the current batch was released this long ago and is sending (doneAt zero)
		retries  int64         // waiting for a retry (of pending)
		due      time.Duration // from now, when the last of them is due (0: not known)
		want     time.Duration
		waitsFor string
	}{
		// 18 of 20 sent, 2 wait for a retry 10 minutes away: the campaign
		// ends no sooner (it said 0.2s, at the recent rate).
		{name: "retries due later", state: StateRunning, cur: 0, batches: 1, pending: 2, recent: 10, retries: 2, due: 10 * time.Minute,
			want: 10*time.Minute + 200*time.Millisecond},
		{name: "retries due later, between batches", state: StateRunning, cur: 1, batches: 3, pending: 12, recent: 1, retries: 2, due: 10 * time.Minute,
			interval: time.Minute, passed: 30 * time.Second, want: 10*time.Minute + 2*time.Second},
		{name: "the rest outlasts the retries", state: StateRunning, cur: 0, batches: 1, pending: 1000, recent: 1, retries: 2, due: time.Minute,
			want: 1000 * time.Second},
		{name: "retries due already", state: StateRunning, cur: 0, batches: 1, pending: 2, recent: 10, retries: 2, due: -time.Minute,
			want: 200 * time.Millisecond},
		{name: "retries due unknown", state: StateRunning, cur: 0, batches: 1, pending: 2, recent: 10, retries: 2,
			want: 200 * time.Millisecond},
		{name: "paused with retries", state: StatePaused, cur: 0, batches: 1, pending: 2, recent: 10, retries: 2, due: 10 * time.Minute},
		// The user's report: size 10, interval 1m, 14 left in two batches
		// not released, a second after the current batch passed, whose
		// tail gives 0.8/s. It said 14 / 0.8 = 17.5s ("ETA 17s").
		{name: "two batches to release", state: StateRunning, cur: 3, batches: 6, pending: 14, recent: 0.8,
			interval: time.Minute, passed: time.Second, want: 17500*time.Millisecond + 2*time.Minute - time.Second},
		{name: "between batches, the campaign's rate", state: StateRunning, cur: 3, batches: 6, pending: 14, rate: perSec(20),
			interval: time.Minute, passed: 30 * time.Second, want: 700*time.Millisecond + 2*time.Minute - 30*time.Second},
		{name: "a wait longer than the interval counts once", state: StateRunning, cur: 3, batches: 6, pending: 14, rate: perSec(20),
			interval: time.Minute, passed: 5 * time.Minute, want: 700*time.Millisecond + time.Minute},
		{name: "between batches, unlimited rate: unknown", state: StateRunning, cur: 3, batches: 6, pending: 14, interval: time.Minute},
		{name: "between batches, unlimited rate: the last batch's", state: StateRunning, cur: 3, batches: 6, pending: 14, interval: time.Minute,
			passed: 30 * time.Second, took: 10 * time.Second, tried: 100, want: 1400*time.Millisecond + 2*time.Minute - 30*time.Second},
		// 100 sent in 10 s, with an hour's pause in the middle: 10/s, not
		// 100 / 3,610 s (it said 8m25s for the 14 left).
		{name: "the last batch's rate without its pause", state: StateRunning, cur: 3, batches: 6, pending: 14, interval: time.Minute,
			passed: 30 * time.Second, took: time.Hour + 10*time.Second, idle: time.Hour, tried: 100, want: 1400*time.Millisecond + 2*time.Minute - 30*time.Second},
		// 100 attempted in 10 s, 60 of them failed temporarily and wait for
		// their retry: 40 outcomes in 10 s, 4/s (it said 10/s: 1.4 s for the
		// 14 left during an SMTP server's connection refusals).
		{name: "the last batch's outcomes, not its retries waiting", state: StateRunning, cur: 3, batches: 6, pending: 14, interval: time.Minute,
			passed: 30 * time.Second, took: 10 * time.Second, tried: 100, waiting: 60, want: 3500*time.Millisecond + 2*time.Minute - 30*time.Second},
		// Its last outcome 2 s before a tick saw the batch through: 100 in
		// 10 s.
		{name: "the last batch's rate to its last outcome", state: StateRunning, cur: 3, batches: 6, pending: 14, interval: time.Minute,
			passed: 30 * time.Second, took: 12 * time.Second, last: 2 * time.Second, tried: 100, want: 1400*time.Millisecond + 2*time.Minute - 30*time.Second},
		// 40 at 20/s take 2 s; 2.8 s is that rate, give or take the first
		// and last message (batchSlack): 14 at 20/s, not at 14.3/s.
		{name: "a batch as fast as the rate lets it: the rate", state: StateRunning, cur: 3, batches: 6, pending: 14, rate: perSec(20),
			interval: time.Minute, passed: 30 * time.Second, took: 2800 * time.Millisecond, tried: 40, want: 700*time.Millisecond + 2*time.Minute - 30*time.Second},
		{name: "a batch paused throughout: the campaign's rate", state: StateRunning, cur: 3, batches: 6, pending: 14, rate: perSec(20),
			interval: time.Minute, passed: 30 * time.Second, took: time.Hour, idle: time.Hour, tried: 100, want: 700*time.Millisecond + 2*time.Minute - 30*time.Second},
		{name: "the last batch's rate before the campaign's", state: StateRunning, cur: 3, batches: 6, pending: 14, rate: perSec(20),
			interval: time.Minute, passed: 30 * time.Second, took: 20 * time.Second, tried: 100, want: 2800*time.Millisecond + 2*time.Minute - 30*time.Second},
		// Between batches the last 10 s hold the gap after the batch, in
		// which nothing was sent on purpose: the recent rate (7/s, the
		// batch's 10/s over 7 s of the 10) is diluted by it, so the batch's
		// own rate goes first (it said 2 s for the 14 left).
		{name: "between batches, the last batch's rate before the recent one", state: StateRunning, cur: 3, batches: 6, pending: 14, recent: 7,
			interval: time.Minute, passed: 3 * time.Second, took: 10 * time.Second, tried: 100, want: 1400*time.Millisecond + 2*time.Minute - 3*time.Second},
		// The operator's night (200,000 in nine languages, 2026-12-06): a
		// canary of 18 sent in half a second at 2,000/s, approved, 2 s
		// into the 5 s before batch 1. The last 10 s hold its 18 messages,
		// 1.8/s, and the ETA said 7h33m for the 49,002 left (then 39 s
		// once batch 1 sent): the canary went at the campaign's rate.
		{name: "the canary approved: its rate, not the recent 1.8/s", state: StateRunning, cur: 0, batches: 4, canary: true, approve: true, approved: true,
			pending: 49002, recent: 1.8, rate: perSec(2000), interval: 5 * time.Second, passed: 2 * time.Second, took: 500 * time.Millisecond, tried: 18,
			want: 24501*time.Millisecond + 3*5*time.Second - 2*time.Second},
		// A batch of 20,000 sent at 2,000/s in 10 s, 6 s ago: the last 10 s
		// hold 4 s of it, 800/s.
		{name: "a batch at the rate, 6 s after it", state: StateRunning, cur: 1, batches: 4, canary: true, approve: true, approved: true,
			pending: 29002, recent: 800, rate: perSec(2000), interval: 5 * time.Second, passed: 6 * time.Second, took: 10 * time.Second, tried: 20000,
			want: 14501*time.Millisecond + 2*5*time.Second - 5*time.Second},
		// The batch is sending, nothing recorded since the resume a moment
		// ago: the campaign's rate. It said "ETA -" (-9223372031 s in
		// --json): the batch's end, zero while it sends, less its release
		// and its idle time wrapped around to a time of centuries.
		{name: "a batch sending, resumed, no outcome since: the campaign's rate", state: StateRunning, cur: 1, batches: 3, pending: 100, rate: perSec(20),
			interval: time.Minute, sending: 30 * time.Second, idle: 20 * time.Second, tried: 50, want: 5*time.Second + time.Minute},
		{name: "the recent rate wins", state: StateRunning, cur: 1, batches: 3, pending: 30, recent: 5, rate: perSec(20),
			interval: time.Minute, want: 6*time.Second + time.Minute},
		{name: "the last batch", state: StateRunning, cur: 2, batches: 3, pending: 8, recent: 4, interval: time.Minute, want: 2 * time.Second},
		{name: "back to back", state: StateRunning, cur: 0, batches: 3, pending: 30, recent: 10, want: 3 * time.Second},
		{name: "nothing released: batch 0 goes at once", state: StateRunning, cur: -1, batches: 3, pending: 30, rate: perSec(10),
			interval: time.Minute, want: 3*time.Second + 2*time.Minute},
		// 200,000 in batches of 500, 1m apart, at 50/s: 7h45m40s (it said
		// 1h06m40s).
		{name: "200,000 at 50/s", state: StateRunning, cur: -1, batches: 400, pending: 200000, rate: perSec(50),
			interval: time.Minute, want: 4000*time.Second + 399*time.Minute},
		{name: "canary sending, approval ahead", state: StateRunning, cur: 0, batches: 3, canary: true, approve: true, pending: 30, recent: 2,
			interval: time.Minute, waitsFor: ETAWaitsForApproval},
		{name: "canary not released, approval ahead", state: StateRunning, cur: -1, batches: 3, canary: true, approve: true, pending: 30,
			rate: perSec(10), waitsFor: ETAWaitsForApproval},
		{name: "awaiting approval", state: StateAwaitingApproval, cur: 0, batches: 3, canary: true, approve: true, pending: 20,
			interval: time.Minute, passed: time.Second, waitsFor: ETAWaitsForApproval},
		{name: "canary approved", state: StateRunning, cur: 0, batches: 3, canary: true, approve: true, approved: true, pending: 20,
			recent: 2, interval: time.Minute, passed: 10 * time.Second, want: 10*time.Second + 2*time.Minute - 10*time.Second},
		{name: "canary without approval", state: StateRunning, cur: 0, batches: 3, canary: true, pending: 20, recent: 2,
			interval: time.Minute, want: 10*time.Second + 2*time.Minute},
		{name: "a canary alone waits for nobody", state: StateRunning, cur: 0, batches: 1, canary: true, approve: true, pending: 4, recent: 2,
			want: 2 * time.Second},
		{name: "regular batch after approval", state: StateRunning, cur: 1, batches: 3, canary: true, approve: true, approved: true,
			pending: 10, recent: 5, interval: time.Minute, want: 2*time.Second + time.Minute},
		{name: "paused", state: StatePaused, cur: 1, batches: 3, pending: 10, rate: perSec(5), interval: time.Minute},
		{name: "paused before approval", state: StatePaused, cur: 0, batches: 3, canary: true, approve: true, pending: 10, rate: perSec(5)},
		{name: "nothing pending", state: StateRunning, cur: 2, batches: 3, recent: 5, interval: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := &Status{Control: Control{State: tt.state, CurBatch: tt.cur, Approved: tt.approved},
				Counts: map[string]int64{OutcomePending: tt.pending}, Rate: tt.recent, Retries: tt.retries}
			if tt.due != 0 {
				st.RetriesDue = now.Add(tt.due)
			}
			for i := range tt.batches {
				st.Batches = append(st.Batches, BatchStatus{Batch: i, Canary: i == 0 && tt.canary})
			}
			if tt.cur >= 0 {
				st.Batches[tt.cur].Attempted, st.Batches[tt.cur].Sent = tt.tried, tt.tried-tt.waiting
			}
			camp := &campaign.Campaign{Rate: tt.rate, Batches: campaign.Batches{Interval: tt.interval, ApproveAfterCanary: tt.approve}}
			var releasedAt, doneAt time.Time
			if tt.passed > 0 {
				doneAt = now.Add(-tt.passed)
			}
			if tt.took > 0 {
				releasedAt = doneAt.Add(-tt.took)
			}
			if tt.sending > 0 {
				releasedAt = now.Add(-tt.sending)
			}
			if tt.last > 0 {
				st.LastProgress = doneAt.Add(-tt.last)
			}
			secs, waitsFor := eta(st, st.Rate, camp, releasedAt, doneAt, tt.idle, now)
			if got := time.Duration(secs * float64(time.Second)); got.Round(time.Millisecond) != tt.want || waitsFor != tt.waitsFor {
				t.Errorf("eta = %s, %q; want %s, %q", got, waitsFor, tt.want, tt.waitsFor)
			}
		})
	}
}

// TestDueSince: since when a running campaign has had recipients that
// workers should be sending now, or zero when it waits on purpose.
func TestDueSince(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) // the last state change
	released, done := at.Add(10*time.Minute), at.Add(20*time.Minute)
	interval := 5 * time.Minute
	tests := []struct {
		name       string
		state      State
		cur        int
		canary     bool // batch 0 is a canary
		approve    bool // approve_after_canary
		approved   bool
		curDone    bool // the current batch's first pass is complete
		doneAt     time.Time
		releasedAt time.Time
		rate       string    // the campaign's rate ("": unlimited)
		retries    int64     // recipients waiting for a retry
		last       time.Time // the last progress
		retriesBy  time.Time // Status.RetriesDue (zero: not known)
		action     string    // of the last state change
		want       time.Time
	}{
		{name: "no batch released", state: StateRunning, cur: -1, want: at},
		{name: "a batch sending", state: StateRunning, cur: 1, releasedAt: released, want: released},
		{name: "a batch released before a resume", state: StateRunning, cur: 1, releasedAt: at.Add(-time.Hour), want: at},
		{name: "between batches: due once the interval passed", state: StateRunning, cur: 1, curDone: true, releasedAt: released, doneAt: done, want: done.Add(interval)},
		{name: "first pass complete, no tick yet", state: StateRunning, cur: 1, curDone: true, releasedAt: released, want: at},
		{name: "the last batch done, no retry waiting", state: StateRunning, cur: 2, curDone: true, releasedAt: released, doneAt: done},
		// Retries (backoff 1m, 3 attempts): due at the latest 2m after the last progress.
		{name: "the last batch done, retries waiting", state: StateRunning, cur: 2, curDone: true, releasedAt: released, doneAt: done, retries: 3, last: done.Add(time.Minute), want: done.Add(3 * time.Minute)},
		{name: "retries waiting through a pause, resumed", state: StateRunning, cur: 2, curDone: true, releasedAt: released, doneAt: done, retries: 3, last: at.Add(-time.Hour), action: "resume", want: at},
		{name: "a retry of a done campaign", state: StateRunning, cur: 2, curDone: true, releasedAt: released, doneAt: done, retries: 3, last: at.Add(-time.Minute), action: "retry", want: at},
		{name: "after the retry's first outcome", state: StateRunning, cur: 2, curDone: true, releasedAt: released, doneAt: done, retries: 3, last: at.Add(time.Minute), action: "retry", want: at.Add(3 * time.Minute)},
		// A deferral is no progress: retries deferred after the last
		// outcome are due by their own backoff (RetriesDue), not sooner.
		{name: "the last batch done, retries deferred after the last outcome", state: StateRunning, cur: 2, curDone: true, releasedAt: released, doneAt: done, retries: 3, last: done, retriesBy: done.Add(10 * time.Minute), want: done.Add(10 * time.Minute)},
		{name: "the last batch done, retries due before the longest delay", state: StateRunning, cur: 2, curDone: true, releasedAt: released, doneAt: done, retries: 3, last: done, retriesBy: done.Add(time.Minute), want: done.Add(2 * time.Minute)},
		{name: "a batch sending, retries due later", state: StateRunning, cur: 1, releasedAt: released, retries: 3, last: released.Add(time.Minute), want: released},
		{name: "between batches, retries due first", state: StateRunning, cur: 1, curDone: true, releasedAt: released, doneAt: done, retries: 3, last: done, want: done.Add(2 * time.Minute)},
		{name: "awaiting approval, retries waiting", state: StateAwaitingApproval, cur: 0, canary: true, approve: true, curDone: true, doneAt: done, retries: 3, last: done},
		// A slow rate: the next message may go an hour after the last.
		{name: "1/h, the last outcome 10m after the release", state: StateRunning, cur: 1, releasedAt: released, rate: "1/h", last: released.Add(10 * time.Minute), want: released.Add(70 * time.Minute)},
		{name: "1/h, no outcome yet", state: StateRunning, cur: 1, releasedAt: released, rate: "1/h", want: released},
		{name: "600/m, the last outcome 10m after the release", state: StateRunning, cur: 1, releasedAt: released, rate: "600/m", last: released.Add(10 * time.Minute), want: released.Add(10*time.Minute + 100*time.Millisecond)},
		{name: "1/h, nothing due", state: StateRunning, cur: 2, curDone: true, releasedAt: released, doneAt: done, rate: "1/h", last: done},
		{name: "paused, retries waiting", state: StatePaused, cur: 2, curDone: true, releasedAt: released, doneAt: done, retries: 3, last: done},
		{name: "canary awaiting approval", state: StateRunning, cur: 0, canary: true, approve: true, curDone: true, releasedAt: released, doneAt: done},
		{name: "canary approved", state: StateRunning, cur: 0, canary: true, approve: true, approved: true, curDone: true, releasedAt: released, doneAt: done, want: done.Add(interval)},
		{name: "paused", state: StatePaused, cur: 1, releasedAt: released},
		{name: "awaiting approval", state: StateAwaitingApproval, cur: 0, canary: true, approve: true, curDone: true, doneAt: done},
	}
	for _, tt := range tests {
		st := &Status{Control: Control{State: tt.state, CurBatch: tt.cur, Approved: tt.approved, At: at, Action: tt.action}, Retries: tt.retries, LastProgress: tt.last, RetriesDue: tt.retriesBy}
		for b := range 3 {
			st.Batches = append(st.Batches, BatchStatus{Batch: b, Canary: b == 0 && tt.canary, Released: b <= tt.cur, Done: b < tt.cur || b == tt.cur && tt.curDone})
		}
		camp := &campaign.Campaign{Batches: campaign.Batches{ApproveAfterCanary: tt.approve, Interval: interval}, Retry: campaign.Retry{MaxAttempts: 3, Backoff: time.Minute}}
		if tt.rate != "" {
			r, err := campaign.ParseRate(tt.rate)
			if err != nil {
				t.Fatal(err)
			}
			camp.Rate = r
		}
		if got := dueSince(st, camp, tt.releasedAt, tt.doneAt); !got.Equal(tt.want) {
			t.Errorf("%s: due since %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestStalled: a stall counts from the later of the last progress and
// when work became due (an approval, a resume, a batch's time), so that a
// campaign approved an hour after its canary is not announced as stalled
// for that hour; with no outcome ever recorded, from when work became due
// (not from when a console or notifier first looked); nothing due or
// another state: none.
func TestStalled(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	running := func(due, last time.Time) *Status {
		return &Status{Control: Control{State: StateRunning}, DueSince: due, LastProgress: last}
	}
	tests := []struct {
		name string
		st   *Status
		want time.Time
	}{
		{"work due before the last progress", running(t0, t0.Add(time.Hour)), t0.Add(time.Hour)},
		{"work due after the last progress (approved later)", running(t0.Add(time.Hour), t0), t0.Add(time.Hour)},
		{"nothing due", running(time.Time{}, t0), time.Time{}},
		{"no outcome ever recorded", running(t0, time.Time{}), t0},
		{"paused", &Status{Control: Control{State: StatePaused}, DueSince: t0, LastProgress: t0}, time.Time{}},
	}
	for _, tt := range tests {
		if got := tt.st.Stalled(); !got.Equal(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestWaitsForOutcome: a running campaign whose recipients have been due
// for 10 s (Status.Rate's window) with no outcome has no rate, so its ETA
// waits for an outcome (a relay that never answers: only deferrals, which
// are no progress); not before those 10 s, not with a rate, not when
// nothing is due, not in another state.
func TestWaitsForOutcome(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	running := func(due, last time.Time, rate float64) *Status {
		return &Status{Control: Control{State: StateRunning}, DueSince: due, LastProgress: last, Rate: rate}
	}
	tests := []struct {
		name string
		st   *Status
		want bool
	}{
		{"due 10 s, no outcome ever", running(now.Add(-10*time.Second), time.Time{}, 0), true},
		{"due a minute, last outcome 30 s ago", running(now.Add(-time.Minute), now.Add(-30*time.Second), 0), true},
		{"due 9 s, no outcome yet", running(now.Add(-9*time.Second), time.Time{}, 0), false},
		{"last outcome 5 s ago", running(now.Add(-time.Minute), now.Add(-5*time.Second), 0), false},
		{"outcomes in the last 10 s", running(now.Add(-time.Minute), now.Add(-time.Second), 3.5), false},
		{"nothing due (between batches)", running(time.Time{}, now.Add(-time.Hour), 0), false},
		{"due later", running(now.Add(time.Minute), now.Add(-time.Hour), 0), false},
		{"paused", &Status{Control: Control{State: StatePaused}, DueSince: now.Add(-time.Hour)}, false},
	}
	for _, tt := range tests {
		if got := waitsForOutcome(tt.st, now); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestWorkWaiting: work is waiting only once it is due, so that a
// campaign between batches (its next batch due when the interval ends)
// does not count as one whose recipients wait (the no-progress alert
// reads it).
func TestWorkWaiting(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name string
		due  time.Time
		want bool
	}{
		{"due a minute ago", now.Add(-time.Minute), true},
		{"due now", now, true},
		{"due when the interval ends, in an hour", now.Add(time.Hour), false},
		{"nothing due", time.Time{}, false},
	} {
		st := &Status{Control: Control{State: StateRunning}, DueSince: tt.due}
		if got := st.WorkWaiting(now); got != tt.want {
			t.Errorf("%s: WorkWaiting = %v, want %v", tt.name, got, tt.want)
		}
	}
}
