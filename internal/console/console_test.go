package console_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/freeport"
	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/preview"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

const (
	viewerToken   = "viewer-token-0123456789"
	operatorToken = "operator-token-0123456789"
)

// site is a console on a test server over world w.
type site struct {
	*httptest.Server
	w       *consoletest.World
	logFile string
	srv     *console.Server
}

// log is what the console logged so far.
func (s *site) log() string {
	b, _ := os.ReadFile(s.logFile)
	return string(b)
}

func users(t *testing.T) []console.User {
	t.Helper()
	v, err := console.ParseTokens("quinn "+viewerToken, "viewers", console.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	o, err := console.ParseTokens("alice "+operatorToken, "operators", console.RoleOperator)
	if err != nil {
		t.Fatal(err)
	}
	return append(v, o...)
}

func compose(c *campaign.Campaign) console.Composer { return worker.NewComposer(c, "") }

func newSite(t *testing.T, w *consoletest.World, production bool) *site {
	t.Helper()
	return newSiteWith(t, w, func(c *console.Config) { c.Production = production })
}

// newSiteWith is newSite with the console's configuration changed by set
// (its clock, its environment's name, ...).
func newSiteWith(t *testing.T, w *consoletest.World, set func(*console.Config)) *site {
	t.Helper()
	log, err := os.CreateTemp(t.TempDir(), "console-*.log")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	cfg := console.Config{
		Store: w.Store, Env: consoletest.EnvName, Users: users(t), Compose: compose,
		Samples: map[string]preview.Sample{"": {Name: "Sample Person", Email: "sample@example.org", Fields: map[string]string{"posts": "2"}}},
		Host:    "console-host", LiveInterval: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(log, nil)),
	}
	set(&cfg)
	srv, err := console.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &site{Server: ts, w: w, logFile: log.Name(), srv: srv}
}

// client is a browser-like client: a cookie jar, no redirects followed.
type client struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (s *site) anonymous(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: s.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var (
	nonceRE = regexp.MustCompile(`name="nonce" value="([^"]+)"`)
	csrfRE  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// signIn signs in with token through the login form.
func (s *site) signIn(t *testing.T, token string) *client {
	t.Helper()
	c := s.anonymous(t)
	_, body, _ := c.get("/login")
	m := nonceRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("login page without nonce:\n%s", body)
	}
	resp := c.do("POST", "/login", url.Values{"nonce": {m[1]}, "token": {token}, "next": {"/"}}, false)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %s", resp.Status)
	}
	return c
}

