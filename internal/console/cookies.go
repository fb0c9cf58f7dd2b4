package console

import (
	"net/http"
	"strings"
	"time"
)

// Cookie tossing: a page of the same site (another port of the console's
// host name: cookies ignore ports; a sibling subdomain, with Domain=) can
// set a cookie named as the session cookie, so that the console would
// read a session it did not give this browser. Over HTTPS (Config.
// SecureCookies) the cookies are named with the __Host- prefix: a browser
// accepts those only Secure, from a secure page, for Path=/ and without
// Domain, so neither plain HTTP nor a subdomain can set one. Over plain
// HTTP nothing stops a page of another port from setting one; the console
// refuses a request that carries two session cookies of which one is
// valid (tossed beside the person's own, for a path deeper than /, it is
// sent first) instead of serving either.

// hostPrefix is the cookie name prefix browsers hold to host, Secure and
// Path=/.
const hostPrefix = "__Host-"

// sessionName is the session cookie's name: __Host- prefixed over HTTPS.
func (s *Server) sessionName() string {
	if s.cfg.SecureCookies {
		return hostPrefix + sessionCookie
	}
	return sessionCookie
}

// loginName and loginPath are the sign-in nonce cookie's name and path:
// over HTTPS __Host- prefixed, so Path=/.
func (s *Server) loginName() (name, path string) {
	if s.cfg.SecureCookies {
		return hostPrefix + loginCookie, "/"
	}
	return loginCookie, "/login"
}

// setSession sets (value != "") or clears the session cookie.
func (s *Server) setSession(w http.ResponseWriter, value string, exp time.Time) {
	c := &http.Cookie{Name: s.sessionName(), Value: value, Path: "/", HttpOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: http.SameSiteStrictMode, Expires: exp}
	if value == "" {
		c.Expires, c.MaxAge = time.Time{}, -1
	}
	http.SetCookie(w, c)
}

// setLogin sets (nonce != "") or clears the sign-in nonce cookie.
func (s *Server) setLogin(w http.ResponseWriter, nonce string) {
	name, path := s.loginName()
	c := &http.Cookie{Name: name, Value: nonce, Path: path, HttpOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: http.SameSiteStrictMode, MaxAge: 3600}
	if nonce == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// tossed answers a request that carries more than one session cookie, one
// of them valid, and reports whether it did: 400 and words, a WARN, and
// the session cookies cleared at every path that may hold one for this
// request, so that the person signs in again to a single cookie.
func (s *Server) tossed(w http.ResponseWriter, r *http.Request) bool {
	cs := r.CookiesNamed(s.sessionName())
	if len(cs) < 2 {
		return false
	}
	var names []string
	for _, c := range cs {
		if ss := s.sessionOfValue(c.Value); ss != nil {
			names = append(names, ss.user.Name)
		}
	}
	if len(names) == 0 {
		return false // no valid one: simply not signed in
	}
	s.log.Warn("console: refused a request with two session cookies: another page of this site (another port?) set one",
		"path", r.URL.Path, "remote", r.RemoteAddr, "cookies", len(cs), "users", strings.Join(names, ","))
	for _, p := range cookiePaths(r.URL.Path) {
		if p == "/" || !s.cfg.SecureCookies { // a __Host- cookie has Path=/ only
			http.SetCookie(w, &http.Cookie{Name: s.sessionName(), Path: p, MaxAge: -1, Secure: s.cfg.SecureCookies})
		}
	}
	msg := "Your browser sent the console two session cookies: another page served under this host name (another port of " +
		"localhost, say) set one, which could have made you act as someone else. Nothing was done. The console has cleared the " +
		"ones it could: sign in again. If this comes back, close the pages of other local services you do not trust, and clear " +
		"this site's cookies in your browser."
	if r.Header.Get("Accept") == "text/event-stream" {
		http.Error(w, msg, http.StatusBadRequest)
		return true
	}
	s.refuse(w, r, http.StatusBadRequest, msg)
	return true
}

// cookiePaths are the cookie paths that a browser sends for a request to
// path: "/", each of its directories with and without their final slash,
// and path itself.
func cookiePaths(path string) []string {
	out := []string{"/"}
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			out = append(out, path[:i], path[:i+1])
		}
	}
	if path != "/" && !strings.HasSuffix(path, "/") {
		out = append(out, path)
	}
	return out
}
