package console_test

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// from is a browser-like client of s whose connections come from the
// loopback address ip (127.0.0.2, ...): another client address.
func (s *site) from(t *testing.T, ip string) *client {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &client{t: t, base: s.URL, c: &http.Client{Jar: jar, Transport: &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// attempt posts the sign-in form with token and returns the answer's
// status, Retry-After and page.
func (c *client) attempt(token string) (int, string, string) {
	c.t.Helper()
	_, body, _ := c.get("/login")
	m := nonceRE.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("login page without nonce:\n%s", body)
	}
	resp := c.do("POST", "/login", url.Values{"nonce": {m[1]}, "token": {token}, "next": {"/"}}, false)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
}

// TestSignInsLimited: failed sign-ins are limited per client address and
// overall, with 429, Retry-After and words, and a WARN for on-call; a good
// sign-in is not counted, works from another address while one is
// refused, and works from the refused one once the window has passed.
func TestSignInsLimited(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	var ahead atomic.Int64 // how far the console's clock is ahead of now
	s := newSiteWith(t, w, func(c *console.Config) {
		c.SignIns = console.SignInLimit{PerAddress: 3, Overall: 5, Window: time.Minute}
		c.Clock = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	})
	a, b, c := s.from(t, "127.0.0.1"), s.from(t, "127.0.0.2"), s.from(t, "127.0.0.3")

	for i := range 4 { // more good sign-ins than the limit: none counts
		if code, _, _ := a.attempt(viewerToken); code != http.StatusSeeOther {
			t.Fatalf("good sign-in %d from A: %d, want 303", i+1, code)
		}
	}
	for i := range 3 {
		if code, _, _ := a.attempt("wrong-token-0123456789"); code != http.StatusUnauthorized {
			t.Fatalf("failed sign-in %d from A: %d, want 401", i+1, code)
		}
	}
	if strings.Contains(s.log(), "sign-in attempts refused") {
		t.Fatalf("a refusal logged before any was refused:\n%s", s.log())
	}
	code, retry, page := a.attempt("wrong-token-0123456789")
	if code != http.StatusTooManyRequests {
		t.Fatalf("4th failed sign-in from A: %d, want 429\n%s", code, page)
	}
	if secs, err := strconv.Atoi(retry); err != nil || secs < 1 || secs > 60 {
		t.Errorf("Retry-After %q, want whole seconds within the window", retry)
	}
	if !strings.Contains(page, "Too many failed sign-ins from your address (at most 3 in a minute): wait ") {
		t.Errorf("the refusal does not say why in words:\n%s", page)
	}
	// While refused, even the right token is: a guesser learns nothing.
	if code, _, _ := a.attempt(viewerToken); code != http.StatusTooManyRequests {
		t.Errorf("good sign-in from A while it is refused: %d, want 429", code)
	}
	if log := s.log(); !strings.Contains(log, "level=WARN msg=\"console: sign-in attempts refused: too many failed; someone may be guessing tokens\" refused=1 ") {
		t.Errorf("the first refusal was not logged at once with its count:\n%s", log)
	}

	// Another address signs in.
	if code, _, page := b.attempt(operatorToken); code != http.StatusSeeOther {
		t.Fatalf("good sign-in from B while A is refused: %d, want 303\n%s", code, page)
	}
	// Overall: A's 3 and B's 2 failures fill it; C's first is refused.
	for i := range 2 {
		if code, _, _ := b.attempt("wrong-token-0123456789"); code != http.StatusUnauthorized {
			t.Fatalf("failed sign-in %d from B: %d, want 401", i+1, code)
		}
	}
	code, retry, page = c.attempt(viewerToken)
	if code != http.StatusTooManyRequests || retry == "" || !strings.Contains(page, "Too many failed sign-ins to this console from anywhere (at most 5 in a minute;") {
		t.Fatalf("C's sign-in past the overall limit: %d, Retry-After %q, want 429 saying so\n%s", code, retry, page)
	}

	ahead.Store(int64(time.Minute)) // the window has passed
	if code, _, page := a.attempt(viewerToken); code != http.StatusSeeOther {
		t.Fatalf("good sign-in from A once the window passed: %d, want 303\n%s", code, page)
	}
}

func TestClientKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.7:4242":                "192.0.2.7",
		"[2001:db8:1:2:aaaa::1]:4242":   "2001:db8:1:2::/64",
		"[2001:db8:1:2:bbbb::9]:1":      "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:4242":       "192.0.2.7",
		"not an address":                "not an address",
		"[2001:db8:1:3:aaaa::1]:4242":   "2001:db8:1:3::/64",
		"127.0.0.1:80":                  "127.0.0.1",
		"[::1]:80":                      "::/64",
		"[fe80::1%eth0]:80":             "fe80::1%eth0",
		"[2001:db8::1]:80":              "2001:db8::/64",
		"[2001:db8:0:0:ffff::ffff]:443": "2001:db8::/64",
	} {
		if got := console.ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}