func (c *client) do(method, path string, form url.Values, asJSON bool) *http.Response {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if asJSON {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp
}

func (c *client) get(path string) (int, string, http.Header) {
	c.t.Helper()
	resp := c.do("GET", path, nil, false)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (c *client) post(path string, form url.Values) (int, string) {
	c.t.Helper()
	resp := c.do("POST", path, form, true)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// csrf reads the CSRF token from a page.
func (c *client) csrf(path string) string {
	c.t.Helper()
	_, body, _ := c.get(path)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("%s has no CSRF token", path)
	}
	return m[1]
}

func TestParseTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []string // names
		err      string
	}{
		{"bare", "  abcdefghijklmnop-1234 \n", []string{"operator"}, ""},
		{"people", "# on-call\nalice abcdefghijklmnop-1234\n\nbob zyxwvutsrqponmlk-9876\r\n", []string{"alice", "bob"}, ""},
		{"short", "alice short", nil, "tokens:1: the token is shorter than 16"},
		{"three fields", "alice b c", nil, "tokens:1: want NAME TOKEN"},
		{"bad name", "al<ice abcdefghijklmnop-1234", nil, "tokens:1: a name may hold"},
		{"bare among people", "abcdefghijklmnop-1234\nbob zyxwvutsrqponmlk-9876", nil, "a bare token is only allowed alone"},
		{"empty", "\n# nobody\n", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			us, err := console.ParseTokens(tt.in, "tokens", console.RoleOperator)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "abcdefghijklmnop") || strings.Contains(err.Error(), "short") && tt.name != "short" {
					t.Errorf("error %q prints a token", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range us {
				got = append(got, u.Name)
				if u.Role != console.RoleOperator {
					t.Errorf("%s: role %s", u.Name, u.Role)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("names %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSignInAndHeaders: nothing but the login page, assets, /metrics and
// /healthz without a session; every response forbids framing and carries
// the CSP; wrong tokens and forged login forms are refused.
func TestSignInAndHeaders(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "headers", N: 9})
	s := newSite(t, w, false)
	anon := s.anonymous(t)
	for _, p := range []string{"/", "/c/headers", "/c/headers/gallery", "/c/headers/recipients?format=csv", "/c/headers/gallery/de/html"} {
		code, body, h := anon.get(p)
		if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login?next=") {
			t.Errorf("GET %s without a session: %d %q, want a redirect to sign in", p, code, h.Get("Location"))
		}
		if strings.Contains(body, "@example.com") {
			t.Errorf("GET %s without a session shows recipient data", p)
		}
	}
	for _, p := range []string{"/login", "/metrics", "/healthz", "/assets/console.css", "/assets/console.js"} {
		code, _, h := anon.get(p)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", p, code)
		}
		if h.Get("X-Frame-Options") != "DENY" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
			!strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v, want CSP with frame-ancestors 'none', X-Frame-Options DENY, nosniff", p, h)
		}
	}
	// A login form that did not come from our page (no nonce cookie).
	if code, _ := anon.post("/login", url.Values{"nonce": {"forged"}, "token": {operatorToken}}); code != http.StatusForbidden {
		t.Errorf("forged login form: %d, want 403", code)
	}
	_, body, _ := anon.get("/login")
	nonce := nonceRE.FindStringSubmatch(body)[1]
	if code, _ := anon.post("/login", url.Values{"nonce": {nonce}, "token": {"not-a-token-at-all-1234"}}); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", code)
	}
	if strings.Contains(s.log(), "not-a-token") || strings.Contains(s.log(), operatorToken) {
		t.Errorf("the log prints a token:\n%s", s.log())
	}
	op := s.signIn(t, operatorToken)
	code, body, _ := op.get("/")
	if code != http.StatusOK || !strings.Contains(body, "headers") || !strings.Contains(body, "alice") {
		t.Fatalf("campaigns page after sign-in: %d\n%s", code, body)
	}
	if code, body, _ := op.get("/c/nope"); code != http.StatusNotFound || !strings.Contains(html.UnescapeString(body), `There is no campaign "nope" in environment `+consoletest.EnvName) {
		t.Errorf("an unknown campaign: %d, want 404 saying so\n%s", code, body)
	}
	// A name one letter off is told the campaign it may have meant.
	if code, body, _ := op.get("/c/header"); code != http.StatusNotFound || !strings.Contains(html.UnescapeString(body), `(did you mean "headers"?)`) {
		t.Errorf("a mistyped campaign: %d, want 404 suggesting headers\n%s", code, body)
	}
	// A campaign a send is staging for the first time: said so, not "no
	// such campaign"; its page shows it being staged, and by whom
	// (TestEveryStateHasABadgeAndASeries: with Pause alone).
	if err := w.Redis.Client().Set(t.Context(), "tidings:{midway}:staging", "s1|alice@box", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := op.get("/c/midway"); code != http.StatusOK || !strings.Contains(body, `id="state">being-staged<`) || !strings.Contains(body, "Being staged by alice@box") {
		t.Errorf("a campaign being staged: %d, want its page saying it is being staged and who stages it\n%s", code, body)
	}
	// One whose first staging stopped before its end: listed, and its page
	// says so.
	sg, err := w.Store.NewStager(t.Context(), store.StageConfig{Campaign: "halfway", Definition: []byte(`{}`), Hash: "h", Env: consoletest.EnvName, Who: "bob", Host: "box", ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	sg.Abort(t.Context())
	if code, body, _ := op.get("/"); code != http.StatusOK || !strings.Contains(body, "halfway") {
		t.Errorf("campaigns page with an interrupted first staging: %d, want it listed\n%s", code, body)
	}
	if code, body, _ := op.get("/c/halfway"); code != http.StatusOK || !strings.Contains(body, "staging-interrupted") || !strings.Contains(html.UnescapeString(body), "never finished") {
		t.Errorf("an interrupted first staging: %d, want its page saying it never finished\n%s", code, body)
	}
	// The frame of an email may be framed by the console, nothing else.
	code, _, h := op.get("/c/headers/gallery/de/html")
	if code != http.StatusOK || h.Get("X-Frame-Options") != "SAMEORIGIN" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'self'") ||
		strings.Contains(h.Get("Content-Security-Policy"), "script-src") {
		t.Errorf("email frame: %d %v; want SAMEORIGIN, frame-ancestors 'self', no script", code, h)
	}
}

// utcRE matches a time as the console writes it.
var utcRE = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC`)

// TestUnfinishedStagingSaysWhatWorks: the console says what the CLI says
// of a campaign whose staging has not ended. Resume, approve and retry of
// one whose FIRST staging was interrupted are refused with the CLI's
// advice for it: run the same send again as it was (not with
// --resume-existing, which is for a campaign that exists), or give it up
// with a cancel (TestUnfinishedStagingOffersWhatWorks); one whose
// re-staging was interrupted keeps send --resume-existing. The first one's page and the
// campaigns list ("Needs a human") say it never finished staging, who
// began it, and the command to run next (the CLI status's hint).
func TestUnfinishedStagingSaysWhatWorks(t *testing.T) {
	t.Parallel()
	w := unfinishedStagings(t)
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	env := consoletest.EnvName
	first := []string{"its first staging has not ended", "run it again as it was (CAMPAIGN-FILE: the campaign file you staged it from): tidings send CAMPAIGN-FILE --env " + env + " (with the flags it had)",
		"or give it up (nothing was sent): tidings cancel halfway --env " + env + " --reason ... removes what the staging left"}
	for _, tt := range []struct {
		campaign, action string
		form             url.Values
		want             []string
		not              string
	}{
		{"halfway", "resume", nil, first, "--resume-existing"},
		{"halfway", "approve", url.Values{"stage": {"s1"}}, first, "--resume-existing"},
		{"halfway", "retry", nil, first, "--resume-existing"},
		{"again", "resume", nil, []string{"it is being staged", "run it again (CAMPAIGN-FILE: the campaign file you staged it from): tidings send CAMPAIGN-FILE --env " + env + " --resume-existing"}, "first staging"},
		// Its cancel says why it cannot act and what to run, as tidings
		// cancel does (nextstep.Staging).
		{"again", "cancel", url.Values{"stage": {""}, "reason": {"wrong list"}, "confirm": {"again"}}, []string{"its staging again has not ended", "only partly written", "tidings pause again --env " + env, "tidings send CAMPAIGN-FILE --env " + env + " --resume-existing", "then cancel it (tidings cancel again --env " + env + " --reason ...)."}, "first staging"},
	} {
		form := url.Values{"csrf": {op.csrf("/c/" + tt.campaign)}}
		for k, v := range tt.form {
			form[k] = v
		}
		code, body := op.post("/c/"+tt.campaign+"/"+tt.action, form)
		body = html.UnescapeString(body)
		for _, want := range tt.want {
			if code != http.StatusConflict || !strings.Contains(body, want) || strings.Contains(body, tt.not) {
				t.Errorf("%s of %s: %d, want 409 saying %q, not %q\n%s", tt.action, tt.campaign, code, want, tt.not, body)
			}
		}
	}
	next := "run the same send again (its campaign file, --env " + env + ", and any --exclude-delivered it had) on the host that started it"
	for _, p := range []string{"/", "/c/halfway"} {
		code, body, _ := op.get(p)
		if p == "/" { // the list as on-call reads it, when the staging began aside
			golden.Check(t, filepath.Join("testdata", "campaigns-unfinished-staging.golden"), utcRE.ReplaceAllString(campaignsTable(body), "TIME"))
		}
		body = html.UnescapeString(body)
		for _, want := range []string{"Never finished staging: begun by bob@box at ", next} {
			if code != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("GET %s with an interrupted first staging: %d, want %q\n%s", p, code, want, body)
			}
		}
	}
}

// TestActionsAndRoles: an operator pauses, resumes, cancels through the
// store's operations, recorded as "alice (console)"; a viewer's POST and a
// POST without the CSRF token are refused with 403 and logged, and change
// nothing.
func TestActionsAndRoles(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "acts", N: 18})
	s := newSite(t, w, true)
	op := s.signIn(t, operatorToken)
	viewer := s.signIn(t, viewerToken)
	state := func() store.State {
		st, err := w.Store.Status(t.Context(), "acts")
		if err != nil {
			t.Fatal(err)
		}
		return st.State
	}
	before := state()

	_, vpage, _ := viewer.get("/c/acts")
	for _, b := range []string{">Pause<", ">Resume<", ">Cancel campaign<", ">Approve canary<", ">Retry temporary failures<", ">Retry permanent failures<"} {
		if strings.Contains(vpage, b) {
			t.Errorf("the viewer's campaign page shows the %s button", b)
		}
	}
	if !strings.Contains(vpage, "PRODUCTION") || !strings.Contains(vpage, "env-prod") {
		t.Errorf("production is not unmistakable on the page")
	}
	vcsrf := viewer.csrf("/c/acts")
	if code, _ := viewer.post("/c/acts/pause", url.Values{"csrf": {vcsrf}, "reason": {"viewer tries"}}); code != http.StatusForbidden {
		t.Errorf("viewer POST pause: %d, want 403", code)
	}
	if code, _ := op.post("/c/acts/pause", url.Values{"reason": {"no csrf"}}); code != http.StatusForbidden {
		t.Errorf("operator POST without CSRF token: %d, want 403", code)
	}
	if code, _ := op.post("/c/acts/pause", url.Values{"csrf": {vcsrf}, "reason": {"someone else's token"}}); code != http.StatusForbidden {
		t.Errorf("operator POST with the viewer's CSRF token: %d, want 403", code)
	}
	if got := state(); got != before {
		t.Fatalf("refused requests changed the state to %s", got)
	}
	for _, want := range []string{"refused an action to a user without the role", "user=quinn", "refused a request without a valid CSRF token"} {
		if !strings.Contains(s.log(), want) {
			t.Errorf("log lacks %q:\n%s", want, s.log())
		}
	}

	csrf := op.csrf("/c/acts")
	_, page, _ := op.get("/c/acts")
	stage := stageRE.FindStringSubmatch(page)
	if stage == nil {
		t.Fatalf("the approve form names no staging:\n%s", page)
	}
	steps := []struct {
		action string
		form   url.Values
		code   int
		want   store.State
		says   string // in the answer, if set
	}{
		{"pause", url.Values{}, http.StatusBadRequest, before, ""},                                  // a reason is required
		{"pause", url.Values{"reason": {"bounces climbing"}}, http.StatusOK, store.StatePaused, ""}, //
		// A second pause changes nothing, and says whose pause holds.
		{"pause", url.Values{"reason": {"me too"}}, http.StatusOK, store.StatePaused, "(bounces climbing): nothing changed, and this reason is not recorded"},
		{"approve", url.Values{}, http.StatusBadRequest, store.StatePaused, "names no staging"},                  // of which staging?
		{"approve", url.Values{"stage": {stage[1]}}, http.StatusConflict, store.StatePaused, "it has no canary"}, // staged without one: nothing to approve
		{"resume", url.Values{}, http.StatusOK, store.StateRunning, ""},                                          //
		{"resume", url.Values{}, http.StatusOK, store.StateRunning, "It was already running (resume by alice (console)"},
		{"cancel", url.Values{"reason": {"wrong file"}}, http.StatusBadRequest, store.StateRunning, ""}, // name not typed
		{"cancel", url.Values{"reason": {"wrong file"}, "confirm": {"act"}}, http.StatusBadRequest, store.StateRunning, ""},
		{"cancel", url.Values{"stage": {stage[1]}, "reason": {"wrong file"}, "confirm": {"acts"}}, http.StatusOK, store.StateCancelled, ""},
		// A second cancel changes nothing, and says whose cancel holds.
		{"cancel", url.Values{"stage": {stage[1]}, "reason": {"legal"}, "confirm": {"acts"}}, http.StatusOK, store.StateCancelled, "UTC (wrong file): nothing changed, and this reason is not recorded"},
		{"retry", url.Values{}, http.StatusConflict, store.StateCancelled, ""}, // a cancelled campaign is not retried
		{"explode", url.Values{}, http.StatusNotFound, store.StateCancelled, ""},
	}
	for _, st := range steps {
		st.form.Set("csrf", csrf)
		code, body := op.post("/c/acts/"+st.action, st.form)
		if code != st.code {
			t.Fatalf("%s %v: %d %s, want %d", st.action, st.form, code, body, st.code)
		}
		if got := state(); got != st.want {
			t.Fatalf("after %s: state %s, want %s", st.action, got, st.want)
		}
		if !strings.Contains(body, st.says) {
			t.Errorf("%s %v: the answer lacks %q\n%s", st.action, st.form, st.says, body)
		}
	}
	csrf = op.csrf("/c/acts")
	if code, body := op.post("/c/acts/retry", url.Values{"csrf": {csrf}}); code != http.StatusConflict || !strings.Contains(body, "A cancelled campaign does not run again") {
		t.Errorf("retry of a cancelled campaign: %d, want 409 saying what to do instead\n%s", code, body)
	}
	stat, err := w.Store.Status(t.Context(), "acts")
	if err != nil {
		t.Fatal(err)
	}
	var who []string
	for _, a := range stat.Audit {
		if a.Action == "pause" || a.Action == "resume" || a.Action == "cancel" {
			who = append(who, a.Action+":"+a.Who+"@"+a.Host+"/"+a.Env)
		}
	}
	want := "pause:alice (console)@console-host/test,resume:alice (console)@console-host/test,cancel:alice (console)@console-host/test"
	if strings.Join(who, ",") != want {
		t.Errorf("audit %v, want %s", who, want)
	}
	if stat.Counts[store.OutcomeCancelled] != 18 {
		t.Errorf("counts %v, want 18 cancelled", stat.Counts)
	}
}

// TestMetricsShowPausedCampaign scrapes /metrics and finds a paused
// campaign's state, its recipients per language and outcome.
func TestMetricsShowPausedCampaign(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "metered", N: 18})
	w.Stage(t, consoletest.Spec{Name: "other", N: 9})
	if _, err := w.Store.Pause(t.Context(), "metered", store.Actor{Who: "t"}, "test"); err != nil {
		t.Fatal(err)
	}
	s := newSite(t, w, false)
	_, body, _ := s.anonymous(t).get("/metrics")
	for _, want := range []string{
		`tidings_campaign_state{campaign="metered",environment="test",state="paused"} 1`,
		`tidings_campaign_state{campaign="metered",environment="test",state="running"} 0`,
		`tidings_campaign_state{campaign="other",environment="test",state="running"} 1`,
		`tidings_campaign_awaiting_approval{campaign="metered",environment="test"} 0`,
		`tidings_campaign_recipients{campaign="metered",environment="test",lang="de",outcome="pending"} 2`,
		`tidings_campaign_recipients{campaign="metered",environment="test",lang="ar",outcome="sent"} 0`,
		`tidings_campaign_rows{campaign="metered",environment="test"} 18`,
		`tidings_campaign_work_waiting{campaign="other",environment="test"} 1`, // running, nothing released: no worker picked it up
		`tidings_console_redis_up{environment="test"} 1`,
		"# TYPE tidings_campaign_seconds_since_progress gauge",
		`tidings_campaign_seconds_since_progress{campaign="other",environment="test"} `, // no outcome yet: since its recipients became due
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}

// TestMetricsNameTheEnvironment: one Prometheus that scrapes the consoles
// of several environments (staging and production, whose campaigns may
// share names) must tell their series apart: every tidings_ sample of the
// console's /metrics, tidings_console_redis_up included, carries
// environment="<the console's environment>".
func TestMetricsNameTheEnvironment(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "labelled", N: 3})
	s := newSite(t, w, false)
	_, body, _ := s.anonymous(t).get("/metrics")
	want := `environment="` + consoletest.EnvName + `"`
	n := 0
	for _, l := range strings.Split(body, "\n") {
		if !strings.HasPrefix(l, "tidings_") {
			continue
		}
		n++
		if !strings.Contains(l, want) {
			t.Errorf("/metrics: %s has no %s: staging and production series of one Prometheus would merge", l, want)
		}
	}
	if n == 0 {
		t.Fatalf("/metrics has no tidings_ sample:\n%s", body)
	}
}

// TestETA: the campaigns page, a campaign's page and /metrics show the
// ETA at the campaign's rate while nothing was sent (12 at 10/s; the
// batches go back to back), and "after approval" for a campaign whose
// canary will wait for an approval.
func TestETA(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "rated", N: 12, Size: 5, Rate: "10/s"})
	w.Stage(t, consoletest.Spec{Name: "canary", N: 12, Canary: 1, Approve: true, Rate: "10/s"})
	s := newSite(t, w, false)
	c := s.signIn(t, viewerToken)
	_, list, _ := c.get("/")
	_, rated, _ := c.get("/c/rated")
	_, canary, _ := c.get("/c/canary")
	_, metrics, _ := s.anonymous(t).get("/metrics")
	for _, tt := range []struct{ page, body, want string }{
		{"/", list, "<td data-label=\"ETA\">1s</td>"},
		{"/", list, "<td data-label=\"ETA\">after approval</td>"},
		{"/c/rated", rated, "<dt>ETA</dt><dd>1s</dd>"},
		{"/c/canary", canary, "<dt>ETA</dt><dd>after approval</dd>"},
		{"/metrics", metrics, `tidings_campaign_eta_seconds{campaign="rated",environment="test"} 1.2`},
	} {
		if !strings.Contains(tt.body, tt.want) {
			t.Errorf("%s lacks %s\n%s", tt.page, tt.want, tt.body)
		}
	}
	if strings.Contains(metrics, `tidings_campaign_eta_seconds{campaign="canary",environment="test"}`) {
		t.Errorf("/metrics has an ETA for a campaign that waits for an approval")
	}
}

// TestGallery renders every language from the approved snapshot, flags the
// incomplete one, writes Arabic right to left, shows a chosen recipient's
// own message, and serves each email's HTML and .eml.
func TestGallery(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	locales := append(append([]string(nil), consoletest.Langs...), "pt-BR")
	w.Stage(t, consoletest.Spec{Name: "gal", N: 40, Locales: locales, Incomplt: true, Unsub: true})
	s := newSite(t, w, false)
	v := s.signIn(t, viewerToken)
	code, body, _ := v.get("/c/gal/gallery")
	if code != http.StatusOK {
		t.Fatalf("gallery: %d\n%s", code, body)
	}
	for _, l := range consoletest.Langs {
		if !strings.Contains(body, `data-lang="`+l+`"`) {
			t.Errorf("gallery lacks a card for %s", l)
		}
	}
	if !regexp.MustCompile(`(?s)data-lang="pt">.*NOT SENT.*incomplete: pt lacks welcome\.`).MatchString(body) {
		t.Errorf("the incomplete pt card is not flagged with its reason")
	}
	if !regexp.MustCompile(`recipient\(s\) of this campaign are refused: they are sent nothing:<ul class="why"><li>\d+ with locale &#34;pt-BR&#34;: `).MatchString(body) {
		t.Errorf("gallery does not say that pt-BR recipients were refused, and why:\n%s", body)
	}
	ar := body[strings.Index(body, `data-lang="ar"`):]
	ar = ar[:strings.Index(ar, "</section>")]
	for _, want := range []string{`class="subject" dir="rtl"`, `class="text" dir="rtl"`, "List-Unsubscribe</dt><dd dir=\"ltr\">&lt;https://altea.example/unsubscribe?id=", "Altea Community &lt;community@altea.example&gt;", "support@altea.example"} {
		if !strings.Contains(ar, want) {
			t.Errorf("Arabic card lacks %s:\n%s", want, ar)
		}
	}
	ru := body[strings.Index(body, `data-lang="ru"`):]
	ru = ru[:strings.Index(ru, "</section>")]
	for _, want := range []string{"Plural messages at every form of ru", "<code>welcome.posts</code>", "<th>one</th><td class=\"n\">1</td>",
		"<th>few</th><td class=\"n\">2</td>", "<th>many</th><td class=\"n\">5</td>", "<th>other</th>",
		"Ваша 1 публикация перенесена", "Ваши 5 публикаций перенесены"} {
		if !strings.Contains(ru, want) {
			t.Errorf("Russian card lacks %s", want)
		}
	}
	// Recipient 30 is Arabic (locale 30 % 10 = ar) and named "ليلى حداد" (name 30 % 7).
	email := consoletest.Email(30, "ar")
	_, body, _ = v.get("/c/gal/gallery?r=" + url.QueryEscape(strings.ToUpper(email)))
	if !strings.Contains(body, "The message to") || !strings.Contains(body, html.EscapeString("ليلى حداد")+" &lt;"+email) {
		t.Errorf("picking %s does not show their message", email)
	}
	_, body, _ = v.get("/c/gal/gallery?r=nobody@example.com")
	if !strings.Contains(body, "No recipient with id or email") {
		t.Errorf("an unknown recipient is not reported")
	}
	code, frame, _ := v.get("/c/gal/gallery/ar/html?r=" + url.QueryEscape(email))
	if code != http.StatusOK || !strings.Contains(frame, `dir="rtl"`) || !strings.Contains(frame, "ليلى حداد") {
		t.Errorf("Arabic frame for %s: %d, want the RTL HTML with the name", email, code)
	}
	code, eml, h := v.get("/c/gal/gallery/de/eml")
	if code != http.StatusOK || h.Get("Content-Type") != "message/rfc822" || !regexp.MustCompile(`List-Unsubscribe:\s+<https://altea\.example/unsubscribe\?id=`).MatchString(eml) {
		t.Errorf("de .eml: %d %s\n%s", code, h.Get("Content-Type"), eml)
	}
	if code, _, _ := v.get("/c/gal/gallery/pt/html"); code != http.StatusNotFound {
		t.Errorf("the incomplete pt HTML: %d, want 404", code)
	}
}

// TestRecipientsAndCSV filters recipients by outcome and language and
// downloads them as CSV.
func TestRecipientsAndCSV(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "rcp", N: 27, Locales: append(append([]string(nil), consoletest.Langs...), "rm")})
	s := newSite(t, w, false)
	v := s.signIn(t, viewerToken)
	code, body, _ := v.get("/c/rcp/recipients?outcome=refused")
	if code != http.StatusOK || !strings.Contains(body, "not-covered: no catalog for rm") {
		t.Fatalf("refused recipients: %d, want the refusal reason\n%s", code, body)
	}
	code, body, h := v.get("/c/rcp/recipients?format=csv&lang=de")
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %s", code, h.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+3 || rows[0][2] != "email" {
		t.Fatalf("CSV of de recipients: %d rows, want header + 3:\n%s", len(rows), body)
	}
	for _, r := range rows[1:] {
		if r[4] != "de" || r[5] != "pending" {
			t.Errorf("row %v, want lang de, pending", r)
		}
	}
}

