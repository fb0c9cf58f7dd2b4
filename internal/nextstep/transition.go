package nextstep

import (
	"fmt"

	"github.com/tidings-mail/tidings/internal/launch"
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
// campaign e.Campaign from campaign file file, which is staged in
// environment env already, by the state it is in, naming the commands
// that are accepted in that state: a done one has nothing left to send
// (report says who received it; a new mail takes a new campaign name); a
// running one, or one awaiting approval, is watched or approved, and
// staged again only once paused (send --resume-existing refuses it
// before); a paused one is resumed, or staged again (it stays paused); a
// cancelled one is staged again for those not sent yet; one a worker
// paused for a state loss, or whose control Redis lost, is staged again
// excluding the journals' deliveries (status's hint); a staged one is
// looked at, or staged again.
func Exists(e *store.ExistsError, file, env string) string {
	c := e.Campaign
	f := Files(func(string, string) *launch.Record { return &launch.Record{CampaignFile: launch.Abs(file)} })
	is := fmt.Sprintf("campaign %q is %s in %s", c, e.State, env)
	again := SendRun{File: file, Env: env, ResumeExisting: true}.Command() + " (with this send's other flags; it never re-sends anyone already sent)"
	pauseFirst := fmt.Sprintf("to stage it again (a changed recipients file, template or catalog), pause it first (a staging again of a campaign %s is refused): tidings pause %s --env %s --reason ..., then %s; it stays paused until 'tidings resume %s --env %s'", e.State, c, env, again, c, env)
	switch next := (&store.Control{State: e.State, Action: e.Action}).Next(); {
	case e.State == store.StateDone:
		return fmt.Sprintf("campaign %q is done in %s: nothing is left to send; see who received it with 'tidings report %s --env %s'; to send a new mail, give the campaign file a new campaign name (name:)", c, env, c, env)
	case e.State == store.StateRunning:
		return fmt.Sprintf("%s: workers send it; watch it with 'tidings status %s --env %s --watch'; %s", is, c, env, pauseFirst)
	case e.State == store.StateAwaitingApproval:
		return fmt.Sprintf("%s: check its canary, then approve the rest: tidings approve %s --env %s; %s", is, c, env, pauseFirst)
	case next == store.NextRecover, next == store.NextControlLost:
		return fmt.Sprintf("campaign %q exists in %s: %s", c, env, f.Hint(next, c, env))
	case e.State == store.StatePaused:
		return fmt.Sprintf("%s: resume it with 'tidings resume %s --env %s'; or stage it again, and it stays paused until then: %s", is, c, env, again)
	case e.State == store.StateCancelled:
		return is + f.Cancelled(c, env)
	}
	return fmt.Sprintf("%s: see it with 'tidings status %s --env %s', or stage it again: %s", is, c, env, again)
}
