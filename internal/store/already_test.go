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
// running (stage by root@vm at ... ()): nothing changed".
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
		{"pause", store.Control{State: store.StatePaused, Action: "pause", By: "ana@ops", At: at, Reason: "bounces climbing"},
			"already paused by ana@ops at 2026-12-05 03:09:13 UTC (bounces climbing): nothing changed, and this reason is not recorded"},
	} {
		if got := tt.ctl.Already(tt.action); got != tt.want || strings.Contains(got, "()") {
			t.Errorf("Already(%q) of %+v =\n%q, want\n%q", tt.action, tt.ctl, got, tt.want)
		}
	}
}