// TestLiveEvents: the live stream sends the campaign's fragment, and again
// when the state changes.
func TestLiveEvents(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "live", N: 9})
	s := newSite(t, w, false)
	v := s.signIn(t, viewerToken)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", s.URL+"/c/live/live", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := v.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev strings.Builder
		for sc.Scan() {
			line := sc.Text()
			if line == "" && ev.Len() > 0 {
				events <- ev.String()
				ev.Reset()
			}
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				ev.WriteString(d + "\n")
			}
		}
		close(events)
	}()
	next := func() string {
		t.Helper()
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatal("the stream ended")
			}
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10 s")
		}
		return ""
	}
	if e := next(); !strings.Contains(e, `data-state="running"`) {
		t.Fatalf("first event:\n%s", e)
	}
	if _, err := w.Store.Pause(t.Context(), "live", store.Actor{Who: "t"}, "test"); err != nil {
		t.Fatal(err)
	}
	for {
		if e := next(); strings.Contains(e, `data-state="paused"`) {
			break
		}
	}
}

// TestUsers: the console never runs open; names and tokens are one per
// person (a token shared by a viewer and an operator would make the role
// depend on chance).
func TestUsers(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	_, err := console.New(console.Config{Store: w.Store, Compose: compose})
	if !errors.Is(err, console.ErrNoUsers) {
		t.Fatalf("New without users: %v, want ErrNoUsers", err)
	}
	parse := func(s string, r console.Role) []console.User {
		u, err := console.ParseTokens(s, "t", r)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	for _, tt := range []struct {
		name  string
		users []console.User
		want  string
	}{
		{"same name", append(parse("alice token-aaaaaaaaaaaaaaaa", console.RoleViewer), parse("alice token-bbbbbbbbbbbbbbbb", console.RoleOperator)...), `the name "alice" is given twice`},
		{"same token", append(parse("quinn token-aaaaaaaaaaaaaaaa", console.RoleViewer), parse("alice token-aaaaaaaaaaaaaaaa", console.RoleOperator)...), "token is also someone else's"},
	} {
		_, err := console.New(console.Config{Store: w.Store, Compose: compose, Users: tt.users})
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "token-a") {
			t.Errorf("%s: %v, want %q without the token", tt.name, err, tt.want)
		}
	}
}

