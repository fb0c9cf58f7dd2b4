package store

import (
	"cmp"
	"time"

	"github.com/tidings-mail/tidings/internal/campaign"
)

// ETAWaitsForApproval is Status.ETAWaitsFor while the campaign waits, or
// will wait after its canary, for a person to approve the canary.
const ETAWaitsForApproval = "approval"

// ETAWaitsForOutcome is Status.ETAWaitsFor while recipients are due but
// none has reached an outcome for 10 s, Status.Rate's window (a relay that never answers,
// say: only temporary failures, deferred): no rate, so no ETA to give.
const ETAWaitsForOutcome = "an outcome (none in the last 10 s although recipients are due)"

// batchSlack is how much longer than its campaign's rate allows a batch
// may take and still count as sent at that rate (eta): the first and last
// message of each stretch of sending, the SMTP server's reply, a worker
// told of a pause a moment late.
const batchSlack = time.Second

// eta returns the seconds until every recipient of st has an outcome, or
// what the ETA waits for when no number can be given. Only a running
// campaign has an ETA. The pending recipients go at recent, the rate of
// the last 10 s since the campaign last became running (perSecond), or,
// between batches (doneAt set) or when none was recorded lately, at the
// rate of the batch that just passed, else at camp's rate; without any
// the ETA is unknown (0, ""). Between batches the recent 10 s hold the
// gap after the batch, in which nothing is sent on purpose, so they
// would count the batch's messages over time it did not send in. The batch's rate is its recipients attempted that
// have an outcome (not those waiting for a retry) over the time
// it was sending: from releasedAt, its release, to its last outcome
// (st.LastProgress, or doneAt, when a tick saw its first pass complete),
// less idle, the time it spent before its first claim and paused until
// the first claim after the resume (lua/step.lua, lua/transition.lua).
// A batch that took no more than batchSlack longer than camp's rate
// allows went at that rate: its rate is camp's (a measure of a few seconds
// is not that precise). Every batch not yet released adds camp's interval
// (lua/tick.lua), less what has passed of the current wait (doneAt is zero
// while the current batch runs). Recipients waiting for a retry go no
// sooner than st.RetriesDue: the ETA is at least until then, plus their
// time at the rate.
func eta(st *Status, recent float64, camp *campaign.Campaign, releasedAt, doneAt time.Time, idle time.Duration, now time.Time) (secs float64, waitsFor string) {
	cur := max(st.CurBatch, 0) // batch 0 is released without a wait
	approval := camp.Batches.ApproveAfterCanary && !st.Approved && cur+1 < len(st.Batches) && st.Batches[cur].Canary
	var passed float64 // the rate of the batch that just passed
	end := doneAt
	if st.LastProgress.After(releasedAt) && st.LastProgress.Before(doneAt) {
		end = st.LastProgress // its last outcome; not a retry's since
	}
	// While the batch sends, end is zero: no batch has passed (end less
	// releasedAt less idle would wrap around to centuries, its rate to
	// nothing, and the ETA overflow).
	if d := (end.Sub(releasedAt) - idle).Seconds(); !releasedAt.IsZero() && !end.IsZero() && d > 0 && cur < len(st.Batches) {
		b := st.Batches[cur]
		n := float64(b.Attempted - b.Waiting()) // its outcomes: a retry waiting moved nobody on
		passed = n / d
		if r := camp.Rate.PerSecond(); r > 0 && d <= n/r+batchSlack.Seconds() {
			passed = r // as fast as the rate lets it, give or take the first and last message
		}
	}
	rate := cmp.Or(recent, passed, camp.Rate.PerSecond())
	if !doneAt.IsZero() && passed > 0 {
		// Between batches the last 10 s hold the gap after the batch,
		// sending nothing on purpose: recent is diluted by it (a canary's
		// 18 messages are 1.8/s), the batch's own rate is not.
		rate = passed
	}
	switch {
	case st.State == StateAwaitingApproval, st.State == StateRunning && approval:
		return 0, ETAWaitsForApproval
	case st.State != StateRunning || st.Counts[OutcomePending] <= 0 || rate <= 0:
		return 0, ""
	}
	releases := max(len(st.Batches)-1-cur, 0)
	d := camp.Batches.Duration(st.Counts[OutcomePending], rate, releases)
	if releases > 0 && !doneAt.IsZero() {
		d -= min(max(now.Sub(doneAt), 0), camp.Batches.Interval)
	}
	// The retries waiting go no sooner than they are due (st.RetriesDue),
	// then at the rate: the campaign ends no sooner than the last of them.
	if st.Retries > 0 && st.RetriesDue.After(now) {
		d = max(d, st.RetriesDue.Sub(now)+time.Duration(float64(st.Retries)/rate*float64(time.Second)))
	}
	return d.Seconds(), ""
}

// retriesDueBy returns by when the recipients of st waiting for a retry
// are all due, or zero when none waits or it is not known: the latest of
// the deferrals recorded per attempt number (lua/step.lua's
// deferred_at:<attempts>: a temporary failure at that attempt was last
// deferred then) plus camp's backoff for that attempt, as a worker waits
// (worker's campaignState.due). A deferral whose recipient was retried
// since was due by then, so no later than now: it never makes the
// retries waiting look due later than they are.
func retriesDueBy(st *Status, camp *campaign.Campaign, deferredAt map[int]time.Time) time.Time {
	var by time.Time
	if st.Retries <= 0 {
		return by
	}
	for attempts, at := range deferredAt {
		by = laterOf(by, at.Add(camp.Retry.Delay(attempts)))
	}
	return by
}

