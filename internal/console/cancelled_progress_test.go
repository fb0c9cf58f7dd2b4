package console_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestConsoleDoesNotCountCancelledAsProgress: a cancelled campaign with 9
// of 27 recipients sent (the canary's, then a cancel while its approval
// was awaited) is listed on the campaigns page at 33%, as `tidings status`
// lists it (statusview.Handled: cancelled recipients are not progress), not
// with a full bar and 100%; its page says "9 of 27 recipients done, 18
// cancelled".
func TestConsoleDoesNotCountCancelledAsProgress(t *testing.T) {
	t.Parallel()
	w, _, op := cancelledAfterCanary(t)
	cliList, _ := w.CLI(t, "status", "--env", consoletest.EnvName)
	_, page, _ := op.get("/")
	row := regexp.MustCompile(`(?s)<a href="/c/stopped">stopped</a>.*?</tr>`).FindString(page)
	if row == "" {
		t.Fatalf("the campaigns page does not list stopped:\n%s", page)
	}
	if regexp.MustCompile(`<progress value="27" max="27"[^>]*>|100%`).MatchString(row) {
		t.Errorf("the console lists a cancelled campaign with 9 of 27 sent as complete (`tidings status` says otherwise):\n%s\n--- tidings status:\n%s", row, cliList)
	}
	if !regexp.MustCompile(`<progress value="9" max="27"[^>]*></progress> 33%`).MatchString(row) {
		t.Errorf("the campaigns page does not list the cancelled campaign at 9 of 27 (33%%):\n%s", row)
	}
	_, page, _ = op.get("/c/stopped")
	if want := "9 of 27 recipients done, 18 cancelled"; !strings.Contains(page, want) {
		t.Errorf("the campaign page does not say %q:\n%s", want, page)
	}
}

// TestDashboardProgressAgreesWithTheConsole: the Grafana dashboard's
// Progress panel, evaluated by Prometheus's own engine over the console's
// /metrics, shows the cancelled campaign of
// TestConsoleDoesNotCountCancelledAsProgress at 33% (9 of 27 done), as the
// console and `tidings status` do: cancelled recipients are not progress
// (statusview.Handled), so a campaign cancelled after its canary never
// shows a full bar on the wall screen.
func TestDashboardProgressAgreesWithTheConsole(t *testing.T) {
	t.Parallel()
	_, s, _ := cancelledAfterCanary(t)
	_, body, _ := s.anonymous(t).get("/metrics")
	expr := dashboardExpr(t, "Progress")
	promQL(t, body, "round(100 * sum("+expr+"))", map[string]float64{"{}": 33})
}

// cancelledAfterCanary runs campaign "stopped" (27 recipients, a canary of
// one per language) until it awaits approval, stops the worker, and
// cancels it from the console as an operator: 9 sent, 18 cancelled.
func cancelledAfterCanary(t *testing.T) (*consoletest.World, *site, *client) {
	t.Helper()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "stopped", N: 27, Canary: 1, Approve: true})
	stop := w.StartWorker(t)
	w.WaitState(t, "stopped", store.StateAwaitingApproval, time.Minute)
	stop()
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	csrf := op.csrf("/c/stopped")
	if code, body := op.post("/c/stopped/cancel", url.Values{"csrf": {csrf}, "stage": {op.cancelStage("/c/stopped", "stopped")}, "reason": {"wrong recipients file"}, "confirm": {"stopped"}}); code != 200 {
		t.Fatalf("cancel: %d %s", code, body)
	}
	st := w.WaitState(t, "stopped", store.StateCancelled, 10*time.Second)
	if st.Counts[store.OutcomeSent] != 9 || st.Counts[store.OutcomeCancelled] != 18 {
		t.Fatalf("setup: counts %v, want 9 sent and 18 cancelled", st.Counts)
	}
	return w, s, op
}