// TestActionNotAcknowledged: an action the Redis master took but no replica
// acknowledged says so (it holds now, a failover could undo it) and what
// to check, instead of the store's bare error.
func TestActionNotAcknowledged(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	if w.Redis.Embedded {
		t.Skip("the embedded Redis has no WAIT; CI runs this on redis-server")
	}
	w.Stage(t, consoletest.Spec{Name: "acks", N: 6})
	w.Store = store.NewWithConfig(w.Redis.Client(), store.Config{ReplicaAcks: 1, AckTimeout: 20 * time.Millisecond, Env: consoletest.EnvName})
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	code, body := op.post("/c/acks/pause", url.Values{"csrf": {op.csrf("/c/acks")}, "reason": {"bounces"}})
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "reached the Redis master") || !strings.Contains(body, "0 of the 1 replicas") {
		t.Fatalf("pause not acknowledged: %d, want 503 saying it holds on the master\n%s", code, body)
	}
	if st, err := w.Store.Status(t.Context(), "acks"); err != nil || st.State != store.StatePaused {
		t.Fatalf("state after the pause: %v %v, want paused on the master", st, err)
	}
}

// TestActionOnAReplica: a button pressed while the console's Redis is a
// replica (a failover in progress) says that Redis refused it, that it may
// not have taken effect and what to do, not that Redis did not answer.
func TestActionOnAReplica(t *testing.T) {
	t.Parallel()
	r, w, s := siteOfItsOwn(t, "replica")
	op := s.signIn(t, operatorToken)
	csrf := op.csrf("/c/replica")
	host, port, _ := net.SplitHostPort(freeport.Closed(t))
	if err := r.Client().Do(t.Context(), "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	code, body := op.post("/c/replica/pause", url.Values{"csrf": {csrf}, "reason": {"bounces"}})
	body = html.UnescapeString(body)
	for _, want := range []string{"Redis refused the pause", "READONLY", "may not have taken effect", "During a failover this lasts a few seconds: try again"} {
		if code != http.StatusServiceUnavailable || !strings.Contains(body, want) {
			t.Errorf("pause on a replica: %d, want 503 with %q\n%s", code, want, body)
		}
	}
	if st, err := w.Store.Status(t.Context(), "replica"); err != nil || st.State == store.StatePaused {
		t.Errorf("state after the refused pause: %v %v, want it unchanged", st.State, err)
	}
}

// TestCampaignPageSaysRedisLostChunks: once Redis has lost a chunk of a
// campaign (part of its state: those recipients' rows are gone), its page
// says so above the progress, as `tidings status` does (statusview.Lost),
// with status's advice naming the campaign and the environment: where who
// was sent is recorded, and the recovery to run. Before, it says nothing
// of it.
func TestCampaignPageSaysRedisLostChunks(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "lostp", N: 6})
	op := newSite(t, w, false).signIn(t, operatorToken)
	if _, page, _ := op.get("/c/lostp"); strings.Contains(page, `id="lost-chunks"`) || strings.Contains(page, "Redis lost") {
		t.Fatalf("the page of a campaign with every chunk says Redis lost some:\n%s", page)
	}
	loseChunk0(t, w, "lostp")
	_, page, _ := op.get("/c/lostp")
	page = html.UnescapeString(page)
	banner := strings.Index(page, `<div class="banner bad" id="lost-chunks" role="alert">`)
	if banner < 0 || banner > strings.Index(page, `<progress class="big"`) {
		t.Fatalf("no lost-chunks banner above the progress bar:\n%s", page)
	}
	for _, want := range []string{
		"Redis lost chunk(s) [0] of this campaign (part of its state): a report read from Redis lacks their recipients' rows",
		"tidings report lostp --journal JOURNAL_DIR",
		`tidings cancel lostp --env ` + consoletest.EnvName + ` --reason "state loss"`,
		"tidings send CAMPAIGN-FILE --env " + consoletest.EnvName + " --resume-existing --exclude-delivered JOURNAL_DIR",
	} {
		if !strings.Contains(page[banner:], want) {
			t.Errorf("the lost-chunks banner does not say %q:\n%s", want, page[banner:])
		}
	}
}

