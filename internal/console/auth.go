package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Role is what a user may do.
type Role int

// Roles. An operator may do everything a viewer may.
const (
	// RoleViewer (QA): campaigns, gallery, recipients; no action.
	RoleViewer Role = 1
	// RoleOperator (on-call): every action.
	RoleOperator Role = 2
)

func (r Role) String() string {
	switch r {
	case RoleViewer:
		return "viewer"
	case RoleOperator:
		return "operator"
	}
	return "none"
}

// User is one person who may sign in. Name is recorded in the audit log
// with every action ("alice (console)").
type User struct {
	Name  string
	Role  Role
	token string
}

// MinTokenLength is the shortest token accepted.
const MinTokenLength = 16

// TokenError is a problem in a token list; it never contains a token.
type TokenError struct {
	Source string // where the list came from, as the caller named it
	Line   int    // 0 when not about one line
	Reason string
}

func (e *TokenError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Source, e.Line, e.Reason)
	}
	return e.Source + ": " + e.Reason
}

// ParseTokens reads the users of role from a token list: one user per line,
// "NAME TOKEN" (so that the audit log names a person), or a single bare
// TOKEN (the user is then named after the role). Blank lines and lines
// starting with # are ignored. source names the list in errors.
func ParseTokens(data, source string, role Role) ([]User, error) {
	var users []User
	lines := strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n")
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		var u User
		switch len(f) {
		case 1:
			u = User{Name: role.String(), Role: role, token: f[0]}
		case 2:
			u = User{Name: f[0], Role: role, token: f[1]}
		default:
			return nil, &TokenError{Source: source, Line: i + 1, Reason: "want NAME TOKEN (or a single bare TOKEN)"}
		}
		if len(u.token) < MinTokenLength {
			return nil, &TokenError{Source: source, Line: i + 1, Reason: fmt.Sprintf("the token is shorter than %d characters; generate one with: openssl rand -hex 24", MinTokenLength)}
		}
		if strings.Trim(u.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") != "" {
			return nil, &TokenError{Source: source, Line: i + 1, Reason: "a name may hold letters, digits and . _ @ - only"}
		}
		users = append(users, u)
	}
	if len(users) > 1 {
		for _, u := range users {
			if u.Name == role.String() {
				return nil, &TokenError{Source: source, Reason: "a bare token is only allowed alone; give every line a NAME"}
			}
		}
	}
	return users, nil
}

// key is the user's signing key, derived from their token: a session of a
// user whose token changed is no longer valid.
func (u *User) key() []byte {
	h := sha256.Sum256([]byte("tidings-console-session\x00" + u.token))
	return h[:]
}

