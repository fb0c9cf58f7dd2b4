// Package console is tidings' web console for QA and on-call: every
// campaign of an environment with its live progress, the on-call actions
// (pause, resume, approve, cancel, retry: the same store operations the CLI
// commands call, recorded with the signed-in person), the gallery of every
// language rendered on demand from the approved snapshot (or, before
// staging, from a campaign file as it is on disk at each request), the
// recipients with their outcomes, and campaign-level Prometheus metrics.
//
// Pages are server-rendered html/template; the assets (one stylesheet, ~100
// lines of plain JavaScript using EventSource for live updates and fetch for
// actions) are embedded. Every page needs a signed-in user (roles viewer and
// operator, tokens from Config.Users); every state change is a POST with a
// CSRF token; responses carry a strict Content-Security-Policy and refuse
// framing. /metrics, /healthz, /favicon.ico (204) and /assets/ are open.
package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/preview"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
)

//go:embed assets templates
var embedded embed.FS

// Composer builds the message a worker sends to one recipient: the
// gallery shows exactly that (From, Reply-To, List-Unsubscribe, subject,
// bodies). worker.NewComposer(camp) implements it; when it also has an
// Err() error method, a non-nil Err is shown on every card instead.
type Composer interface {
	// Link is the recipient's List-Unsubscribe URL: its Web is the body's
	// .Unsubscribe, and Message writes the header from it.
	Link(id, email string) send.Link
	Message(id, email, name string, link send.Link, out render.Rendered, now time.Time) *send.Message
}

// CampaignFile is a campaign not staged yet, whose gallery the console
// shows from its files (tidings console --campaign, tidings preview --serve).
type CampaignFile struct {
	Campaign *campaign.Campaign
	Engine   *render.Engine
	// Recipients opens the campaign's valid recipients, one by one (io.EOF
	// at the end); nil when there is no recipients file. done closes it.
	Recipients func() (next func() (preview.Recipient, error), done func(), err error)
	// Path is the campaign file. Campaign, Engine and Recipients are the
	// files as read at start; the gallery reads them again from Path (a
	// new engine) whenever the campaign file, its template's files or its
	// catalogs change on disk, so that it shows what send would stage.
	Path string
	// Env is the environment whose settings the campaign takes (see
	// bundle.Bundle.UseEnv) when it is read again, and whose allowlist
	// the gallery applies as the plan does; nil: none.
	Env *environment.Environment
	// bundle is the campaign file as read again: the gallery plans its
	// recipients file (bundle.Bundle.Plan), to show each language with a
	// row send sends and to say why a row looked up is not sent.
	bundle *bundle.Bundle
}

// Config configures a Server.
type Config struct {
	// Store is the environment's store; nil serves only the gallery of
	// File.
	Store *store.Store
	// Judge, when set, judges again how many replica acknowledgements the
	// Store's writes wait for (redisconn.Judge) before each action, as a
	// command does when it starts: the console follows a failover.
	Judge func(context.Context) error
	// Environment is the environment's settings, when known: behind
	// Sentinel, a campaign's page names the master the Sentinels report
	// when it refuses the campaign's writes (writehold).
	Environment *environment.Environment
	// Env is the environment's name, shown on every page; Production makes
	// every page unmistakably red.
	Env        string
	Production bool
	// Users may sign in (at least one).
	Users []User
	// File, when set, is a campaign file shown at /file/gallery.
	File *CampaignFile
	// LookupChunks is how many staged chunks the gallery's look-up of a
	// recipient reads at most, their batch (b=) first when given: no
	// index maps a recipient to their chunk, and a look-up of one of a
	// million read every chunk (default 100; the page then says to open
	// them from the recipients page, whose link names their batch).
	LookupChunks int
	// Compose returns the Composer of a campaign (required).
	Compose func(*campaign.Campaign) Composer
	// Samples is template data for languages without a recipient, by
	// language ("" for any).
	Samples map[string]preview.Sample
	// StateDir is where this host records the campaigns it started
	// (environment.StateDir; empty: none): the campaigns page names those
	// Redis has no trace of, and their pages say that Redis lost them, as
	// tidings status does on this host.
	StateDir string
	// JournalDir is this host's delivery journal (environment's
	// journal.dir; empty: none): the campaigns page names the campaigns
	// whose deliveries it holds that Redis has no trace of
	// (launch.Journaled), as tidings status, doctor and the worker's start
	// do on this host.
	JournalDir string
	// Host is recorded in the audit log with each action (default
	// os.Hostname).
	Host string
	// LiveInterval is how often live pages re-read Redis (default 1s).
	LiveInterval time.Duration
	// SessionTTL is how long a sign-in lasts (default 12h).
	SessionTTL time.Duration
	// ServerNames are the host names the console answers to besides
	// localhost (and its subdomains) and IP addresses: a request for any
	// other name (its Host header) is refused with 421, so that a hostile
	// page whose name resolves to the console's address (DNS rebinding)
	// reads nothing. Run adds its public URL's host and, listening on
	// every interface, this machine's name.
	ServerNames []string
	// SignIns limits failed sign-ins (see SignInLimit for its defaults).
	SignIns SignInLimit
	// LiveStreams caps the live pages' streams (see LiveLimit).
	LiveStreams LiveLimit
	// SecureCookies marks cookies Secure (set when served over https).
	SecureCookies bool
	// Logger receives structured logs (default: discard).
	Logger *slog.Logger
	// Clock returns the current time (default time.Now).
	Clock func() time.Time
}

