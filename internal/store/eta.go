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
// was recorded lately (between batches), at camp's rate; without either
// the ETA is unknown (0, ""). Every batch not yet released adds camp's
// interval (lua/tick.lua), less what has passed of the current wait:
// doneAt is when the current batch's first pass completed (zero while it
// runs).
func eta(st *Status, camp *campaign.Campaign, doneAt, now time.Time) (secs float64, waitsFor string) {
	cur := max(st.CurBatch, 0) // batch 0 is released without a wait
	approval := camp.Batches.ApproveAfterCanary && !st.Approved && cur+1 < len(st.Batches) && st.Batches[cur].Canary
	rate := cmp.Or(st.Rate, camp.Rate.PerSecond())
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
