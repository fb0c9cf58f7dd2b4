package console_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestGETChangesNothing: a link or an <img> on a hostile page makes the
// operator's browser send a GET with their cookies (SameSite=Strict keeps
// them off a cross-site GET, not off one from the same site), so no GET
// may change anything: each action asked for with GET, with every
// parameter its form carries and a valid CSRF token, is refused and
// leaves the campaign's state and audit log as they were; and GET
// /logout does not sign out.
func TestGETChangesNothing(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "getsafe", N: 4, Approve: true, Canary: 1})
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	csrf := op.csrf("/c/getsafe")
	before, err := w.Store.Status(t.Context(), "getsafe")
	if err != nil {
		t.Fatal(err)
	}
	audit := len(before.Audit)
	for _, action := range []string{"pause", "resume", "approve", "cancel", "retry", "retry-permanent", "restage"} {
		q := url.Values{"csrf": {csrf}, "reason": {"by GET"}, "confirm": {"getsafe"}, "stage": {before.Stage}}
		for _, method := range []string{"GET", "HEAD"} {
			resp := op.do(method, "/c/getsafe/"+action+"?"+q.Encode(), nil, false)
			resp.Body.Close()
			if resp.StatusCode < 400 {
				t.Errorf("%s /c/getsafe/%s: %d, want it refused", method, action, resp.StatusCode)
			}
		}
	}
	after, err := w.Store.Status(t.Context(), "getsafe")
	if err != nil {
		t.Fatal(err)
	}
	if after.State != before.State || len(after.Audit) != audit {
		t.Errorf("GETs changed the campaign: state %s -> %s, audit %d -> %d entries", before.State, after.State, audit, len(after.Audit))
	}
	resp := op.do("GET", "/logout", nil, false)
	resp.Body.Close()
	if code, _, _ := op.get("/c/getsafe"); code != http.StatusOK {
		t.Errorf("after GET /logout the campaign page answers %d: a GET signed the operator out", code)
	}
}
