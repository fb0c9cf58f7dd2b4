package console_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// postFrom posts form to path as a browser does from a page at origin:
// with the Origin and Sec-Fetch-Site it sends (site "same-origin",
// "same-site", "cross-site").
func (c *client) postFrom(path string, form url.Values, origin, site string) (int, *http.Response) {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), "POST", c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", site)
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp
}

// TestCrossOriginPostsRefused: a page of another origin cannot make the
// operator's browser change anything, even one it shares the site with
// (another port of localhost, whose cookies a browser shares with the
// console's: it can plant the login form's nonce cookie and sign the
// operator in as someone else, or, with a CSRF token it learnt, act).
// The browser says where a post comes from (Sec-Fetch-Site, Origin);
// the console refuses what does not come from its own pages.
func TestCrossOriginPostsRefused(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "xorigin", N: 4})
	s := newSite(t, w, false)
	evil := "http://127.0.0.1:3000"

	// Login CSRF: the nonce cookie planted, the form posted from the
	// other port.
	anon := s.anonymous(t)
	_, body, _ := anon.get("/login")
	nonce := nonceRE.FindStringSubmatch(body)[1]
	for _, site := range []string{"same-site", "cross-site"} {
		code, resp := anon.postFrom("/login", url.Values{"nonce": {nonce}, "token": {viewerToken}, "next": {"/"}}, evil, site)
		if code != http.StatusForbidden {
			t.Errorf("sign-in posted from %s (%s): %d, want 403", evil, site, code)
		}
		for _, c := range resp.Cookies() {
			if c.Name == "tidings_session" && c.Value != "" {
				t.Errorf("sign-in posted from %s (%s) set a session cookie", evil, site)
			}
		}
	}

	// An action with a valid CSRF token, posted from another origin.
	op := s.signIn(t, operatorToken)
	csrf := op.csrf("/c/xorigin")
	for _, site := range []string{"same-site", "cross-site"} {
		if code, _ := op.postFrom("/c/xorigin/pause", url.Values{"csrf": {csrf}, "reason": {"from " + site}}, evil, site); code != http.StatusForbidden {
			t.Errorf("pause posted from %s (%s): %d, want 403", evil, site, code)
		}
	}
	// An older browser, without Sec-Fetch-Site: the Origin decides.
	if code, _ := op.postFrom("/c/xorigin/pause", url.Values{"csrf": {csrf}, "reason": {"origin only"}}, evil, ""); code != http.StatusForbidden {
		t.Errorf("pause posted from %s (Origin alone): %d, want 403", evil, code)
	}
	st, err := w.Store.Status(t.Context(), "xorigin")
	if err != nil {
		t.Fatal(err)
	}
	if st.State == store.StatePaused {
		t.Fatalf("a post from another origin paused the campaign")
	}
	if !strings.Contains(s.log(), "refused a request from another origin") {
		t.Errorf("the refusals are not logged:\n%s", s.log())
	}

	// The console's own page posts as a browser does: accepted.
	if code, _ := op.postFrom("/c/xorigin/pause", url.Values{"csrf": {csrf}, "reason": {"ours"}}, s.URL, "same-origin"); code != http.StatusSeeOther && code != http.StatusOK {
		t.Errorf("pause posted from the console's own page: %d, want it done", code)
	}
	if st, err := w.Store.Status(t.Context(), "xorigin"); err != nil || st.State != store.StatePaused {
		t.Errorf("pause posted from the console's own page: state %v (%v), want paused", st, err)
	}
}

// TestNoOtherOriginEmbeds: no page of another origin may frame the
// console or embed its answers: a page of the same site (another port of
// localhost) gets the session cookie on an <img>, <script> or <link> of a
// console URL, so every answer, open or signed in, tells the browser to
// keep it to the console's origin (Cross-Origin-Resource-Policy), besides
// refusing frames and sniffing. The email frame alone may be framed, by
// the console only.
func TestNoOtherOriginEmbeds(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "embeds", N: 4})
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	anon := s.anonymous(t)
	check := func(who string, c *client, path, frame string) {
		t.Helper()
		_, _, h := c.get(path)
		want := map[string]string{
			"Cross-Origin-Resource-Policy": "same-origin",
			"Cross-Origin-Opener-Policy":   "same-origin",
			"X-Content-Type-Options":       "nosniff",
			"Referrer-Policy":              "no-referrer",
			"X-Frame-Options":              frame,
		}
		for k, v := range want {
			if got := h.Get(k); got != v {
				t.Errorf("%s GET %s: %s %q, want %q", who, path, k, got, v)
			}
		}
		ancestors := "frame-ancestors 'none'"
		if frame == "SAMEORIGIN" {
			ancestors = "frame-ancestors 'self'"
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), ancestors) {
			t.Errorf("%s GET %s: Content-Security-Policy %q, want %s", who, path, h.Get("Content-Security-Policy"), ancestors)
		}
	}
	for _, p := range []string{"/login", "/metrics", "/healthz", "/assets/console.js", "/nope"} {
		check("anonymous", anon, p, "DENY")
	}
	for _, p := range []string{"/", "/c/embeds", "/c/embeds/gallery", "/c/embeds/recipients", "/c/embeds/recipients?format=csv", "/c/embeds/gallery/de/eml"} {
		check("operator", op, p, "DENY")
	}
	check("operator", op, "/c/embeds/gallery/de/html", "SAMEORIGIN")
}
