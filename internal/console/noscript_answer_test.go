package console_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestActionWithoutScriptSaysWhatHappened: a browser that runs no
// script (a locked-down phone, script blocked) posts the action's form
// itself, without Accept: application/json. The answer must say what
// happened, as the JSON answer does and as a refusal's page does, with
// a way back to the campaign: each row presses an action in turn on one
// campaign. Before, a success answered a bare redirect to the campaign's
// page, which said nothing of the click ("It was already paused by ..."
// was lost, and a retry's count too).
func TestActionWithoutScriptSaysWhatHappened(t *testing.T) {
	t.Parallel()
	const c = "noscript"
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: c, N: 6})
	op := newSite(t, w, false).signIn(t, operatorToken)
	for _, tt := range []struct {
		action string
		form   url.Values
		want   string
		state  store.State
	}{
		{"pause", url.Values{"reason": {"bounces climbing"}}, "nothing more will be claimed.", store.StatePaused},
		{"pause", url.Values{"reason": {"again"}}, "It was already paused by alice (console)", store.StatePaused},
		{"retry", nil, "Re-queued 0 temporary failures.", store.StatePaused},
		{"resume", nil, "Resumed where it stopped.", ""},
		{"cancel", url.Values{"stage": {op.cancelStage("/c/"+c, c)}, "reason": {"wrong list"}, "confirm": {c}}, "Cancelled: ", store.StateCancelled},
	} {
		form := url.Values{"csrf": {op.csrf("/c/" + c)}}
		for k, v := range tt.form {
			form[k] = v
		}
		resp := op.do("POST", "/c/"+c+"/"+tt.action, form, false)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := html.UnescapeString(string(b))
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, tt.want) {
			t.Errorf("%s without script: %s %q, want 200 saying %q:\n%s", tt.action, resp.Status, resp.Header.Get("Location"), tt.want, page)
			continue
		}
		if !strings.Contains(page, `href="/c/`+c+`"`) {
			t.Errorf("%s without script: the answer has no link back to the campaign:\n%s", tt.action, page)
		}
		if tt.state == "" {
			continue
		}
		if st, err := w.Store.Status(t.Context(), c); err != nil || st.State != tt.state {
			t.Errorf("after %s: %v %v, want %s", tt.action, st.State, err, tt.state)
		}
	}
}
