package store

import (
	"context"
	"fmt"
	"time"
)

// StateControlLost is the state a status gives a campaign whose control
// (tidings:{c}:control: its state, batch and staging) Redis lost while its
// definition stayed, no staging under way: no control holds it, no worker
// sends it, and no control action (resume, cancel) finds it. A staging
// again, which the journals' deliveries exclude, writes it anew
// (NextControlLost).
const StateControlLost State = "control-lost"

// ControlLost says what happened to a campaign in StateControlLost, and
// ControlLostMeans what it means: status (statusview.Lost) and the refusal
// of a control action (ControlLostError) say them alike.
const (
	ControlLost      = "Redis lost this campaign's control (part of its state: an eviction, a DEL)"
	ControlLostMeans = "its state and batch are unknown, no worker sends it, and its ledger may have lost deliveries too"
)

// controlLostReason is what a control action refused on a campaign in
// StateControlLost says of it.
const controlLostReason = ControlLost + ": " + ControlLostMeans + "; nothing is left to resume or cancel"

// controlLost makes st, the status of a campaign whose control Redis lost
// (Status found its definition, no control and no staging lease), say so
// (StateControlLost) instead of a staging again interrupted, which its
// control (naming a staging its definition does not record) would show.
func controlLost(st *Status) {
	// Who, when and why: unknown (statusview.Lost says what happened);
	// nothing read of no state (a rate, an ETA) is said either.
	st.Control = Control{State: StateControlLost, CurBatch: -1}
	st.Rate, st.ETASeconds, st.ETAWaitsFor, st.DueSince, st.GateWaitsForRetried = 0, 0, "", time.Time{}, 0
	for i := range st.Batches {
		st.Batches[i].Released = false // its batch is unknown
	}
}

// ControlLostError refuses a control action (resume, cancel, pause,
// approve) on campaign Campaign, whose control Redis lost while its
// definition stayed (StateControlLost). It is ErrNotFound too.
type ControlLostError struct{ Campaign, Action string }

func (e *ControlLostError) Error() string {
	return fmt.Sprintf("%s: campaign %q: %s; to mail those not sent yet and nobody twice, copy every worker's journal directory to one place and stage it again without them (send CAMPAIGN_FILE --env ENV --resume-existing --exclude-delivered JOURNAL_DIR: tidings status %s says the command)",
		e.Action, e.Campaign, controlLostReason, e.Campaign)
}

// Unwrap makes it ErrNotFound: it has no control.
func (e *ControlLostError) Unwrap() error { return ErrNotFound }

// controlGone is the error of action (what) on campaign c whose control
// a script found missing: a *ControlLostError when its definition stays
// (Redis lost its control), else its *NotFoundError.
func (s *Store) controlGone(ctx context.Context, what, c string) error {
	if n, err := s.rdb.Exists(ctx, keysFor(c).meta).Result(); err == nil && n > 0 {
		return &ControlLostError{Campaign: c, Action: what}
	}
	return s.notFound(ctx, what, c)
}
