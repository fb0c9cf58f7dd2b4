package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestCancelIsOfTheStagingThePageShowed: Cancel, like Approve, acts only
// on the staging the page showed (found by the console's red team). An
// operator leaves staging A's page open; A is cancelled and staged again
// (B, send --resume-existing). Cancel pressed on A's stale page is refused
// (409, saying it was staged again, B's state, and to reload) and B keeps
// running; a reloaded page's Cancel cancels B. Pause stays unconditional.
func TestCancelIsOfTheStagingThePageShowed(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	const name = "cancelstage"
	file := w.Stage(t, consoletest.Spec{Name: name, N: 6, Locales: []string{"en"}})
	w.WaitState(t, name, store.StateRunning, time.Minute) // no worker: nobody is sent

	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	_, page, _ := op.get("/c/" + name)
	csrf, stageA := csrfRE.FindStringSubmatch(page)[1], stageRE.FindStringSubmatch(page)
	if stageA == nil {
		t.Fatalf("A's page names no staging:\n%s", page)
	}

	// Meanwhile A is cancelled and staged again: B.
	if out, code := w.CLI(t, "cancel", name, "--env", consoletest.EnvName, "--reason", "wrong template"); code != 0 {
		t.Fatalf("cancel: exit %d\n%s", code, out)
	}
	if out, code := w.CLI(t, "send", file, "--env", consoletest.EnvName, "--resume-existing"); code != 0 {
		t.Fatalf("send --resume-existing: exit %d\n%s", code, out)
	}
	w.WaitState(t, name, store.StateRunning, time.Minute)

	tests := []struct {
		name  string
		form  url.Values
		code  int
		says  []string
		state store.State // after it
	}{
		{"stale page", url.Values{"csrf": {csrf}, "stage": {stageA[1]}, "reason": {"stop A"}, "confirm": {name}}, http.StatusConflict,
			[]string{"Not cancelled: " + name + " was staged again since this page was loaded", "it is running now", "Reload the page"}, store.StateRunning},
		{"no staging named", url.Values{"csrf": {csrf}, "reason": {"stop"}, "confirm": {name}}, http.StatusBadRequest,
			[]string{"names no staging", "reload the page"}, store.StateRunning},
	}
	for _, tt := range tests {
		code, body := op.post("/c/"+name+"/cancel", tt.form)
		if code != tt.code {
			t.Errorf("%s: cancel answered %d, want %d\n%s", tt.name, code, tt.code, body)
		}
		for _, want := range tt.says {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the answer does not say %q:\n%s", tt.name, want, body)
			}
		}
		if st, err := w.Store.Status(t.Context(), name); err != nil || st.State != tt.state {
			t.Fatalf("%s: after the cancel B is %v (%v), want %s", tt.name, st.State, err, tt.state)
		}
	}

	// A reloaded page shows B: its Cancel cancels B.
	_, page, _ = op.get("/c/" + name)
	stageB := stageRE.FindStringSubmatch(page)
	if stageB == nil || stageB[1] == stageA[1] {
		t.Fatalf("the reloaded page names staging %v, want another than A's %s", stageB, stageA[1])
	}
	if code, body := op.post("/c/"+name+"/cancel", url.Values{"csrf": {csrfRE.FindStringSubmatch(page)[1]}, "stage": {stageB[1]}, "reason": {"stop B"}, "confirm": {name}}); code != http.StatusOK {
		t.Fatalf("cancel from B's page: %d\n%s", code, body)
	}
	w.WaitState(t, name, store.StateCancelled, time.Minute)
}

// cancelStageRE finds the staging a campaign's cancel form names.
var cancelStageRE = regexp.MustCompile(`action="/c/([^"]+)/cancel"[^>]*>\s*<input type="hidden" name="csrf" value="[^"]*">\s*<input type="hidden" name="stage" value="([^"]*)">`)

// cancelStage returns the staging the cancel form of campaign c on the
// page at path names ("" when it offers none).
func (c *client) cancelStage(path, campaign string) string {
	c.t.Helper()
	_, page, _ := c.get(path)
	for _, m := range cancelStageRE.FindAllStringSubmatch(page, -1) {
		if m[1] == campaign {
			return m[2]
		}
	}
	return ""
}
