package nextstep

import (
	"fmt"

	"github.com/tidings-mail/tidings/internal/store"
)

// Transition says why a control action is not possible now (e) on a
// campaign of environment env, and what to do instead, with the sends
// it advises taken from the campaign files f knows.
func (f Files) Transition(e *store.TransitionError, env string) string {
	c, st := e.Campaign, e.State
	what := fmt.Sprintf("cannot %s %s: the campaign is %s", e.Action, c, st)
	switch {
	case e.PausedFor == "staging":
		return f.Staging(e.Action, c, env, e.FirstStaging)
	case e.PausedFor == store.StagedAgain:
		return fmt.Sprintf("cannot %s %s: it was staged again while the %s was being made, so it is not the campaign you looked at: nothing changed; look at it (tidings status %s --env %s), then run the command again if it still applies", e.Action, c, e.Action, c, env)
	case e.PausedFor == store.CanaryRunning:
		return CanaryNotDone(e, env)
	case e.PausedFor == store.NoCanary:
		return NoCanary(c)
	case e.PausedFor == "state-loss":
		return what + " by a worker (state loss): " + f.Hint(store.NextRecover, c, env)
	case e.Action == "resume" && st == store.StateAwaitingApproval:
		return what + fmt.Sprintf("; check the canary, then approve it: tidings approve %s --env %s", c, env)
	case e.Action == "resume" && st == store.StateCancelled, e.Action == "retry" && st == store.StateCancelled:
		return what + f.Cancelled(c, env)
	case e.Action == "cancel":
		return what + "; nothing is left to cancel"
	case st.Finished():
		return what + fmt.Sprintf("; there is nothing to %s", e.Action)
	}
	return what
}

// Exists says what to do about a send, without --resume-existing, of
// campaign e.Campaign, which is staged in environment env already: a done
// one has nothing left to send (report says who received it; a new mail
// takes a new campaign name); otherwise look at it, or stage it again
// with --resume-existing.
func Exists(e *store.ExistsError, env string) string {
	c := e.Campaign
	if e.State == store.StateDone {
		return fmt.Sprintf("campaign %q is done in %s: nothing is left to send; see who received it with 'tidings report %s --env %s'; to send a new mail, give the campaign file a new campaign name (name:)", c, env, c, env)
	}
	return fmt.Sprintf("campaign %q is already staged in %s: see it with 'tidings status %s --env %s', or re-stage it with --resume-existing (never re-sends anyone already sent)", c, env, c, env)
}
