package nextstep

import (
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestTransitionAdviceStagedAgain: a cancel that raced a re-staging (the
// store refuses it, StagedAgain) says that nothing changed and why, not
// that nothing is left to cancel.
func TestTransitionAdviceStagedAgain(t *testing.T) {
	got := Files(nil).Transition(&store.TransitionError{Campaign: "c", Action: "cancel", State: store.StatePaused, PausedFor: store.StagedAgain}, "prod")
	want := "cannot cancel c: it was staged again while the cancel was being made, so it is not the campaign you looked at: nothing changed; look at it (tidings status c --env prod), then run the command again if it still applies"
	if got != want {
		t.Errorf("advice:\n got %s\nwant %s", got, want)
	}
}