func (u *User) mac(parts ...string) string {
	m := hmac.New(sha256.New, u.key())
	m.Write([]byte(strings.Join(parts, "\x00")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// session is a signed-in user until expiry.
type session struct {
	user *User
	exp  int64
}

// csrf is the session's CSRF token: forms carry it as "csrf".
func (ss *session) csrf() string {
	return ss.user.mac("csrf", ss.user.Name, strconv.FormatInt(ss.exp, 10))
}

const (
	sessionCookie = "tidings_session"
	loginCookie   = "tidings_login"
)

// cookieValue is NAME.ROLE.EXPIRY.MAC; any console with the same users can
// verify it.
func (ss *session) cookieValue() string {
	name := base64.RawURLEncoding.EncodeToString([]byte(ss.user.Name))
	exp := strconv.FormatInt(ss.exp, 10)
	return name + "." + ss.user.Role.String() + "." + exp + "." + ss.user.mac("session", ss.user.Name, ss.user.Role.String(), exp)
}

// session returns the request's valid session, or nil.
func (s *Server) session(r *http.Request) *session {
	c, err := r.Cookie(s.sessionName())
	if err != nil {
		return nil
	}
	return s.sessionOfValue(c.Value)
}

// sessionOfValue returns the valid session of a session cookie's value,
// or nil.
func (s *Server) sessionOfValue(value string) *session {
	f := strings.Split(value, ".")
	if len(f) != 4 {
		return nil
	}
	name, err := base64.RawURLEncoding.DecodeString(f[0])
	if err != nil {
		return nil
	}
	u := s.users[string(name)]
	exp, err := strconv.ParseInt(f[2], 10, 64)
	if u == nil || err != nil || u.Role.String() != f[1] || s.cfg.Clock().Unix() >= exp {
		return nil
	}
	if !hmac.Equal([]byte(f[3]), []byte(u.mac("session", u.Name, f[1], f[2]))) {
		return nil
	}
	return &session{user: u, exp: exp}
}

type ctxKey struct{}

func sessionOf(r *http.Request) *session {
	ss, _ := r.Context().Value(ctxKey{}).(*session)
	return ss
}

// get wraps a page: without a session it sends the browser to sign in.
func (s *Server) get(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.tossed(w, r) {
			return
		}
		ss := s.session(r)
		if ss == nil {
			if r.Header.Get("Accept") == "text/event-stream" {
				http.Error(w, "sign in first", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ss)))
	}
}

// post wraps a state change: it needs a session of at least role and the
// session's CSRF token; anything else is refused with 403 and logged.
func (s *Server) post(role Role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.tossed(w, r) {
			return
		}
		ss := s.session(r)
		log := s.log.With("method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
		if ss == nil {
			log.Warn("console: refused a request without sign-in")
			s.refuse(w, r, http.StatusForbidden, s.signedOut(r))
			return
		}
		log = log.With("user", ss.user.Name, "role", ss.user.Role.String())
		token := r.PostFormValue("csrf")
		if token == "" {
			token = r.Header.Get("X-CSRF-Token")
		}
		if !hmac.Equal([]byte(token), []byte(ss.csrf())) {
			log.Warn("console: refused a request without a valid CSRF token")
			s.refuse(w, r, http.StatusForbidden, "This form has expired or did not come from the console: reload the page and try again.")
			return
		}
		if ss.user.Role < role {
			log.Warn("console: refused an action to a user without the role", "needs", role.String())
			s.refuse(w, r, http.StatusForbidden, fmt.Sprintf("%s is signed in as %s: this needs the %s role.", ss.user.Name, ss.user.Role, role))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ss)))
	}
}

// signedOut is the refusal of a state change without a session: most
// often a page left open past the session's end (on-call's page of
// Friday evening, Pause pressed at 2 a.m.; the browser may have dropped
// the cookie, so an ended session and none look alike). It says that
// nothing was done, why, and what to do, so that nobody takes the press
// for made; it says what was not done, never the campaign's state (not
// read for someone not signed in: a campaign already paused is not "not
// paused").
func (s *Server) signedOut(r *http.Request) string {
	what := "nothing was done"
	c, action := r.PathValue("campaign"), r.PathValue("action")
	if _, known := pastOf[action]; c != "" && known {
		what = fmt.Sprintf("nothing was done: your %s of %s was not applied", noun(action), c)
	}
	ttl := s.cfg.SessionTTL.String()
	if s.cfg.SessionTTL%time.Hour == 0 {
		ttl = fmt.Sprintf("%d hours", s.cfg.SessionTTL/time.Hour)
	}
	return fmt.Sprintf("Not signed in (a sign-in lasts %s: yours has ended, or this browser never signed in here), so %s. Reload the page to sign in again, then try again.", ttl, what)
}

// safeNext keeps a redirect target on this site: a path from its root,
// without a scheme or a host, and without control characters or
// backslashes (browsers drop tabs and newlines and read \ as /, so
// "/\t/evil.example" would leave the site).
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "/"
	}
	return next
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, r, http.StatusOK, "")
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, problem string) {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	nonce := base64.RawURLEncoding.EncodeToString(b)
	s.setLogin(w, nonce)
	w.WriteHeader(status)
	s.render(w, r, "login", map[string]any{"Nonce": nonce, "Next": safeNext(r.FormValue("next")), "Problem": problem})
}

