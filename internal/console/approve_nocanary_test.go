package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/nextstep"
)

// TestApproveWithoutACanary: Approve pressed on a campaign staged without
// a canary (canary_per_locale 0) answered "its canary is still being
// sent", about a canary it does not have (red team); it says what
// `tidings approve` says, in the same words: there is no canary, nothing
// to approve, nothing changed.
func TestApproveWithoutACanary(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	const name = "nocanary"
	w.Stage(t, consoletest.Spec{Name: name, N: 4, Locales: []string{"en", "de"}, Canary: 0})
	st, err := w.Store.Status(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	code, body := op.post("/c/"+name+"/approve", url.Values{"csrf": {op.csrf("/c/" + name)}, "stage": {st.Stage}})
	want := nextstep.NoCanary(name)
	if code != http.StatusConflict || !strings.Contains(body, want[1:]) || strings.Contains(body, "still being sent") {
		t.Errorf("approve of a campaign without a canary: %d, want 409 saying %q\n%s", code, want, body)
	}
}
