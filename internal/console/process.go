package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/notify"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/store"
)

// Options configure a console process (Run): what it shows, where it
// listens, who may sign in. Config's other fields (Compose, Samples,
// Logger, ...) are taken from Server; Store, Env, Production, Users, File
// and SecureCookies are set by Run.
type Options struct {
	Server Config
	// Env is the environment whose campaigns are shown; nil shows File
	// alone (Server.File is then required).
	Env *environment.Environment
	// Connect opens Env's store (required with Env); Run closes its client
	// when it returns. It is called after the users are known, so that a
	// console nobody could sign in to fails before connecting.
	Connect func(context.Context) (*store.Store, error)
	// Addr is the listen address (default: Env's console.addr, else
	// environment.DefaultConsoleAddr).
	Addr string
	// URL is the console's public base URL, for links in notifications
	// (default: Env's console.url when configured, else http:// and the
	// address listened on).
	URL string
	// Viewers and Operators, when set, replace Env's token lists.
	Viewers, Operators *TokenList
	// Notify runs Env's notifier (notify.ForEnvironment) beside the console.
	Notify bool
	// Who names the viewer made for this run when nobody else may sign in.
	Who string
}

// TokenList is a list of tokens in ParseTokens' format, and where it came
// from (named in errors).
type TokenList struct{ Data, Source string }

// Started says where a console process listens, for its caller to
// announce before it serves.
type Started struct {
	// Addr is the listen address as asked (the port chosen when it asked
	// for port 0); Base is the base URL of links (a host name when it
	// listens on every interface).
	Addr, Base string
	// Loopback reports a console reachable from this machine alone.
	Loopback bool
	// Link is the sign-in link, when Run made a viewer for this run: its
	// token signs in any number of times, until Run returns.
	Link string
	// NotifyErr says why notifications are off, when their settings are
	// wrong.
	NotifyErr error
}

// ErrNobodyBeyondLoopback is returned by Run for a console of a campaign
// file without users that would listen beyond loopback: a viewer for the
// run is made on loopback only.
var ErrNobodyBeyondLoopback = errors.New("run console: nobody may sign in beyond loopback")

// ListenError is returned by Run when it cannot listen on its address.
type ListenError struct{ Err error }

func (e *ListenError) Error() string { return e.Err.Error() }

// Unwrap returns the listener's error.
func (e *ListenError) Unwrap() error { return e.Err }

// ServeError is returned by Run when serving fails after it started.
type ServeError struct{ Err error }

func (e *ServeError) Error() string { return e.Err.Error() }

// Unwrap returns the server's error.
func (e *ServeError) Unwrap() error { return e.Err }

// Run runs a console process until ctx ends: it reads the users from the
// token lists, connects to Env's store, listens, makes a viewer for this
// run when nobody else may sign in (on loopback only), starts Env's notifier
// when asked, calls started, and serves. Errors: a *TokenError,
// ErrNoUsers (Env given, no token list), ErrNobodyBeyondLoopback, Connect's
// error as it is, a *ListenError, New's error, or a *ServeError.
func Run(ctx context.Context, o Options, started func(Started)) error {
	cfg, addr := o.Server, environment.DefaultConsoleAddr
	if o.Env != nil {
		addr, cfg.Env, cfg.Production, cfg.StateDir, cfg.JournalDir = o.Env.Console.Addr, o.Env.Name, o.Env.Production, o.Env.StateDir, o.Env.Journal.Dir
		cfg.Environment = o.Env
	}
	if o.Addr != "" {
		addr = o.Addr
	}
	nc := notify.Config{}
	if o.Env != nil {
		nc = notify.ForEnvironment(o.Env, nil)
	}
	if o.URL == "" {
		o.URL = nc.ConsoleURL
	}
	cfg.SecureCookies = strings.HasPrefix(o.URL, "https://")
	users, err := o.users()
	if err != nil {
		return err
	}
	if o.Env != nil {
		if len(users) == 0 {
			return ErrNoUsers
		}
		if cfg.Store, err = o.Connect(ctx); err != nil {
			return err
		}
		cfg.Judge = func(ctx context.Context) error { return redisconn.Judge(ctx, cfg.Store, o.Env) }
		defer cfg.Store.Client().Close()
	}
	ln, loopback, err := Listen(addr)
	if err != nil {
		return &ListenError{Err: err}
	}
	defer ln.Close() // Serve closes it too; this covers the errors before
	s := Started{Addr: addr, Base: "http://" + ln.Addr().String(), Loopback: loopback}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		host, _ := os.Hostname() // every interface: links name this machine
		s.Base = "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port))
		cfg.ServerNames = append(cfg.ServerNames, host)
	}
	if strings.HasSuffix(addr, ":0") {
		s.Addr = ln.Addr().String()
	}
	if o.URL == "" {
		o.URL = s.Base
	}
	if u, err := url.Parse(o.URL); err == nil && u.Hostname() != "" {
		cfg.ServerNames = append(cfg.ServerNames, u.Hostname()) // the name its links and its proxy use
	}
	if len(users) == 0 {
		if !loopback {
			return ErrNobodyBeyondLoopback
		}
		var token string
		if token, users, err = runUser(o.Who); err != nil {
			return err
		}
		s.Link = s.Base + "/login#token=" + token
	}
	cfg.Users = users
	srv, err := New(cfg)
	if err != nil {
		return err
	}
	// The Go runtime's and the process's series carry the environment, as
	// every tidings_ one does (one Prometheus may scrape several).
	var reg prometheus.Registerer = srv.Registry()
	if cfg.Env != "" {
		reg = prometheus.WrapRegistererWith(prometheus.Labels{"environment": cfg.Env}, reg)
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if cfg.Store != nil && o.Notify {
		nc.Store, nc.ConsoleURL, nc.Logger = cfg.Store, o.URL, cfg.Logger
		// A webhook post under way when the console stops is let finish
		// and recorded (notify.Start's wait) before the Redis client closes.
		nctx, stopNotify := context.WithCancel(ctx)
		var waitNotify func()
		waitNotify, s.NotifyErr = notify.Start(nctx, nc)
		defer func() {
			stopNotify()
			waitNotify()
		}()
	}
	started(s)
	if err := srv.Serve(ctx, ln); err != nil {
		return &ServeError{Err: err}
	}
	return nil
}