// TestCampaignsListFlagsRedisLostChunks: once Redis has lost a chunk of a
// campaign, the campaigns page flags it in its row, in the words of the
// NOTE of `tidings status --env ENV` (statusview.ListNote), linking to the
// campaign's page (whose banner says what to run), and lists it among those
// that need a human; a campaign with every chunk is not flagged, nor is the
// lost one before the loss.
func TestCampaignsListFlagsRedisLostChunks(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "zlost", N: 6})
	w.Stage(t, consoletest.Spec{Name: "whole", N: 6})
	op := newSite(t, w, false).signIn(t, operatorToken)
	row := func(page, c string) string {
		t.Helper()
		r := regexp.MustCompile(`(?s)<tr[^>]*>\s*<td data-label="Campaign"><a href="/c/` + c + `">` + c + `</a></td>.*?</tr>`).FindString(page)
		if r == "" {
			t.Fatalf("the campaigns page does not list %s:\n%s", c, page)
		}
		return html.UnescapeString(r)
	}
	_, page, _ := op.get("/")
	if r := row(page, "zlost"); strings.Contains(r, "Redis lost") {
		t.Errorf("the campaigns page flags a campaign with every chunk as lost:\n%s", r)
	}
	loseChunk0(t, w, "zlost")
	const note = "Redis lost chunk(s) [0] (part of its state)"
	cliList, _ := w.CLI(t, "status", "--env", consoletest.EnvName)
	if !strings.Contains(cliList, note) {
		t.Fatalf("`tidings status --env` does not note %q (the wording the console shares):\n%s", note, cliList)
	}
	_, page, _ = op.get("/")
	lost := row(page, "zlost")
	if !strings.Contains(lost, `<a class="lost" href="/c/zlost">`+note+`: its page says what to run</a>`) {
		t.Errorf("the campaigns page does not flag zlost's lost chunk as `tidings status` does (%q), linking to its page:\n%s\n--- tidings status:\n%s", note, lost, cliList)
	}
	if !strings.HasPrefix(lost, `<tr class="needs" `) {
		t.Errorf("the row of a campaign whose chunk Redis lost is not marked as needing a human:\n%s", lost)
	}
	if strings.Index(page, `href="/c/zlost"`) > strings.Index(page, `href="/c/whole"`) {
		t.Errorf("the campaign whose chunk Redis lost is not listed before the one that needs nothing (listed by name otherwise):\n%s", page)
	}
	if r := row(page, "whole"); strings.Contains(r, "Redis lost") {
		t.Errorf("the campaigns page flags a campaign with every chunk as lost:\n%s", r)
	}
}

// TestCancelWithALostChunk: a cancel pressed on a campaign whose chunk
// Redis lost says how many it cancelled (as the CLI prints), which chunks
// were lost, that the cancel applied to every other recipient, and where
// who was sent is recorded; the console logs it.
func TestCancelWithALostChunk(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "lostc", N: 6})
	loseChunk0(t, w, "lostc")
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	code, body := op.post("/c/lostc/cancel", url.Values{"csrf": {op.csrf("/c/lostc")}, "stage": {op.cancelStage("/c/lostc", "lostc")}, "reason": {"wrong file"}, "confirm": {"lostc"}})
	body = html.UnescapeString(body)
	for _, want := range []string{"unsent recipients recorded as cancelled. Redis lost part of this campaign's state (chunks [0])", "the cancel was applied to every other recipient", "tidings report lostc --journal"} {
		if code != http.StatusConflict || !strings.Contains(body, want) {
			t.Errorf("cancel with a lost chunk: %d, want 409 with %q\n%s", code, want, body)
		}
	}
	if !strings.Contains(s.log(), "Redis lost chunk(s) [0]") {
		t.Errorf("the lost chunk is not in the console's log (lost data must leave a trace):\n%s", s.log())
	}
}

