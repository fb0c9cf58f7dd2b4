package store

import (
	"cmp"
	"time"

	"github.com/tidings-mail/tidings/internal/campaign"
)

// ETAWaitsForApproval is Status.ETAWaitsFor while the campaign waits, or
// will wait after its canary, for a person to approve the canary.
const ETAWaitsForApproval = "approval"

// eta returns the seconds until every recipient of st has an outcome, or
// what the ETA waits for when no number can be given. Only a running
// campaign has an ETA. The pending recipients go at st.Rate or, when none
// was recorded lately (between batches), at the rate of the batch that
// just passed (its first attempts from releasedAt, its release, to doneAt,
// when its first pass completed), else at camp's rate; without any the ETA
// is unknown (0, ""). Every batch not yet released adds camp's interval
// (lua/tick.lua), less what has passed of the current wait (doneAt is zero
// while the current batch runs).
func eta(st *Status, camp *campaign.Campaign, releasedAt, doneAt, now time.Time) (secs float64, waitsFor string) {
	cur := max(st.CurBatch, 0) // batch 0 is released without a wait
	approval := camp.Batches.ApproveAfterCanary && !st.Approved && cur+1 < len(st.Batches) && st.Batches[cur].Canary
	var passed float64 // the rate of the batch that just passed
	if d := doneAt.Sub(releasedAt).Seconds(); !releasedAt.IsZero() && d > 0 && cur < len(st.Batches) {
		passed = float64(st.Batches[cur].Attempted) / d
	}
	rate := cmp.Or(st.Rate, passed, camp.Rate.PerSecond())
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
	return d.Seconds(), ""
}
