package console_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestRefusalWithoutScriptLinksTheCampaign: a browser that runs no script
// posts the action's form itself, and a refused action answers a page of
// its own, not the flash beside the button. That page must lead back to
// what its words send the operator to: the campaign's page (to sign in
// again, see the campaign as it is now, press again) as well as the list,
// and say to open it, since reloading the answer would post the form
// again. Before, it linked the list alone ("Back to the campaigns"), and
// its "reload the page" read as this answer's. A campaign not found is not
// linked (its page is not there either).
func TestRefusalWithoutScriptLinksTheCampaign(t *testing.T) {
	t.Parallel()
	const c = "refused"
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: c, N: 6})
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	for _, tt := range []struct {
		name     string
		c        *client
		path     string
		form     func() url.Values
		status   int
		campaign string // linked; "" for none
	}{
		{"session ended", s.anonymous(t), "/c/" + c + "/pause", func() url.Values { return url.Values{"csrf": {"stale"}, "reason": {"bounces"}} }, http.StatusForbidden, c},
		{"form expired", op, "/c/" + c + "/pause", func() url.Values { return url.Values{"csrf": {"stale"}, "reason": {"bounces"}} }, http.StatusForbidden, c},
		{"no reason", op, "/c/" + c + "/pause", func() url.Values { return url.Values{"csrf": {op.csrf("/c/" + c)}} }, http.StatusBadRequest, c},
		{"not found", op, "/c/nosuch/pause", func() url.Values { return url.Values{"csrf": {op.csrf("/")}, "reason": {"bounces"}} }, http.StatusNotFound, ""},
	} {
		resp := tt.c.do("POST", tt.path, tt.form(), false)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		checkRefusalPage(t, tt.name, resp.StatusCode, html.UnescapeString(string(b)), tt.status, tt.campaign)
	}
	// The replica judgement fails (a real Redis whose user may not run
	// INFO): "Press Pause again in a moment", on the campaign's page.
	rj, _, jop := judgedSite(t, "judged")
	csrf := jop.csrf("/c/judged")
	if err := rj.Client().Do(t.Context(), "ACL", "SETUSER", "default", "-info").Err(); err != nil {
		t.Fatal(err)
	}
	resp := jop.do("POST", "/c/judged/pause", url.Values{"csrf": {csrf}, "reason": {"bounces"}}, false)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	checkRefusalPage(t, "judge failed", resp.StatusCode, html.UnescapeString(string(b)), http.StatusServiceUnavailable, "judged")
}

func checkRefusalPage(t *testing.T, name string, code int, page string, status int, c string) {
	t.Helper()
	if code != status {
		t.Errorf("%s without script: %d, want %d:\n%s", name, code, status, page)
	}
	if !strings.Contains(page, `href="/"`) {
		t.Errorf("%s without script: no link to the campaigns:\n%s", name, page)
	}
	// A screen reader announces the refusal, and the keyboard starts on it,
	// as the script's answer does (role=alert, focused on load).
	if !strings.Contains(page, `<p class="alert" role="alert" tabindex="-1" autofocus>`) {
		t.Errorf("%s without script: the refusal is not an alert that takes the focus:\n%s", name, page)
	}
	// The window's title names the campaign as well as the answer, as the
	// campaign's page names it.
	title := page[strings.Index(page, "<title>")+len("<title>") : strings.Index(page, "</title>")]
	if want := http.StatusText(status); !strings.Contains(title, want) || (c != "" && !strings.Contains(title, c+" · ")) {
		t.Errorf("%s without script: the title %q does not say %q of %q", name, title, want, c)
	}
	if c == "" {
		if strings.Contains(page, `href="/c/`) {
			t.Errorf("%s without script: links a campaign's page that is not there:\n%s", name, page)
		}
		return
	}
	for _, want := range []string{`href="/c/` + c + `"`, "open " + c + "'s page", "reloading this answer would post the form again"} {
		if !strings.Contains(strings.ToLower(page), strings.ToLower(want)) {
			t.Errorf("%s without script: the refusal's page does not say %q:\n%s", name, want, page)
		}
	}
}