// Server is the console's HTTP handler.
type Server struct {
	cfg     Config
	log     *slog.Logger
	pages   *template.Template
	mux     *http.ServeMux
	reg     *prometheus.Registry
	users   map[string]*User // by name
	engines engineCache
	file    *fileState // Config.File as last read from disk
	colour  string
	// origins refuses a state change (POST) that a browser says comes
	// from another origin (Sec-Fetch-Site, else Origin against Host):
	// even one of the same site, such as another port of localhost,
	// whose pages share the console's cookies.
	origins *http.CrossOriginProtection
	signIns *signInLimit // Config.SignIns and its refusals
	streams *liveStreams // Config.LiveStreams and the streams open
	// bodyWait and idleWait bound how long a client may take to send a
	// request's body and how long a kept-alive connection may wait for
	// its next request (readBody, Serve).
	bodyWait, idleWait time.Duration
}

// New validates cfg and builds the console.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil && cfg.File == nil {
		return nil, errors.New("new console: give Config.Store, Config.File or both")
	}
	if len(cfg.Users) == 0 {
		return nil, ErrNoUsers
	}
	if cfg.Compose == nil {
		return nil, errors.New("new console: Config.Compose is required")
	}
	if cfg.Host == "" {
		cfg.Host, _ = os.Hostname()
	}
	if cfg.LiveInterval <= 0 {
		cfg.LiveInterval = time.Second
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.LookupChunks <= 0 {
		cfg.LookupChunks = 100
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	s := &Server{cfg: cfg, log: cfg.Logger, users: map[string]*User{}, mux: http.NewServeMux(), origins: http.NewCrossOriginProtection(),
		bodyWait: 30 * time.Second, idleWait: 2 * time.Minute}
	s.signIns, s.streams = newSignInLimit(cfg.SignIns, cfg.Logger), newLiveStreams(cfg.LiveStreams)
	if cfg.File != nil {
		s.file = &fileState{cur: *cfg.File}
	}
	tokens := map[string]bool{}
	for i := range cfg.Users {
		u := &cfg.Users[i]
		if s.users[u.Name] != nil {
			return nil, &TokenError{Source: "users", Reason: fmt.Sprintf("the name %q is given twice; give each person one name", u.Name)}
		}
		if tokens[u.token] {
			return nil, &TokenError{Source: "users", Reason: fmt.Sprintf("%s's token is also someone else's; give each person a token of their own", u.Name)}
		}
		s.users[u.Name], tokens[u.token] = u, true
	}
	s.colour = envColour(cfg.Env, cfg.Production)
	var err error
	s.pages, err = template.New("").Funcs(funcs).ParseFS(embedded, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse console templates: %w", err)
	}
	s.reg = prometheus.NewRegistry()
	s.routes()
	return s, nil
}

// ErrNoUsers is returned by New without any user: the console never runs
// open.
var ErrNoUsers = errors.New("new console: no user may sign in")

// Registry is the console's own Prometheus registry, served on /metrics
// with the campaign metrics (read from Redis on each scrape): add process
// collectors to it.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// ServeHTTP serves the console.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin") // no other origin embeds an answer (an <img>, <script> of a console URL)
	h.Set("Cache-Control", "no-store")
	if !s.answersTo(r.Host) {
		s.log.Warn("console: refused a request for another host name", "host", r.Host, "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
		http.Error(w, "This console does not answer to the name "+r.Host+": open it at localhost, its IP address or the name of its public URL.", http.StatusMisdirectedRequest)
		return
	}
	if err := s.origins.Check(r); err != nil {
		s.log.Warn("console: refused a request from another origin", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr,
			"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
		s.refuse(w, r, http.StatusForbidden, "This request came from another site, not from the console's own page: the console acts only on its own forms. Open the console and try again there.")
		return
	}
	if r.Body != nil && r.Body != http.NoBody && !s.readBody(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// maxBody is the largest request body the console reads: its forms (a
// token, a CSRF token, a reason) are far smaller.
const maxBody = 64 << 10

// tooLargeMsg answers a body larger than maxBody.
var tooLargeMsg = fmt.Sprintf("This request's body is larger than the console accepts (%d KiB).", maxBody>>10)

// readBody reads r's body before any handler, so that a client not even
// signed in holds neither a handler nor memory: at most maxBody bytes
// (413 beyond, without reading the rest), within bodyWait (408 after,
// and the connection is closed). The wait is lifted once the body is
// read, so that an action waiting for Redis is not cut short. It reports
// whether r may be served (its body is then what was read).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) bool {
	log := s.log.With("method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
	// The deadline stays on a refused request: the server reads what is
	// left of its body before closing, and a client that never sends it
	// must not hold the connection then.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(s.bodyWait)) // not supported by a test's recorder: nothing to bound there
	if r.ContentLength > maxBody {
		log.Warn("console: refused a request body too large", "bytes", r.ContentLength)
		w.Header().Set("Connection", "close")
		http.Error(w, tooLargeMsg, http.StatusRequestEntityTooLarge)
		return false
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooLarge *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &tooLarge):
		log.Warn("console: refused a request body too large", "bytes", ">"+strconv.Itoa(maxBody))
		http.Error(w, tooLargeMsg, http.StatusRequestEntityTooLarge)
		return false
	case errors.As(err, &ne) && ne.Timeout():
		log.Warn("console: a request body did not come in time", "wait", s.bodyWait)
		w.Header().Set("Connection", "close")
		http.Error(w, "This request's body did not come in time.", http.StatusRequestTimeout)
		return false
	case err != nil:
		log.Warn("console: could not read a request body", "err", err)
		http.Error(w, "This request's body could not be read.", http.StatusBadRequest)
		return false
	}
	_ = rc.SetReadDeadline(time.Time{})
	r.Body = io.NopCloser(bytes.NewReader(b))
	return true
}

// answersTo reports whether host (a Host header) names the console: empty
// (HTTP/1.0), an IP address, localhost or a subdomain of it (browsers
// resolve those to loopback themselves), or one of Config.ServerNames.
func (s *Server) answersTo(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" || net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	for _, n := range s.cfg.ServerNames {
		if strings.EqualFold(strings.TrimSuffix(n, "."), host) {
			return true
		}
	}
	return false
}

// pageCSP allows our own script and stylesheet only, frames from our own
// origin (the email frames), and nobody to frame us.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// mailCSP is the policy of an email's HTML in its frame: the email's own
// inline styles and remote images, no script, framed by the console only,
// and sandboxed as its frame is (no script, form, pop-up or navigation
// of anything but itself; a meta refresh does not run) even when it is
// opened alone in a tab, where the frame's sandbox attribute does not
// hold it. allow-same-origin lets the console's script size the frame.
const mailCSP = "sandbox allow-same-origin; default-src 'none'; style-src 'unsafe-inline'; img-src data: https: http:; font-src data: https:; " +
	"frame-ancestors 'self'; form-action 'none'; base-uri 'none'"

func (s *Server) routes() {
	m := s.mux
	assets, _ := fs.Sub(embedded, "assets")
	m.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(assets)))
	m.HandleFunc("GET /healthz", s.healthz)
	// The console has no icon: the one every browser asks for is "none"
	// (its default), not a miss in its console and a proxy's error log.
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	m.HandleFunc("GET /metrics", s.metrics)
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.login)
	m.HandleFunc("POST /logout", s.post(RoleViewer, s.logout))
	if s.cfg.Store != nil {
		m.HandleFunc("GET /{$}", s.get(s.campaignsPage))
	} else {
		m.Handle("GET /{$}", http.RedirectHandler("/file/gallery", http.StatusSeeOther))
	}
	if s.cfg.File != nil {
		m.HandleFunc("GET /file/gallery", s.get(s.fileGallery))
		m.HandleFunc("GET /file/gallery/{lang}/{part}", s.get(s.fileGalleryPart))
		m.HandleFunc("GET /file/gallery/{rest...}", s.get(s.noPage))
	}
	if s.cfg.Store == nil {
		return
	}
	m.HandleFunc("GET /live", s.get(s.capped(s.campaignsLive)))
	m.HandleFunc("GET /c/{campaign}", s.get(s.campaignPage))
	m.HandleFunc("GET /c/{campaign}/live", s.get(s.capped(s.campaignLive)))
	m.HandleFunc("POST /c/{campaign}/{action}", s.post(RoleOperator, s.action))
	m.HandleFunc("GET /c/{campaign}/gallery", s.get(bounded(s.stagedGallery)))
	m.HandleFunc("GET /c/{campaign}/gallery/{lang}/{part}", s.get(bounded(s.stagedGalleryPart)))
	m.HandleFunc("GET /c/{campaign}/recipients", s.get(bounded(s.recipientsPage)))
	m.HandleFunc("GET /c/{campaign}/{rest...}", s.get(s.noPage))
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Store != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Store.Client().Ping(ctx).Err(); err != nil {
			http.Error(w, "redis unreachable", http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = w.Write([]byte("ok\n"))
}

// envColour is the banner colour class of an environment: red for
// production only; otherwise one of a palette without red, picked by the
// name, so that "prod" and "preprod" never look alike.
func envColour(env string, production bool) string {
	if production {
		return "env-prod"
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(env))
	return fmt.Sprintf("env-c%d", h.Sum32()%7)
}

// engineCache keeps the template engines of approved snapshots, by
// campaign and hash (compiling one takes milliseconds; a page may need it
// many times).
type engineCache struct {
	mu sync.Mutex
	m  map[string]*render.Engine
}

func (c *engineCache) get(key string, build func() (*render.Engine, error)) (*render.Engine, error) {
	c.mu.Lock()
	e := c.m[key]
	c.mu.Unlock()
	if e != nil {
		return e, nil
	}
	e, err := build()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= 32 {
		c.m = map[string]*render.Engine{}
	}
	c.m[key] = e
	return e, nil
}

// Listen opens addr and reports whether it is a loopback address: the
// console says so on start, and warns otherwise.
func Listen(addr string) (net.Listener, bool, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, false, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, IsLoopback(ln.Addr()), nil
}

// IsLoopback reports whether a is a loopback address only (an unspecified
// address such as :8080 or 0.0.0.0 listens on every interface).
func IsLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP != nil && tcp.IP.IsLoopback()
}

// Serve serves the console on ln until ctx ends, then shuts down within 5
// seconds (live pages are closed).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// A client not signed in holds a connection at most so long: its
	// headers within 10 s (of 64 KiB at most), its body within bodyWait
	// (readBody), and a kept-alive connection idleWait between requests.
	// No write timeout: live pages stream for as long as they are open.
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10, IdleTimeout: s.idleWait,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve console: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve console: %w", err)
	}
	return nil
}

// title is the page title with the environment first, so that tabs of
// different environments differ at a glance.
func (s *Server) title(parts ...string) string {
	env := s.cfg.Env
	if s.cfg.Production {
		env = strings.ToUpper(env)
	}
	if env == "" {
		env = "no environment"
	}
	return "[" + env + "] " + strings.Join(parts, " · ") + " · tidings"
}
