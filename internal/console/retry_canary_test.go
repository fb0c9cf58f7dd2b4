package console_test

import (
	"errors"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestRetryOfTheCanaryAwaitingApproval: the relay refused one canary
// recipient for good (554 5.7.1) and the campaign awaits approval; its
// retry --permanent, from `tidings retry` or the console's Retry, says it
// moved the campaign back to running its canary (which sends him) and
// that it will await approval again; the console's answer carries the
// state, running (its Approve button is for awaiting-approval only), and
// approve, from either, is refused in the words of nextstep.CanaryNotDone
// while he waits (no worker runs here, so he waits).
func TestRetryOfTheCanaryAwaitingApproval(t *testing.T) {
	t.Parallel()
	for _, from := range []string{"cli", "console"} {
		t.Run(from, func(t *testing.T) {
			t.Parallel()
			refused := consoletest.Email(0, "en") // the first of en: in the canary
			w := consoletest.New(t, func(rcpt string) error {
				if rcpt == refused {
					return smtpcapture.Reject(554, "5.7.1 Relay access denied")
				}
				return nil
			})
			c := "canary-" + from
			file := w.WriteCampaign(t, consoletest.Spec{Name: c, N: 9, Locales: []string{"en", "de", "fr"}, Canary: 1, Approve: true, ErrRate: "1", GateRate: "1"})
			if out, code := w.CLI(t, "send", file, "--env", consoletest.EnvName); code != 0 {
				t.Fatalf("tidings send: exit %d\n%s", code, out)
			}
			stop := w.StartWorker(t)
			st := w.WaitState(t, c, store.StateAwaitingApproval, time.Minute)
			stop()
			op := newSite(t, w, false).signIn(t, operatorToken)
			said := "1 of them are its canary's: the campaign is back to running its canary; it will await approval again once they are sent"
			if from == "cli" {
				out, code := w.CLI(t, "retry", c, "--env", consoletest.EnvName, "--permanent")
				if want := "Re-queued 1 temporary and permanent failures of " + c + ". " + said; code != 0 || !strings.Contains(out, want) {
					t.Errorf("tidings retry --permanent: exit %d, want 0 saying %q\n%s", code, want, out)
				}
			} else {
				code, body := op.post("/c/"+c+"/retry", url.Values{"csrf": {op.csrf("/c/" + c)}, "permanent": {"1"}})
				if want := "Re-queued 1 temporary and permanent failures. " + said; code != http.StatusOK || !strings.Contains(body, want) || !strings.Contains(body, `"state":"running"`) {
					t.Errorf("the console's Retry: %d, want 200 saying %q, state running\n%s", code, want, body)
				}
			}
			_, err := w.Store.Approve(t.Context(), c, st.Stage, false, store.Actor{Who: "t", Env: consoletest.EnvName}, "")
			te := (*store.TransitionError)(nil)
			if !errors.As(err, &te) || te.Waiting != 1 || te.State != store.StateRunning {
				t.Fatalf("store.Approve after the retry: %v (%+v); want refused, running, 1 of the canary waiting", err, te)
			}
			want := nextstep.CanaryNotDone(te, consoletest.EnvName)
			if out, code := w.CLI(t, "approve", c, "--env", consoletest.EnvName); code != 1 || !strings.Contains(out, want) {
				t.Errorf("tidings approve: exit %d, want 1 saying %q\n%s", code, want, out)
			}
			code, body := op.post("/c/"+c+"/approve", url.Values{"csrf": {op.csrf("/c/" + c)}, "stage": {st.Stage}})
			if body = html.UnescapeString(body); code != http.StatusConflict || !strings.Contains(body, want[1:]) {
				t.Errorf("the console's Approve: %d, want 409 saying %q\n%s", code, want, body)
			}
		})
	}
}
