package console_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// sessionValue is the session cookie c holds for s.
func (c *client) sessionValue(name string) string {
	c.t.Helper()
	u, _ := url.Parse(c.base)
	for _, k := range c.c.Jar.Cookies(u) {
		if k.Name == name {
			return k.Value
		}
	}
	c.t.Fatalf("no cookie %s for %s", name, c.base)
	return ""
}

// TestTossedSessionCookieRefused: over plain HTTP a page of another port
// of localhost can set a session cookie (its own sign-in's) for a path
// deeper than /, which the browser then sends before the person's own:
// the console must not serve, nor act for, either of two session cookies.
func TestTossedSessionCookieRefused(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "toss", N: 3})
	s := newSite(t, w, false)
	alice := s.signIn(t, operatorToken)
	csrf := alice.csrf("/c/toss")
	own := alice.sessionValue("tidings_session")
	planted := s.signIn(t, viewerToken).sessionValue("tidings_session") // quinn's, set by the other port's page
	// As the browser sends them: the deeper path's cookie first.
	both := "tidings_session=" + planted + "; tidings_session=" + own

	req, _ := http.NewRequestWithContext(t.Context(), "GET", s.URL+"/c/toss", nil)
	req.Header.Set("Cookie", both)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(body), "quinn") ||
		!strings.Contains(string(body), "Your browser sent the console two session cookies") {
		t.Errorf("GET with two session cookies: %d, want 400 saying so and serving nobody's page:\n%s", resp.StatusCode, body)
	}
	var cleared []string
	for _, c := range resp.Cookies() {
		if c.Name == "tidings_session" && c.MaxAge < 0 {
			cleared = append(cleared, c.Path)
		}
	}
	for _, p := range []string{"/", "/c", "/c/", "/c/toss"} {
		if !slices.Contains(cleared, p) {
			t.Errorf("the session cookie at path %q not cleared (cleared: %q)", p, cleared)
		}
	}

	// An action with the person's CSRF token is not done either.
	req, _ = http.NewRequestWithContext(t.Context(), "POST", s.URL+"/c/toss/pause", strings.NewReader(url.Values{"csrf": {csrf}, "reason": {"r"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "tidings_session="+own+"; tidings_session="+planted)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("pause with two session cookies: %d, want 400", resp.StatusCode)
	}
	st, err := w.Store.Status(t.Context(), "toss")
	if err != nil {
		t.Fatal(err)
	}
	if st.State == store.StatePaused {
		t.Errorf("paused by a request with two session cookies")
	}
	if log := s.log(); !strings.Contains(log, "level=WARN msg=\"console: refused a request with two session cookies") {
		t.Errorf("not logged:\n%s", log)
	}

	// Two cookies of which none is valid: simply not signed in.
	req, _ = http.NewRequestWithContext(t.Context(), "GET", s.URL+"/c/toss", nil)
	req.Header.Set("Cookie", "tidings_session=x; tidings_session=y")
	resp, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET with two invalid session cookies: %d, want 303 to sign in", resp.StatusCode)
	}
	// One alone is served as before.
	if code, _, _ := alice.get("/c/toss"); code != http.StatusOK {
		t.Errorf("GET with the person's own cookie: %d, want 200", code)
	}
}

// TestHostPrefixedCookiesOverHTTPS: served over HTTPS, the console names
// its cookies __Host- (Secure, Path=/, no Domain: no plain HTTP page nor
// subdomain can set one), and a session cookie without the prefix (which
// those could set) is not read.
func TestHostPrefixedCookiesOverHTTPS(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	s := newSiteWith(t, w, func(c *console.Config) { c.SecureCookies = true })
	ts := httptest.NewTLSServer(s.srv)
	t.Cleanup(ts.Close)
	jar, _ := cookiejar.New(nil)
	hc := ts.Client()
	hc.Jar, hc.CheckRedirect = jar, func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &client{t: t, base: ts.URL, c: hc}

	_, body, h := c.get("/login")
	login := (&http.Response{Header: h}).Cookies()
	if len(login) != 1 || login[0].Name != "__Host-tidings_login" || !login[0].Secure || login[0].Path != "/" || login[0].Domain != "" {
		t.Errorf("the sign-in cookie over HTTPS: %+v, want __Host-tidings_login, Secure, Path=/", login)
	}
	nonce := nonceRE.FindStringSubmatch(body)[1]
	resp := c.do("POST", "/login", url.Values{"nonce": {nonce}, "token": {operatorToken}, "next": {"/"}}, false)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in over HTTPS: %s", resp.Status)
	}
	var value string
	for _, k := range resp.Cookies() {
		if k.Name == "__Host-tidings_session" && k.Value != "" {
			value = k.Value
			if !k.Secure || !k.HttpOnly || k.Path != "/" || k.Domain != "" {
				t.Errorf("session cookie %+v: want Secure, HttpOnly, Path=/, no Domain", k)
			}
		}
	}
	if value == "" {
		t.Fatalf("no __Host-tidings_session set by sign-in over HTTPS: %v", resp.Header["Set-Cookie"])
	}
	if code, _, _ := c.get("/"); code != http.StatusOK {
		t.Errorf("signed in over HTTPS: / is %d, want 200", code)
	}
	// The same valid value without the prefix, as a page of plain HTTP
	// or of a subdomain could set it: not a session.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", ts.URL+"/", nil)
	req.Header.Set("Cookie", "tidings_session="+value)
	r, err := (&http.Client{Transport: hc.Transport, CheckRedirect: hc.CheckRedirect}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusSeeOther {
		t.Errorf("a session cookie without __Host- over HTTPS: %d, want 303 to sign in", r.StatusCode)
	}
}