// TestRetryOfAPausedCampaign: Retry on a paused campaign says that the
// re-queued failures go out only once it is resumed.
func TestRetryOfAPausedCampaign(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	ctx, l := t.Context(), releasedLedger(t, w, "rpaused")
	id := consoletest.Email(0, "en")
	p := store.Policy{MaxAttempts: 1} // failed for good after one temporary failure
	if _, err := l.Step(ctx, nil, []store.Claim{{ID: id, Lang: "en", Token: "t1"}}, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Step(ctx, []store.Record{{ID: id, Lang: "en", Kind: store.KindTemp, Code: "451", Response: "later"}}, nil, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	if code, body := op.post("/c/rpaused/pause", url.Values{"csrf": {op.csrf("/c/rpaused")}, "reason": {"451s"}}); code != http.StatusOK {
		t.Fatalf("pause: %d\n%s", code, body)
	}
	code, body := op.post("/c/rpaused/retry", url.Values{"csrf": {op.csrf("/c/rpaused")}})
	if want := "Re-queued 1 temporary failures. The campaign is paused: they go out once it is resumed."; code != http.StatusOK || !strings.Contains(html.UnescapeString(body), want) {
		t.Errorf("retry of a paused campaign: %d, want 200 with %q\n%s", code, want, body)
	}
}

// TestRetryPermanentFailures: the Retry of permanent failures re-queues
// those failed for good by an SMTP 5xx reply (with the code asked, when
// one is), says how many, and refuses a code that is none; the plain
// Retry leaves them alone.
func TestRetryPermanentFailures(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	ctx := t.Context()
	a, b := consoletest.Email(0, "en"), consoletest.Email(1, "en")
	claimAndRecord(t, releasedLedger(t, w, "rperm"), store.Policy{MaxAttempts: 3},
		store.Record{ID: a, Lang: "en", Kind: store.KindFailed, Code: "554 5.7.1", Response: "Relay access denied"},
		store.Record{ID: b, Lang: "en", Kind: store.KindFailed, Code: "550 5.1.1", Response: "User unknown"})
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	if code, body := op.post("/c/rperm/pause", url.Values{"csrf": {op.csrf("/c/rperm")}, "reason": {"relay"}}); code != http.StatusOK {
		t.Fatalf("pause: %d\n%s", code, body)
	}
	for _, tc := range []struct {
		form url.Values
		code int
		want string
	}{
		// The plain Retry says, as `tidings retry` does, why the two are
		// still failed and what re-queues them.
		{url.Values{}, http.StatusOK, "Re-queued 0 temporary failures. " + nextstep.StillFailed(2, "rperm", consoletest.EnvName)},
		{url.Values{"permanent": {"1"}, "code": {"5.7"}}, http.StatusBadRequest, "enhanced status code (5.7.1), as the report's code column shows them. Nothing was re-queued."},
		{url.Values{"permanent": {"1"}, "code": {" 5.7.1 "}}, http.StatusOK, "Re-queued 1 temporary and permanent failures with reply code 5.7.1. The campaign is paused: they go out once it is resumed."},
	} {
		tc.form.Set("csrf", op.csrf("/c/rperm"))
		if code, body := op.post("/c/rperm/retry", tc.form); code != tc.code || !strings.Contains(html.UnescapeString(body), tc.want) {
			t.Errorf("retry %v: %d, want %d with %q\n%s", tc.form, code, tc.code, tc.want, body)
		}
	}
	es, err := w.Store.Entries(ctx, "rperm", []string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if !es[0].Deferred() || es[1].State != store.OutcomeFailed {
		t.Errorf("entries %+v, want the relay's refusal re-queued and the unknown user still failed", es)
	}
}

// releasedLedger stages campaign c with two English recipients, releases
// its batch and returns its ledger.
func releasedLedger(t *testing.T, w *consoletest.World, c string) *store.Ledger {
	t.Helper()
	w.Stage(t, consoletest.Spec{Name: c, N: 2, Locales: []string{"en"}})
	ctl, err := w.Store.Control(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := w.Store.Tick(t.Context(), c, store.TickParams{Stage: ctl.Stage}, time.Now()); err != nil || res.Code != store.TickReleased {
		t.Fatalf("tick: %+v %v", res, err)
	}
	return w.Store.Ledger(c, ctl.Stage)
}

// TestAnotherEnvironmentsCampaign: the console lists its environment's
// campaigns only, and a button pressed on another environment's campaign
// (reached by its address) changes nothing and says whose it is.
func TestAnotherEnvironmentsCampaign(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	ctx := t.Context()
	sg, err := w.Store.NewStager(ctx, store.StageConfig{Campaign: "theirs", Definition: []byte(`{}`), Hash: "h", Env: "elsewhere", Who: "alice", ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	if err := sg.Add(ctx, store.Recipient{Line: 2, ID: "r0", Email: "r0@x.example", Lang: "en"}, 0, false); err != nil {
		t.Fatal(err)
	}
	if _, err := sg.Finish(ctx, true); err != nil {
		t.Fatal(err)
	}
	w.Stage(t, consoletest.Spec{Name: "ours", N: 1, Locales: []string{"en"}})
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	if _, body, _ := op.get("/"); strings.Contains(body, "theirs") || !strings.Contains(body, "ours") {
		t.Errorf("the campaigns page: want this environment's campaign, not another's\n%s", body)
	}
	code, body := op.post("/c/theirs/pause", url.Values{"csrf": {op.csrf("/")}, "reason": {"mine?"}})
	if want := "belongs to environment elsewhere"; code != http.StatusConflict || !strings.Contains(html.UnescapeString(body), want) {
		t.Errorf("pause of another environment's campaign: %d, want 409 with %q\n%s", code, want, body)
	}
	if ctl, err := w.Store.Control(ctx, "theirs"); err != nil || ctl.State != store.StateRunning {
		t.Errorf("their campaign after the refused pause: %+v %v, want running", ctl, err)
	}
	// Nor is it shown: its page says whose it is.
	if code, body, _ := op.get("/c/theirs"); code != http.StatusConflict || !strings.Contains(html.UnescapeString(body), "belongs to environment elsewhere") {
		t.Errorf("the page of another environment's campaign: %d, want 409 saying whose it is\n%s", code, body)
	}
}

// TestStateLossPauseOffersOnlyCancel: a campaign a worker paused because
// Redis forgot deliveries cannot be resumed (that would send them again):
// the page offers Cancel alone, before and after a live update, and says
// what to do instead.
func TestStateLossPauseOffersOnlyCancel(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "lost", N: 9})
	pauseForStateLoss(t, w, "lost")
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	_, page, _ := op.get("/c/lost")
	offered := func(action string) bool {
		t.Helper()
		m := regexp.MustCompile(`<form class="action" method="post" action="/c/lost/` + action + `" data-when="([^"]*)"( hidden)?>`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no %s form on the page", action)
		}
		return m[2] == ""
	}
	for _, a := range []string{"resume", "retry", "pause", "approve"} {
		if offered(a) {
			t.Errorf("a state-loss pause offers %s", a)
		}
	}
	if strings.Contains(page, `<details class="cancel" data-when="running awaiting-approval paused staged state-loss staging-interrupted paused-staging-interrupted" hidden>`) ||
		!strings.Contains(page, `data-when="running awaiting-approval paused staged state-loss staging-interrupted paused-staging-interrupted"`) {
		t.Error("a state-loss pause does not offer Cancel")
	}
	if !strings.Contains(page, `data-state="state-loss"`) || !strings.Contains(html.UnescapeString(page), "Do not resume") {
		t.Errorf("the live part neither marks the state loss (the script hides Resume by it) nor says not to resume:\n%s", page)
	}
	code, body := op.post("/c/lost/resume", url.Values{"csrf": {op.csrf("/c/lost")}})
	if code != http.StatusConflict {
		t.Errorf("resume of a state-loss pause: %d, want 409\n%s", code, body)
	}
}

// TestLongNamesFitAPhone: a campaign name of 63 characters without a
// break, and a recipient with a long name, wrap on a phone (390 px) rather
// than widening the page, which a phone then shows shrunk or clipped: the
// campaigns page, the campaign page (its Cancel form names the campaign),
// the gallery with that recipient picked, and the recipients page.
func TestLongNamesFitAPhone(t *testing.T) {
	t.Parallel()
	const name = "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0"
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: name, N: 3, Locales: []string{"en"}, Names: []string{"Ὀδυσσεύς " + strings.Repeat("Πολύτροπος", 12)}})
	s := newSite(t, w, true)
	ctx := browser(t)
	browserSignIn(t, ctx, s.URL, operatorToken)
	do(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1), chromedp.EmulateMobile))
	for _, path := range []string{"/", "/c/" + name, "/c/" + name + "/gallery?r=" + url.QueryEscape(consoletest.Email(0, "en")), "/c/" + name + "/recipients"} {
		do(t, ctx, "open "+path, chromedp.Navigate(s.URL+path), chromedp.WaitVisible(`footer`))
		if got := eval[string](t, ctx, `(function () {
			var wide = [];
			document.querySelectorAll('body *').forEach(function (e) {
				if (e.children.length === 0 && !e.closest('.frame') && e.getBoundingClientRect().right > 391) wide.push(e.tagName + ' ' + (e.textContent || '').slice(0, 30));
			});
			return document.documentElement.scrollWidth > 390 ? document.documentElement.scrollWidth + ' px: ' + wide.join(' | ') : '';
		})()`); got != "" {
			t.Errorf("%s is wider than the phone's 390 px: %s", path, got)
		}
	}
}

// TestLivePageSaysSignedOut: when the session ends while a campaign page
// is open, the live stream is refused (401) and the browser does not try
// again by itself; the badge must then say the page is no longer live and
// why, not "reconnecting…" over numbers that no longer change.
func TestLivePageSaysSignedOut(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "watched", N: 9})
	var later atomic.Int64 // how far the console's clock is ahead
	srv, err := console.New(console.Config{
		Store: w.Store, Env: consoletest.EnvName, Users: users(t), Compose: compose, LiveInterval: 50 * time.Millisecond,
		Clock: func() time.Time { return time.Now().Add(time.Duration(later.Load())) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	ctx := browser(t)
	browserSignIn(t, ctx, ts.URL, operatorToken)
	do(t, ctx, "open the campaign", chromedp.Navigate(ts.URL+"/c/watched"), chromedp.WaitVisible(`#state`))
	poll(t, ctx, "the live stream", `document.getElementById('livestate').textContent === 'live'`, 10*time.Second)

	later.Store(int64(13 * time.Hour)) // past the 12-hour session
	ts.CloseClientConnections()        // the stream reconnects, and is refused
	poll(t, ctx, "the badge to say the session ended", `document.getElementById('livestate').textContent.indexOf('signed out') >= 0`, 20*time.Second)
}

// TestLivePageWhenRedisLosesTheCampaign: a campaign page is open when
// Redis loses the campaign (flushed, a new empty instance). Redis answers,
// so the live part must not say that Redis cannot be read: it says the
// campaign is not there any more and that Redis may have lost it.
func TestLivePageWhenRedisLosesTheCampaign(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "vanishing", N: 9})
	s := newSite(t, w, false)
	v := s.signIn(t, viewerToken)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", s.URL+"/c/vanishing/live", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := v.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	next := func() string { // the next event's data; the test's deadline bounds it
		t.Helper()
		var ev strings.Builder
		for sc.Scan() {
			if sc.Text() == "" && ev.Len() > 0 {
				return html.UnescapeString(ev.String())
			}
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				ev.WriteString(d + "\n")
			}
		}
		t.Fatalf("the stream ended: %v", sc.Err())
		return ""
	}
	if e := next(); !strings.Contains(e, `data-state="running"`) {
		t.Fatalf("first event:\n%s", e)
	}
	if err := w.Redis.Client().FlushDB(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	// A status read that overlapped the flush may send one event of what
	// was left half-way (a staging interrupted); the next says it is gone.
	// None of them may say that Redis cannot be read.
	for i := 0; ; i++ {
		e := next()
		if strings.Contains(e, "Cannot read Redis") {
			t.Fatalf("the live part after Redis lost the campaign says Redis cannot be read:\n%s", e)
		}
		if strings.Contains(e, `There is no campaign "vanishing"`) {
			if !strings.Contains(e, "Redis lost it") {
				t.Errorf("the live part after Redis lost the campaign:\n%s\nwant it to say the campaign is gone (Redis lost it)", e)
			}
			return
		}
		if i == 3 {
			t.Fatalf("after %d events the live part still does not say the campaign is gone:\n%s", i+1, e)
		}
	}
}

