package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestCampaignPageSaysWhatTheGateWaitsFor: batch 0 of a campaign whose
// gate allows 30% failed first attempts has 2 of 5 refused (40%): the
// gate pauses it. On-call retries them (`retry --permanent`) and resumes
// with no worker running: the gate now waits for those 2 retries, which
// decide it (0 of 5 without them, 2 of 5 with them), and the campaign's
// page says so as `tidings status` does (statusview.GateWait), instead of
// a RUNNING campaign that releases nothing and says nothing of why.
func TestCampaignPageSaysWhatTheGateWaitsFor(t *testing.T) {
	t.Parallel()
	refused := map[string]bool{consoletest.Email(0, "en"): true, consoletest.Email(1, "en"): true}
	w := consoletest.New(t, func(rcpt string) error {
		if refused[strings.Trim(rcpt, "<>")] {
			return smtpcapture.Reject(550, "5.7.1 relay access denied")
		}
		return nil
	})
	w.Stage(t, consoletest.Spec{Name: "gated", N: 10, Locales: []string{"en"}, Size: 5, GateRate: "0.3", ErrRate: "0.9"})
	stop := w.StartWorker(t)
	st := w.WaitState(t, "gated", store.StatePaused, time.Minute)
	stop()
	if !strings.Contains(st.Reason, "batch gate") {
		t.Fatalf("setup: paused for %q, want the batch gate", st.Reason)
	}
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	_, page, _ := op.get("/c/gated")
	if strings.Contains(page, `id="gate-wait"`) {
		t.Fatalf("the page says the gate waits before any retry:\n%s", page)
	}
	ctx := t.Context()
	who := store.Actor{Who: "oncall", Env: consoletest.EnvName}
	if retried, err := w.Store.Requeue(ctx, "gated", who, store.RetryScope{Permanent: true}); retried.N != 2 || err != nil {
		t.Fatalf("retry --permanent: %d, %v; want 2 re-queued", retried.N, err)
	}
	if _, err := w.Store.Resume(ctx, "gated", who, "relay fixed"); err != nil {
		t.Fatal(err)
	}
	_, page, _ = op.get("/c/gated")
	want := "batch gate: waiting for 2 retried recipients of batch 0: their first attempts failed"
	if !strings.Contains(page, want) {
		t.Errorf("the campaign page does not say %q:\n%s", want, page)
	}
}
