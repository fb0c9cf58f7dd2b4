package store_test

import (
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestControlNext: what can be done next with a campaign follows its
// state, and a pause for state loss is not one to resume (Resume refuses
// it), whoever asks: status, a second pause, retry.
func TestControlNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		state  store.State
		action string
		want   store.Next
	}{
		{store.StatePaused, "pause", store.NextResume},
		{store.StatePaused, "auto-pause", store.NextResume},
		{store.StatePaused, "journal", store.NextResume},
		{store.StatePaused, "", store.NextResume},
		{store.StatePaused, "state-loss", store.NextRecover},
		{store.StateRunning, "resume", store.NextPause},
		{store.StateAwaitingApproval, "await-approval", store.NextApprove},
		{store.StateDone, "done", store.NextOutcomes},
		{store.StateCancelled, "cancel", store.NextOutcomes},
		{store.StateStaged, "stage", store.NextNone},
	}
	for _, tt := range tests {
		if got := (&store.Control{State: tt.state, Action: tt.action}).Next(); got != tt.want {
			t.Errorf("%s by %q: Next = %d, want %d", tt.state, tt.action, got, tt.want)
		}
	}
}