// TestGalleryPickSaysWhyRefused: QA types a refused recipient's address in
// "See one recipient's message". On a staged campaign the refused rows are
// not among the staged recipients, and on a campaign file the refusal has
// its own reason: the answer names the reason (incomplete pt, an empty
// locale), never "No recipient ... in this campaign".
func TestGalleryPickSaysWhyRefused(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	// Recipient 1 is pt-BR (incomplete catalog), recipient 2 has no locale.
	spec := consoletest.Spec{Name: "picky", N: 3, Locales: []string{"en", "pt-BR", ""}, Incomplt: true}
	w.Stage(t, spec)
	s := newSite(t, w, false)
	v := s.signIn(t, viewerToken)
	check := func(where, path string, wants ...string) {
		t.Helper()
		code, body, _ := v.get(path)
		body = html.UnescapeString(body)
		if code != http.StatusOK || strings.Contains(body, "No recipient with id or email") {
			t.Errorf("%s: %d, says the recipient is not in the campaign", where, code)
		}
		for _, want := range wants {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the page lacks %q", where, want)
			}
		}
	}
	pt, empty := url.QueryEscape(consoletest.Email(1, "pt-BR")), url.QueryEscape(consoletest.Email(2, ""))
	check("staged, pt-BR", "/c/picky/gallery?r="+pt, `(line 3, locale "pt-BR") was not staged: refused, incomplete: pt lacks welcome.`)
	check("staged, no locale", "/c/picky/gallery?r="+empty, `(line 4, locale "") was not staged: refused, empty locale`)

	file := w.WriteCampaign(t, consoletest.Spec{Name: "picky-file", N: 3, Locales: spec.Locales, Incomplt: true})
	b, err := bundle.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := console.New(console.Config{Users: users(t), Compose: compose,
		File: &console.CampaignFile{Campaign: b.Campaign, Engine: b.Engine, Recipients: b.Recipients, Path: file}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	v = (&site{Server: ts, w: w}).signIn(t, viewerToken)
	check("file, pt-BR", "/file/gallery?r="+pt, `(line 3, locale "pt-BR") is refused: incomplete: pt lacks welcome.`)
	check("file, no locale", "/file/gallery?r="+empty, `(line 4, locale "") is refused: empty locale`)
}

// TestRecipientsPageCountsFromOne: the recipients page numbers matches
// from 1, so that "from #6" is the sixth match and its first row.
func TestRecipientsPageCountsFromOne(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "numbered", N: 9, Locales: []string{"en"}})
	s := newSite(t, w, false)
	v := s.signIn(t, viewerToken)
	for _, tc := range []struct{ offset, want, first string }{
		{"0", "9 matches; showing 9 from #1.", consoletest.Email(0, "en")},
		{"5", "9 matches; showing 4 from #6.", consoletest.Email(5, "en")},
	} {
		_, body, _ := v.get("/c/numbered/recipients?offset=" + tc.offset)
		if !strings.Contains(body, tc.want) {
			t.Errorf("offset %s: want %q in\n%s", tc.offset, tc.want, body)
		}
		if i := strings.Index(body, `<td data-label="Email"`); i < 0 || !strings.Contains(body[i:i+200], tc.first) {
			t.Errorf("offset %s: the first row is not %s", tc.offset, tc.first)
		}
	}
}

// TestStallSaysWhatToCheck: a running campaign that no worker sends says,
// on the campaigns page and on its own, what to check, as tidings status
// does (statusview.StallAdvice), not only for how long nothing happened.
func TestStallSaysWhatToCheck(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "stalled", N: 9}) // running; no worker runs
	stalledFor(t, w, "stalled", 5*time.Minute)          // staged five minutes ago, in Redis's clock
	s := newSite(t, w, false)
	v := s.signIn(t, viewerToken)
	const advice = ": check that a worker of environment " + consoletest.EnvName + " runs and reaches Redis and SMTP (its log says why not)."
	for _, path := range []string{"/", "/c/stalled"} {
		_, body, _ := v.get(path)
		body = html.UnescapeString(body)
		if !strings.Contains(body, "No progress for ") || !strings.Contains(body, advice) {
			t.Errorf("%s: want \"No progress for ...%s\"\n%s", path, advice, body)
		}
	}
}

// firstLiveEvent opens the live stream at path as client c and returns
// its first event's data, unescaped.
func firstLiveEvent(t *testing.T, c *client, path string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", c.base+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var ev strings.Builder
	for sc.Scan() {
		if sc.Text() == "" && ev.Len() > 0 {
			return html.UnescapeString(ev.String())
		}
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			ev.WriteString(d + "\n")
		}
	}
	t.Fatalf("%s: the stream ended: %v", path, sc.Err())
	return ""
}

// TestCanaryAwaitingApprovalToAViewer: a campaign whose canary awaits
// approval needs a human; a viewer (QA), who has no Approve button, is
// told who approves and how, on the campaigns page, the campaign's page
// and their live updates; an operator keeps the short "check it, then
// approve" beside the button.
func TestCanaryAwaitingApprovalToAViewer(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "canaried", N: 18, Canary: 1, Approve: true})
	w.StartWorker(t)
	w.WaitState(t, "canaried", store.StateAwaitingApproval, time.Minute)
	s := newSite(t, w, false)
	const (
		operatorSays = "Canary sent: check it, then approve."
		viewerSays   = "Canary sent: check every language's messages; an operator approves it (tidings approve canaried --env " + consoletest.EnvName + ", or the console signed in as an operator)."
	)
	for _, tt := range []struct {
		role, token, says, not string
	}{
		{"viewer", viewerToken, viewerSays, operatorSays},
		{"operator", operatorToken, operatorSays, viewerSays},
	} {
		c := s.signIn(t, tt.token)
		pages := map[string]string{}
		for _, path := range []string{"/", "/c/canaried"} {
			_, body, _ := c.get(path)
			pages[path] = html.UnescapeString(body)
		}
		for _, path := range []string{"/live", "/c/canaried/live"} {
			pages[path] = firstLiveEvent(t, c, path)
		}
		for path, body := range pages {
			if !strings.Contains(body, tt.says) || strings.Contains(body, tt.not) {
				t.Errorf("%s as %s: want %q, not %q\n%s", path, tt.role, tt.says, tt.not, body)
			}
		}
	}
}

// TestLiveBadgeWhenRedisCannotBeRead: a campaign page is open when the
// console can no longer read Redis (here Redis starts to require a
// password). The stream goes on and the live part says "Cannot read
// Redis"; the badge must then not stay a green "live" over it, and say
// "live" again once Redis answers.
func TestLiveBadgeWhenRedisCannotBeRead(t *testing.T) {
	t.Parallel()
	r := redistest.StartServer(t, "../redistest/testdata/plain.conf")
	w := consoletest.NewOn(t, r, nil)
	w.Stage(t, consoletest.Spec{Name: "unread", N: 9})
	s := newSite(t, w, false)
	ctx := browser(t)
	browserSignIn(t, ctx, s.URL, viewerToken)
	do(t, ctx, "open the campaign", chromedp.Navigate(s.URL+"/c/unread"), chromedp.WaitVisible(`#state`))
	badge := `document.getElementById('livestate')`
	poll(t, ctx, "the live stream", badge+`.textContent === 'live'`, 10*time.Second)

	const password = "now-a-password-0123456789"
	if err := r.Client().ConfigSet(t.Context(), "requirepass", password).Err(); err != nil {
		t.Fatal(err)
	}
	// Every connection goes; the console's new ones are refused (NOAUTH).
	_ = r.Client().Do(t.Context(), "CLIENT", "KILL", "TYPE", "normal").Err()
	poll(t, ctx, "the live part to say Redis cannot be read", `document.getElementById('live').textContent.indexOf('Cannot read Redis') >= 0`, 20*time.Second)
	poll(t, ctx, "the badge to say the page is not live", badge+`.textContent === 'not live: cannot read Redis; retrying' && `+badge+`.classList.contains('off')`, 5*time.Second)

	admin := redis.NewClient(&redis.Options{Addr: r.Addr, Password: password})
	defer admin.Close()
	if err := admin.ConfigSet(t.Context(), "requirepass", "").Err(); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the badge to say live again", badge+`.textContent === 'live' && `+badge+`.classList.contains('on') && document.getElementById('state')`, 20*time.Second)
}