// login signs a user in with their token. The login form carries a nonce
// that must equal its cookie (login CSRF).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	name, _ := s.loginName()
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" || !hmac.Equal([]byte(c.Value), []byte(r.PostFormValue("nonce"))) {
		s.renderLogin(w, r, http.StatusForbidden, "The sign-in form expired: try again.")
		return
	}
	give, wait, overall := s.signIns.take(r.RemoteAddr, s.cfg.Clock())
	if wait > 0 {
		s.refuseSignIn(w, r, wait, overall)
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	via := "form"
	if r.PostFormValue("via") == "link" { // the script filled the form from a link
		via = "link"
	}
	found := s.userOf(token)
	if found == nil && via == "form" {
		found = s.userOfLine(token)
	}
	if found == nil && via == "form" {
		// A sign-in link pasted whole into the box: its token, if the
		// link has the shape Run prints.
		if t, ok := linkToken(token); ok {
			via, found = "pasted-link", s.userOf(t)
		} else if looksLikeURL(token) {
			s.log.Warn("console: sign-in with a web address that is not a sign-in link", "remote", r.RemoteAddr)
			s.renderLogin(w, r, http.StatusUnauthorized, "That is a web address, not a console token or sign-in link: "+
				"paste the sign-in link the console printed (it ends in /login#token= and the token) or the token alone.")
			return
		}
	}
	if found == nil {
		problem := "That token is not recognised."
		if via != "form" {
			problem = "This sign-in link is not valid: sign-in links are valid only while the console that printed them runs. " +
				"Use the link the running console printed, or sign in with your viewer or operator token."
		}
		s.log.Warn("console: sign-in with an unknown token", "via", via, "remote", r.RemoteAddr)
		s.renderLogin(w, r, http.StatusUnauthorized, problem)
		return
	}
	give() // a good sign-in is not counted against the limits
	ss := &session{user: found, exp: s.cfg.Clock().Add(s.cfg.SessionTTL).Unix()}
	s.setSession(w, ss.cookieValue(), time.Unix(ss.exp, 0))
	s.setLogin(w, "")
	s.log.Info("console: signed in", "user", found.Name, "role", found.Role.String(), "remote", r.RemoteAddr)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// userOf returns the user whose token is token, nil when none is.
func (s *Server) userOf(token string) *User {
	var found *User
	for _, u := range s.users {
		if subtle.ConstantTimeCompare([]byte(token), []byte(u.token)) == 1 {
			found = u
		}
	}
	return found
}

// userOfLine returns the user of a tokens line "NAME TOKEN" pasted whole
// (the value of TIDINGS_CONSOLE_OPERATOR_TOKEN, which docker-compose.yml
// says to sign in with): the token's user, when NAME is that user's name;
// nil for anything else.
func (s *Server) userOfLine(line string) *User {
	f := strings.Fields(line)
	if len(f) != 2 {
		return nil
	}
	if u := s.userOf(f[1]); u != nil && u.Name == f[0] {
		return u
	}
	return nil
}

// linkToken returns the token of a sign-in link of the shape Run prints,
// http(s)://HOST/login#token=TOKEN, pasted whole into the token box; ok is
// false for anything else (no other path, query, user or fragment).
func linkToken(s string) (token string, ok bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Path != "/login" || u.RawQuery != "" || u.ForceQuery {
		return "", false
	}
	token, ok = strings.CutPrefix(u.Fragment, "token=")
	if !ok || token == "" || strings.ContainsFunc(token, unicode.IsSpace) {
		return "", false
	}
	return token, true
}

// looksLikeURL reports whether s, typed into the token box, is a web
// address rather than a token.
func looksLikeURL(s string) bool {
	lower := strings.ToLower(s)
	return strings.Contains(lower, "://") || strings.HasPrefix(lower, "localhost:") || strings.HasPrefix(lower, "127.0.0.1:") ||
		strings.Contains(lower, "/login")
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.setSession(w, "", time.Time{})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// refuse answers a refused request: JSON for the console's script, a page
// otherwise, which links the campaign of the request's path, if any
// (refuseAbout).
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.refuseAbout(w, r, status, msg, r.PathValue("campaign"))
}

// refuseAbout is refuse with the campaign c the page links ("" for none:
// one not found). The script shows msg beside the button pressed, on the
// campaign's page, where its "reload the page" and "press again" are
// done; a form posted without script gets a page of its own, which links
// that campaign's page (and the list) and says to open it: reloading the
// answer would post the form again.
func (s *Server) refuseAbout(w http.ResponseWriter, r *http.Request, status int, msg, c string) {
	if wantsJSON(r) {
		writeJSON(w, status, map[string]any{"ok": false, "message": msg})
		return
	}
	w.WriteHeader(status)
	title := http.StatusText(status)
	if c != "" {
		// The window's title names the campaign, as its page's does.
		title = c + " · " + title
	}
	s.render(w, r, "message", map[string]any{"Title": title, "Heading": http.StatusText(status), "Message": msg, "Campaign": c, "Refused": true})
}
