package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestApproveRefusalsSayWhatApproveSays: Approve pressed on a campaign
// staged without a canary (canary_per_locale 0) answered "its canary is
// still being sent", about a canary it does not have (red team); and one
// pressed while the canary is still being sent (here: not yet released)
// answered in the console's own words. Each refusal says what `tidings
// approve` says, in the same words (nextstep.NoCanary,
// nextstep.CanaryRunning): nothing changed, and why.
func TestApproveRefusalsSayWhatApproveSays(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	for _, tt := range []struct {
		name      string
		spec      consoletest.Spec
		want, not string
	}{
		{"nocanary", consoletest.Spec{Canary: 0}, nextstep.NoCanary("nocanary"), "still being sent"},
		{"canaryrunning", consoletest.Spec{Canary: 1, Approve: true}, nextstep.CanaryRunning("canaryrunning", consoletest.EnvName), "no canary"},
	} {
		tt.spec.Name, tt.spec.N, tt.spec.Locales = tt.name, 4, []string{"en", "de"}
		w.Stage(t, tt.spec)
		st, err := w.Store.Status(context.Background(), tt.name)
		if err != nil {
			t.Fatal(err)
		}
		code, body := op.post("/c/"+tt.name+"/approve", url.Values{"csrf": {op.csrf("/c/" + tt.name)}, "stage": {st.Stage}})
		body = html.UnescapeString(body)
		if code != http.StatusConflict || !strings.Contains(body, tt.want[1:]) || strings.Contains(body, tt.not) {
			t.Errorf("approve of %s: %d, want 409 saying %q\n%s", tt.name, code, tt.want, body)
		}
	}
}

// TestNoApproveButtonWithoutAnApprovalToGive: the console offers Approve
// only where an approval is awaited; a campaign staged without a canary
// (canary_per_locale 0: store.NoCanary), or with one that awaits no
// approval (approve_after_canary false), has none to give, and its page
// (as the live page's data-state keeps it) offers no Approve, whatever
// its state: running (as it is staged here), paused. The server's refusal, should
// someone post it anyway, is TestApproveRefusalsSayWhatApproveSays's.
func TestNoApproveButtonWithoutAnApprovalToGive(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	a := store.Actor{Who: "t", Env: consoletest.EnvName}
	for _, tt := range []struct {
		name string
		spec consoletest.Spec
	}{
		{"nocanary", consoletest.Spec{Canary: 0}},
		{"noapproval", consoletest.Spec{Canary: 1, Approve: false}},
	} {
		tt.spec.Name, tt.spec.N, tt.spec.Locales = tt.name, 4, []string{"en", "de"}
		w.Stage(t, tt.spec)
		for _, step := range []struct {
			state store.State
			act   func() error
		}{
			{store.StateRunning, func() error { _, err := w.Store.Resume(t.Context(), tt.name, a, ""); return err }},
			{store.StatePaused, func() error { _, err := w.Store.Pause(t.Context(), tt.name, a, "look"); return err }},
		} {
			if err := step.act(); err != nil {
				t.Fatalf("%s to %s: %v", tt.name, step.state, err)
			}
			_, page, _ := op.get("/c/" + tt.name)
			if got := offered(page); slices.Contains(got, "approve") || !strings.Contains(page, `data-state="`+string(step.state)+`"`) {
				t.Errorf("the page of %s, %s: offers %v; want it %s, with no Approve", tt.name, step.state, got, step.state)
			}
		}
	}
}

// TestResumeSaysItStillWaitsForApproval: Resume pressed on a paused
// campaign whose canary awaits approval (approve_after_canary) answers,
// as `tidings resume` does (nextstep.AfterResume), that the resume does
// not approve it and what to run; one with no approval ahead is told only
// that it resumed.
func TestResumeSaysItStillWaitsForApproval(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	a := store.Actor{Who: "t", Env: consoletest.EnvName}
	for _, tt := range []struct {
		name    string
		approve bool
		says    string
	}{
		{"ahead", true, "Resumed where it stopped. Nobody already sent is sent again. It waits for approval once its canary is sent, which a resume does not give: check the canary, then approve it: tidings approve ahead --env " + consoletest.EnvName},
		{"noapproval", false, `Resumed where it stopped. Nobody already sent is sent again."`},
	} {
		w.Stage(t, consoletest.Spec{Name: tt.name, N: 4, Locales: []string{"en", "de"}, Canary: 1, Approve: tt.approve})
		if _, err := w.Store.Pause(t.Context(), tt.name, a, "look"); err != nil {
			t.Fatal(err)
		}
		code, body := op.post("/c/"+tt.name+"/resume", url.Values{"csrf": {op.csrf("/c/" + tt.name)}})
		if code != http.StatusOK || !strings.Contains(body, tt.says) {
			t.Errorf("resume of %s: %d, want 200 saying %q\n%s", tt.name, code, tt.says, body)
		}
	}
}
