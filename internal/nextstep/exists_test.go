package nextstep_test

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestExistsNamesWhatIsAcceptedInItsState: the refusal of a send of a
// campaign that exists names, by its state, the commands accepted then,
// with the campaign file given, and never merely "re-stage it" where a
// staging again is refused (running, awaiting approval) or would send
// again what Redis forgot (a worker's pause for a state loss, a lost
// control: the journals' deliveries are excluded).
func TestExistsNamesWhatIsAcceptedInItsState(t *testing.T) {
	t.Parallel()
	const file = "/ops/altea.yaml"
	for _, tc := range []struct {
		state       store.State
		action      string
		want, never []string
	}{
		{state: store.StateRunning, want: []string{"is running in production", "tidings status altea --env production --watch", "pause it first", "tidings pause altea --env production --reason ...", "tidings send /ops/altea.yaml --env production --resume-existing"}},
		{state: store.StateAwaitingApproval, want: []string{"tidings approve altea --env production", "pause it first", "tidings send /ops/altea.yaml --env production --resume-existing"}},
		{state: store.StatePaused, action: "pause", want: []string{"tidings resume altea --env production", "tidings send /ops/altea.yaml --env production --resume-existing"}, never: []string{"pause it first"}},
		{state: store.StatePaused, action: "state-loss", want: []string{"do not resume", "tidings cancel altea --env production", "tidings send /ops/altea.yaml --env production --resume-existing --exclude-delivered JOURNAL_DIR"}, never: []string{"resume it with"}},
		{state: store.StateControlLost, want: []string{"Redis lost this campaign's control", "tidings send /ops/altea.yaml --env production --resume-existing --exclude-delivered JOURNAL_DIR"}},
		{state: store.StateCancelled, action: "cancel", want: []string{"is cancelled in production", "tidings send /ops/altea.yaml --env production --resume-existing"}},
		{state: store.StateDone, want: []string{"is done in production", "tidings report altea --env production", "new campaign name"}, never: []string{"--resume-existing"}},
		{state: store.StateStaged, want: []string{"is staged in production", "tidings status altea --env production", "tidings send /ops/altea.yaml --env production --resume-existing"}},
	} {
		t.Run(string(tc.state)+" "+tc.action, func(t *testing.T) {
			t.Parallel()
			got := nextstep.Exists(&store.ExistsError{Campaign: "altea", State: tc.state, Action: tc.action}, file, "production")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.never {
				if strings.Contains(got, w) {
					t.Errorf("says %q:\n%s", w, got)
				}
			}
		})
	}
}