// users reads the viewers and operators of o: its own token lists, else
// Env's.
func (o Options) users() ([]User, error) {
	var v, op TokenList
	if e := o.Env; e != nil {
		v = TokenList{e.Console.ViewerToken.Reveal(), "the viewer tokens (console.viewer_token_file or TIDINGS_CONSOLE_VIEWER_TOKEN)"}
		op = TokenList{e.Console.OperatorToken.Reveal(), "the operator tokens (console.operator_token_file or TIDINGS_CONSOLE_OPERATOR_TOKEN)"}
	}
	var users []User
	for _, l := range []struct {
		list, override *TokenList
		role           Role
	}{{&v, o.Viewers, RoleViewer}, {&op, o.Operators, RoleOperator}} {
		if l.override != nil {
			l.list = l.override
		}
		u, err := ParseTokens(l.list.Data, l.list.Source, l.role)
		if err != nil {
			return nil, err
		}
		users = append(users, u...)
	}
	return users, nil
}

// runUser makes a viewer named who (else "viewer") with a random token,
// for this process only.
func runUser(who string) (string, []User, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("make a sign-in token: %w", err)
	}
	token := hex.EncodeToString(b)
	u, err := ParseTokens(who+" "+token, "the sign-in link's token", RoleViewer)
	if err != nil {
		u, err = ParseTokens(token, "the sign-in link's token", RoleViewer)
	}
	return token, u, err
}

// Write says, for the operator who started console process o, where it
// listens (s), who can reach it, how to sign in and how to stop it.
func (s Started) Write(w io.Writer, o Options) {
	what := ""
	if f := o.Server.File; f != nil {
		what = "the gallery of " + f.Campaign.Name
	}
	if o.Env != nil {
		what = "environment " + o.Env.Name
	}
	if o.Env != nil && o.Env.Production {
		what += " (PRODUCTION)"
	}
	fmt.Fprintf(w, "Console for %s on %s/\n", what, s.Base)
	if s.Loopback {
		fmt.Fprintf(w, "Listening on %s: loopback only, reachable from this machine alone (give another address to change it).\n", s.Addr)
	} else {
		fmt.Fprintf(w, "WARNING: listening on %s, reachable from the network. Serve it behind TLS (a reverse proxy) and give --url https://...; anyone with a token can sign in.\n", s.Addr)
	}
	if s.Link != "" {
		fmt.Fprintf(w, "Sign in with this link (valid while this command runs; anyone with it can sign in: do not share it): %s\n", s.Link)
	}
	if o.Server.File != nil {
		fmt.Fprintf(w, "Gallery of %s: %s/file/gallery\n", o.Server.File.Path, s.Base)
	}
	fmt.Fprintln(w, "Ctrl-C to stop.")
}
