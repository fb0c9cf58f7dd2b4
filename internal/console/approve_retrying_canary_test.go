package console_test

import (
	"errors"
	"html"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestApproveRefusedWhileCanaryRetries (red team): the SMTP server
// refuses every recipient with 451, the canary's 3 first attempts fail
// and wait for their retry (an hour away), the batch gate pauses the
// campaign. The console's Approve was accepted, with nobody of the canary
// delivered; it is refused (409, nothing changed), saying how many wait
// and what to do in the words of `tidings approve`
// (nextstep.CanaryNotDone), which refuses it too (exit 1).
// deferredCanary stages campaign c, 9 recipients, a canary of 3 awaiting
// approval, where the SMTP server refuses every recipient with 451 and
// retries are an hour away; runs a worker until the canary's gate paused
// it (3 of 3 failed), the canary's recipients waiting for their retry;
// and returns its world and its status then.
func deferredCanary(t *testing.T, c string) (*consoletest.World, *store.Status) {
	t.Helper()
	w := consoletest.New(t, func(string) error { return smtpcapture.Reject(451, "4.3.0 try again later") })
	file := w.WriteCampaign(t, consoletest.Spec{Name: c, N: 9, Locales: []string{"en", "de", "fr"}, Canary: 1, Approve: true})
	y, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fixture.Write(t, file, strings.Replace(string(y), "max_attempts: 1", "max_attempts: 3\n  backoff: 1h", 1))
	if out, code := w.CLI(t, "send", file, "--env", consoletest.EnvName); code != 0 {
		t.Fatalf("tidings send: exit %d\n%s", code, out)
	}
	stop := w.StartWorker(t)
	st := w.WaitState(t, c, store.StatePaused, time.Minute) // the batch gate: 3 of 3 failed
	stop()
	return w, st
}

func TestApproveRefusedWhileCanaryRetries(t *testing.T) {
	t.Parallel()
	w, st := deferredCanary(t, "retrying")

	// What the store answers, worded as both must word it.
	_, err := w.Store.Approve(t.Context(), "retrying", st.Stage, false, store.Actor{Who: "t", Env: consoletest.EnvName}, "")
	te := (*store.TransitionError)(nil)
	if !errors.As(err, &te) || te.Waiting != 3 {
		t.Fatalf("store.Approve: %v (%+v); want refused, 3 of the canary waiting for a retry", err, te)
	}
	want := nextstep.CanaryNotDone(te, consoletest.EnvName)
	for _, w := range []string{"3 of its canary's recipients wait (last error: 451", "tidings resume retrying --env " + consoletest.EnvName} {
		if !strings.Contains(want, w) {
			t.Errorf("the refusal: want %q in\n%s", w, want)
		}
	}
	if out, code := w.CLI(t, "approve", "retrying", "--env", consoletest.EnvName); code != 1 || !strings.Contains(out, want) {
		t.Errorf("tidings approve: exit %d, want 1 saying %q\n%s", code, want, out)
	}
	op := newSite(t, w, false).signIn(t, operatorToken)
	code, body := op.post("/c/retrying/approve", url.Values{"csrf": {op.csrf("/c/retrying")}, "stage": {st.Stage}})
	if body = html.UnescapeString(body); code != http.StatusConflict || !strings.Contains(body, want[1:]) {
		t.Errorf("the console's Approve: %d, want 409 saying %q\n%s", code, want, body)
	}
	if ctl, err := w.Store.Control(t.Context(), "retrying"); err != nil || ctl.Approved || ctl.State != store.StatePaused {
		t.Errorf("after the refusals: %+v, %v; want paused, not approved", ctl, err)
	}
}