// dueSince returns since when running campaign st has had recipients that
// workers should be sending now, or zero when it has none (paused,
// awaiting approval, between batches): the earlier of its batches' work
// (batchDueSince) and its retries' (retriesDue), and not before camp's
// rate lets the next message go after the last progress (a campaign of
// 1/h is due an hour after its last outcome).
func dueSince(st *Status, camp *campaign.Campaign, releasedAt, doneAt time.Time) time.Time {
	due, retries := batchDueSince(st, camp, releasedAt, doneAt), retriesDue(st, camp)
	if due.IsZero() || !retries.IsZero() && retries.Before(due) {
		due = retries
	}
	if r := camp.Rate.PerSecond(); r > 0 && !due.IsZero() && !st.LastProgress.IsZero() {
		due = laterOf(due, st.LastProgress.Add(time.Duration(float64(time.Second)/r)))
	}
	return due
}

// retriesDue returns by when running campaign st's recipients waiting for
// a retry are due, or zero when none waits: by st.RetriesDue (each
// deferral's time plus its backoff) and no sooner than camp's longest
// retry delay after the last outcome (a ledger of an earlier version
// records no deferral times, and moved its last progress at each
// deferral), nor before the last state change (a resume, say); a retry of
// failed recipients re-queues them due at once, so they are due from that
// retry until an outcome follows it.
func retriesDue(st *Status, camp *campaign.Campaign) time.Time {
	switch {
	case st.State != StateRunning || st.Retries <= 0:
		return time.Time{}
	case st.Action == "retry" && !st.LastProgress.After(st.At):
		return st.At
	}
	return laterOf(laterOf(st.LastProgress.Add(camp.Retry.Delay(camp.Retry.MaxAttempts-1)), st.RetriesDue), st.At)
}

// batchDueSince returns since when running campaign st has had
// recipients of its batches due, or zero when it has none (paused,
// awaiting approval, between batches, the last batch's first pass
// complete): no batch released yet, since the campaign last changed state
// (st.At); the current batch's first pass not complete, since its release
// (releasedAt) or a later state change (a resume restarts the clock); its
// first pass complete (doneAt, or not yet seen by a tick) and a next batch
// that may be released, since camp's interval passed or a later state
// change. A worker's tick releases a batch within a second of its time, so
// a campaign that stays due without an outcome has no worker sending it.
func batchDueSince(st *Status, camp *campaign.Campaign, releasedAt, doneAt time.Time) time.Time {
	cur := st.CurBatch
	switch {
	case st.State != StateRunning || len(st.Batches) == 0 || cur >= len(st.Batches):
		return time.Time{}
	case cur < 0:
		return st.At
	case !st.Batches[cur].Done:
		return laterOf(releasedAt, st.At)
	case cur+1 >= len(st.Batches), camp.Batches.ApproveAfterCanary && !st.Approved && st.Batches[cur].Canary:
		return time.Time{}
	case doneAt.IsZero(): // the first pass ended, no tick saw it yet
		return st.At
	}
	return laterOf(doneAt.Add(camp.Batches.Interval), st.At)
}

// WorkWaiting reports whether running campaign st has recipients that
// workers should be sending at now (DueSince is not after it): no batch
// released yet, a released batch with recipients never attempted, a next
// batch whose time has come, or retries that are due. A running campaign
// without such work waits on purpose (the interval between batches, an
// approval, retries or its rate not due yet).
func (st *Status) WorkWaiting(now time.Time) bool {
	return !st.DueSince.IsZero() && !st.DueSince.After(now)
}

// Stalled returns since when running campaign st has made no progress
// although recipients were due: the later of its last outcome
// (LastProgress) and DueSince (work that became due after the last
// outcome, at an approval, a resume or a batch's time, counts from then;
// with no outcome ever recorded, from DueSince); zero when nothing is due.
// Status, the console and the no-progress notification all count a stall
// from it.
func (st *Status) Stalled() time.Time {
	if st.State != StateRunning || st.DueSince.IsZero() {
		return time.Time{}
	}
	return laterOf(st.DueSince, st.LastProgress)
}

// waitsForOutcome reports whether running campaign st has had recipients
// due for 10 s or more (Status.Rate's window) with no outcome recorded
// meanwhile: a relay that never answers (only deferrals) or no worker
// sending. Its rate is 0, so an ETA worked out at another (the campaign's)
// would be invented: status and the console say the ETA waits for an
// outcome instead.
func waitsForOutcome(st *Status, now time.Time) bool {
	since := st.Stalled()
	return st.Rate == 0 && !since.IsZero() && now.Sub(since) >= 10*time.Second
}

// perSecond returns the outcomes per second recorded in persec (the
// per-second counters the ledger step writes: Unix second -> count) over
// the complete seconds of the last 10 before now that began after since:
// Status.Rate with since zero; with since a state change (a resume), the
// rate since it, as a pause in the window would dilute it. 0 when no such
// second has passed.
func perSecond(persec map[string]string, now, since time.Time) float64 {
	from := now.Unix() - 10
	if !since.IsZero() {
		from = max(from, since.Unix()+1) // the second it happened in is partly before it
	}
	secs := now.Unix() - from
	if secs <= 0 {
		return 0
	}
	var n int64
	for f, v := range persec {
		if sec := atoi64(f); sec >= from && sec < now.Unix() {
			n += atoi64(v)
		}
	}
	return float64(n) / float64(secs)
}

// laterOf returns the later of a and b.
func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