// TestProductionNamedOnce: the bar at the top names a production
// environment with PRODUCTION before its name, once: an environment
// named "production" reads PRODUCTION (the bar is upper-case), not
// "PRODUCTION · PRODUCTION".
func TestProductionNamedOnce(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	bar := regexp.MustCompile(`<span class="envname" title="environment">([^<]*)</span>`)
	for _, tt := range []struct {
		env        string
		production bool
		want       string
	}{
		{"production", true, "production"},
		{"Production", true, "Production"},
		{"prod", true, "PRODUCTION · prod"},
		{"staging", false, "staging"},
	} {
		s := newSiteWith(t, w, func(c *console.Config) { c.Env, c.Production = tt.env, tt.production })
		_, body, _ := s.anonymous(t).get("/login")
		m := bar.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("%s: no environment bar on the sign-in page\n%s", tt.env, body)
		}
		if got := html.UnescapeString(m[1]); got != tt.want {
			t.Errorf("environment %s (production %v): the bar reads %q, want %q", tt.env, tt.production, got, tt.want)
		}
	}
}

// TestStaleSignInLink: a sign-in link printed by an earlier run of the
// console (its token gone with that run) says that such links are valid
// only while the console that printed them runs, and what to use instead;
// a token typed wrong is told it is not recognised, without talk of links.
func TestStaleSignInLink(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	s := newSite(t, w, false)
	ctx := browser(t)
	alert := `((document.querySelector('main .alert') || {}).textContent || '')`
	// The script submits the form by itself: read the page once it settled.
	refusal := func() string {
		t.Helper()
		var got string
		wait.For(t, 20*time.Second, "the refusal", func() bool {
			sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			v, err := chromedp.Run(sctx, chromedp.Evaluate[string](`document.readyState === 'complete' ? `+alert+` : ''`))
			got = v
			return err == nil && v != ""
		})
		return got
	}
	const link = "sign-in links are valid only while the console that printed them runs. Use the link the running console printed, or sign in with your viewer or operator token."

	do(t, ctx, "open a link of an earlier run", chromedp.Navigate(s.URL+"/login#token=0123456789abcdef0123456789abcdef0123456789abcdef"))
	if got := refusal(); !strings.Contains(got, "This sign-in link is not valid: "+link) {
		t.Errorf("a stale sign-in link: the page says %q, want it to say %q", got, link)
	}

	do(t, ctx, "type a wrong token", chromedp.Navigate(s.URL+"/login"), chromedp.WaitVisible(`input[name=token]`),
		chromedp.SetValue(`input[name=token]`, "not-a-token-at-all-1234"), chromedp.Click(`form.login button`))
	if got := refusal(); got != "That token is not recognised." {
		t.Errorf("a wrong token typed: the page says %q, want \"That token is not recognised.\"", got)
	}
	if !strings.Contains(s.log(), "via=link") || !strings.Contains(s.log(), "via=form") {
		t.Errorf("the log does not say how each unknown token came:\n%s", s.log())
	}
}

// TestPastedSignInLink: the sign-in link the console prints
// (http://HOST/login#token=TOKEN), pasted whole into the token box, signs
// in as its token does; a link with a token of no user is told that
// sign-in links are valid only while their console runs; any other web
// address (a query instead of the fragment, another path, no token) is
// refused with what to paste instead, and a wrong token is still "not
// recognised". No token reaches the log.
func TestPastedSignInLink(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	s := newSite(t, w, false)
	const (
		notRecognised = "That token is not recognised."
		staleLink     = "This sign-in link is not valid: sign-in links are valid only while the console that printed them runs."
		notALink      = "That is a web address, not a console token or sign-in link: paste the sign-in link the console printed (it ends in /login#token= and the token) or the token alone."
		stale         = "0123456789abcdef0123456789abcdef0123456789abcdef"
	)
	tests := []struct {
		name, pasted string
		who          string // signed in as; "" when refused
		problem      string // the refusal, when refused
	}{
		{"the link as printed", s.URL + "/login#token=" + viewerToken, "quinn", ""},
		{"the link with the spaces a copy takes along", "  " + s.URL + "/login#token=" + operatorToken + "\n", "alice", ""},
		{"the link over https, as behind a proxy", "https://console.example/login#token=" + operatorToken, "alice", ""},
		{"the token alone", viewerToken, "quinn", ""},
		{"a link of a console no longer running", s.URL + "/login#token=" + stale, "", staleLink},
		{"the token in a query", s.URL + "/login?token=" + viewerToken, "", notALink},
		{"a query and the fragment", s.URL + "/login?next=/#token=" + viewerToken, "", notALink},
		{"another page of the console", s.URL + "/c/x#token=" + viewerToken, "", notALink},
		{"the link without its token", s.URL + "/login#token=", "", notALink},
		{"the address bar once the link was opened", s.URL + "/login", "", notALink},
		{"a user in the address", "http://" + viewerToken + "@console.example/login#token=" + viewerToken, "", notALink},
		{"another scheme", "ftp://console.example/login#token=" + viewerToken, "", notALink},
		{"a wrong token", "not-a-token-at-all-1234", "", notRecognised},
	}
	for _, tt := range tests {
		checkPastedSignIn(t, s, tt.name, tt.pasted, tt.who, tt.problem)
	}
	for _, secret := range []string{viewerToken, operatorToken, stale} {
		if strings.Contains(s.log(), secret) {
			t.Errorf("the log prints a token:\n%s", s.log())
		}
	}
	if !strings.Contains(s.log(), "via=pasted-link") {
		t.Errorf("the log does not say a stale link was pasted:\n%s", s.log())
	}

	// In a browser: paste the link into the box and press the button.
	ctx := browser(t)
	browserSignIn(t, ctx, s.URL, s.URL+"/login#token="+operatorToken)
	if who := eval[string](t, ctx, `document.querySelector('.envbar .who').textContent`); !strings.Contains(who, "alice") {
		t.Errorf("signed in by a pasted link as %q, want alice", who)
	}
}

// checkPastedSignIn pastes pasted into a new anonymous client's sign-in
// form of s and checks that it signs in as who, or, when who is "", is
// refused 401 saying problem.
func checkPastedSignIn(t *testing.T, s *site, name, pasted, who, problem string) {
	t.Helper()
	c := s.anonymous(t)
	_, body, _ := c.get("/login")
	m := nonceRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("login page without nonce:\n%s", body)
	}
	resp := c.do("POST", "/login", url.Values{"nonce": {m[1]}, "token": {pasted}, "via": {""}, "next": {"/"}}, false)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if who == "" {
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(html.UnescapeString(page), problem) {
			t.Errorf("%s: %s, want 401 saying %q\n%s", name, resp.Status, problem, page)
		}
		return
	}
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("%s: %s, want a redirect once signed in\n%s", name, resp.Status, page)
		return
	}
	if code, body, _ := c.get("/"); code != http.StatusOK || !strings.Contains(body, who) {
		t.Errorf("%s: the campaigns page is %d without %q: not signed in", name, code, who)
	}
}

// stageRE finds the staging an approve form names.
var stageRE = regexp.MustCompile(`<input type="hidden" name="stage" value="([^"]+)">`)

// loseChunk0 deletes chunk 0 of campaign c, as Redis losing part of its
// state would.
func loseChunk0(t *testing.T, w *consoletest.World, c string) {
	t.Helper()
	if n, err := w.Redis.Client().Del(t.Context(), "tidings:{"+c+"}:chunk:0").Result(); err != nil || n != 1 {
		t.Fatalf("delete chunk 0 of %s: %d, %v", c, n, err)
	}
}
