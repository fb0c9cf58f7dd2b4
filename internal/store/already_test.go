package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestAlreadyWithoutAReason: a control action that changed nothing says
// whose action holds, and its reason in parentheses when it had one; one
// without (a resume, a staging) said "()", as in "idle was already
// running (stage by root@vm at ... ()): nothing changed". It says that
// the reason is not recorded only when the action was given one: "tidings
// approve C" of a campaign approved already said "nothing changed, and
// this reason is not recorded", of a reason nobody gave.
func TestAlreadyWithoutAReason(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 5, 3, 9, 13, 0, time.UTC)
	for _, tt := range []struct {
		action string
		ctl    store.Control
		want   string
	}{
		{"resume", store.Control{State: store.StateRunning, Action: "stage", By: "root@vm", At: at},
			"already running (stage by root@vm at 2026-12-05 03:09:13 UTC): nothing changed"},
		{"resume", store.Control{State: store.StateRunning, Action: "resume", By: "ana@ops", At: at, Reason: "bounces explained"},
			"already running (resume by ana@ops at 2026-12-05 03:09:13 UTC (bounces explained)): nothing changed"},
		{"pause", store.Control{State: store.StatePaused, Action: "pause", By: "ana@ops", At: at, Reason: "bounces climbing", Unrecorded: "again"},
			"already paused by ana@ops at 2026-12-05 03:09:13 UTC (bounces climbing): nothing changed, and this reason is not recorded"},
		{"approve", store.Control{State: store.StateRunning, Approved: true, Action: "approve", By: "ana@ops", At: at},
			"already approved by ana@ops at 2026-12-05 03:09:13 UTC: nothing changed"},
		{"approve", store.Control{State: store.StateRunning, Approved: true, Action: "approve", By: "ana@ops", At: at, Unrecorded: "canary checked"},
			"already approved by ana@ops at 2026-12-05 03:09:13 UTC: nothing changed, and this reason is not recorded"},
		{"resume", store.Control{State: store.StateRunning, Action: "resume", By: "ana@ops", At: at, Unrecorded: "fixed"},
			"already running (resume by ana@ops at 2026-12-05 03:09:13 UTC): nothing changed, and this reason is not recorded"},
	} {
		if got := tt.ctl.Already(tt.action); got != tt.want || strings.Contains(got, "()") {
			t.Errorf("Already(%q) of %+v =\n%q, want\n%q", tt.action, tt.ctl, got, tt.want)
		}
	}
}
