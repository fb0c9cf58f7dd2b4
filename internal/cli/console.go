package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/notify"
	"github.com/tidings-mail/tidings/internal/preview"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/worker"
)

type consoleOptions struct {
	env           string
	addr          string
	url           string
	campaign      string
	viewerFile    string
	operatorFile  string
	notifications bool
}

func (a *app) cmdConsole() *cobra.Command {
	var o consoleOptions
	c := &cobra.Command{
		Use:   "console --env ENV [--addr 127.0.0.1:8080]",
		Short: "The web console for QA and on-call: live campaigns, actions, the approved gallery, recipients",
		Long: `console serves the web console of an environment: every campaign with its
live progress, the on-call actions (pause, resume, approve the canary, cancel,
retry temporary failures: the same operations as the commands, recorded in
the audit log under the signed-in person's name), the gallery of every
language rendered from the approved snapshot, the recipients with their
outcomes (CSV download), and campaign metrics on /metrics. It reads and writes
the environment's Redis like the workers; run as many consoles as you like.

Who may sign in: tokens, one person per line ("NAME TOKEN", or one bare
TOKEN), from the environment's console.viewer_token_file and
console.operator_token_file (or TIDINGS_CONSOLE_VIEWER_TOKEN /
TIDINGS_CONSOLE_OPERATOR_TOKEN), or the files --viewer-tokens /
--operator-tokens.
Viewers (QA) see everything; operators (on-call) also act. Tokens are never
printed.

It listens on loopback (127.0.0.1:8080) unless --addr says otherwise, and
warns when it is reachable from the network: put it behind TLS then.

With --campaign FILE (and no --env) it shows the gallery of a campaign file
that is not staged yet; without configured tokens it then prints a one-time
sign-in link for you.

Each console, like each worker, also posts notifications when webhooks are
configured (notify.slack_webhook_url_file, notify.webhook_url_file, or
TIDINGS_NOTIFY_SLACK_WEBHOOK_URL, TIDINGS_NOTIFY_WEBHOOK_URL).`,
		Example: `  TIDINGS_CONSOLE_OPERATOR_TOKEN="alice $(cat ~/.tidings-token)" tidings console --env production
  tidings console --env staging --addr 0.0.0.0:8080 --url https://tidings.staging.example
  tidings console --campaign campaigns/altea.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runConsole(cmd.Context(), o)
		},
	}
	c.Flags().StringVar(&o.env, "env", "", "environment whose campaigns to show (required unless --campaign)")
	c.Flags().StringVar(&o.addr, "addr", "", "listen address (default: the environment's console.addr, else 127.0.0.1:8080)")
	c.Flags().StringVar(&o.url, "url", "", "the console's public base URL, for links in notifications (default: console.url, else http://ADDR)")
	c.Flags().StringVar(&o.campaign, "campaign", "", "also show the gallery of this campaign file (not staged yet)")
	c.Flags().StringVar(&o.viewerFile, "viewer-tokens", "", "file of viewer tokens, one \"NAME TOKEN\" per line")
	c.Flags().StringVar(&o.operatorFile, "operator-tokens", "", "file of operator tokens, one \"NAME TOKEN\" per line")
	c.Flags().BoolVar(&o.notifications, "notify", true, "post notifications to the configured webhooks")
	return c
}

// consoleSettings are the console's and the notifier's settings: the
// environment's console and notify settings (config file, TIDINGS_CONSOLE_*
// and TIDINGS_NOTIFY_* variables), overridden by flags.
type consoleSettings struct {
	addr, url          string
	viewer, operator   environment.Secret
	viewerSrc, operSrc string
	slack, webhook     environment.Secret
	noProgressAfter    time.Duration
}

func (a *app) consoleSettings(o consoleOptions, e *environment.Environment) (consoleSettings, error) {
	s := consoleSettings{addr: environment.DefaultConsoleAddr, noProgressAfter: environment.DefaultNoProgressAfter,
		viewerSrc: "--viewer-tokens", operSrc: "--operator-tokens"}
	if e != nil {
		s.addr, s.viewer, s.operator = e.Console.Addr, e.Console.ViewerToken, e.Console.OperatorToken
		if e.Console.URL != "http://"+e.Console.Addr {
			s.url = e.Console.URL // set explicitly, not derived from the address
		}
		s.viewerSrc = "the viewer tokens (console.viewer_token_file or TIDINGS_CONSOLE_VIEWER_TOKEN)"
		s.operSrc = "the operator tokens (console.operator_token_file or TIDINGS_CONSOLE_OPERATOR_TOKEN)"
		s.slack, s.webhook, s.noProgressAfter = e.Notify.SlackWebhookURL, e.Notify.WebhookURL, e.Notify.NoProgressAfter
	}
	if o.addr != "" {
		s.addr = o.addr
	}
	if o.url != "" {
		s.url = o.url
	}
	for _, f := range []struct {
		file   string
		secret *environment.Secret
		src    *string
	}{{o.viewerFile, &s.viewer, &s.viewerSrc}, {o.operatorFile, &s.operator, &s.operSrc}} {
		if f.file == "" {
			continue
		}
		b, err := os.ReadFile(f.file)
		if err != nil {
			return s, configError(fmt.Errorf("read tokens: %w", err))
		}
		*f.secret, *f.src = environment.Secret(b), f.file
	}
	return s, nil
}

// users parses the configured tokens.
func (s consoleSettings) users() ([]console.User, error) {
	var users []console.User
	for _, l := range []struct {
		secret environment.Secret
		src    string
		role   console.Role
	}{{s.viewer, s.viewerSrc, console.RoleViewer}, {s.operator, s.operSrc, console.RoleOperator}} {
		u, err := console.ParseTokens(l.secret.Reveal(), l.src, l.role)
		if err != nil {
			return nil, configError(err)
		}
		users = append(users, u...)
	}
	return users, nil
}

func (a *app) runConsole(ctx context.Context, o consoleOptions) error {
	if o.env == "" && o.campaign == "" {
		return configError(errors.New("give --env ENV (the campaigns of an environment) or --campaign FILE (the gallery of a campaign file)"))
	}
	var e *environment.Environment
	if o.env != "" {
		var err error
		if e, err = a.loadEnv(o.env); err != nil {
			return err
		}
	}
	set, err := a.consoleSettings(o, e)
	if err != nil {
		return err
	}
	users, err := set.users()
	if err != nil {
		return err
	}
	log := a.logger()
	cfg := console.Config{
		Compose:       func(c *campaign.Campaign) console.Composer { return worker.NewComposer(c) },
		Samples:       preview.DefaultSamples(),
		Logger:        log,
		SecureCookies: strings.HasPrefix(set.url, "https://"),
	}
	if o.campaign != "" {
		b, err := load(o.campaign)
		if err != nil {
			return err
		}
		cfg.File = &console.CampaignFile{Campaign: b.Campaign, Engine: b.Engine, Recipients: b.Recipients, Path: o.campaign}
	}
	var rdb redis.UniversalClient
	if e != nil {
		if len(users) == 0 {
			return configError(errors.New("nobody could sign in: set TIDINGS_CONSOLE_OPERATOR_TOKEN and/or TIDINGS_CONSOLE_VIEWER_TOKEN (one \"NAME TOKEN\" per line; generate tokens with 'openssl rand -hex 24'), or give --operator-tokens / --viewer-tokens files"))
		}
		if rdb, err = a.redis(ctx, e); err != nil {
			return err
		}
		defer rdb.Close()
		cfg.Store, cfg.Env, cfg.Production = store.New(rdb), e.Name, e.Production
	}
	ln, loopback, err := console.Listen(set.addr)
	if err != nil {
		return configError(fmt.Errorf("console address: %w", err))
	}
	base := "http://" + ln.Addr().String()
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		// Every interface: links name this machine.
		host, _ := os.Hostname()
		base = "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port))
	}
	if set.url == "" {
		set.url = base
	}
	link := ""
	if len(users) == 0 {
		// A campaign file only, nobody configured: a one-time token for the
		// person who started it, on loopback only.
		if !loopback {
			ln.Close()
			return configError(errors.New("nobody could sign in: set TIDINGS_CONSOLE_VIEWER_TOKEN (or give --viewer-tokens) before listening beyond loopback"))
		}
		token, u, err := oneTimeUser()
		if err != nil {
			ln.Close()
			return err
		}
		users, link = u, base+"/login#token="+token
	}
	cfg.Users = users
	srv, err := console.New(cfg)
	if err != nil {
		ln.Close()
		return configError(err)
	}
	srv.Registry().MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	listen := set.addr
	if strings.HasSuffix(set.addr, ":0") {
		listen = ln.Addr().String()
	}
	a.announceConsole(listen, base, loopback, cfg, link)
	if rdb != nil && o.notifications {
		go a.runNotifier(ctx, rdb, cfg.Env, cfg.Production, set)
	}
	if err := srv.Serve(ctx, ln); err != nil {
		return infraError(err)
	}
	return nil
}

// oneTimeUser makes a viewer with a random token, for this run only.
func oneTimeUser() (string, []console.User, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("make a sign-in token: %w", err)
	}
	token := hex.EncodeToString(b)
	who, _ := actorName()
	u, err := console.ParseTokens(who+" "+token, "one-time token", console.RoleViewer)
	if err != nil {
		u, err = console.ParseTokens(token, "one-time token", console.RoleViewer)
	}
	return token, u, err
}

// announceConsole says where the console listens and who can reach it.
func (a *app) announceConsole(addr, base string, loopback bool, cfg console.Config, link string) {
	what := ""
	if cfg.File != nil {
		what = "the gallery of " + cfg.File.Campaign.Name
	}
	if cfg.Store != nil {
		what = "environment " + cfg.Env
		if cfg.Production {
			what += " (PRODUCTION)"
		}
	}
	fmt.Fprintf(a.stdout, "Console for %s on %s/\n", what, base)
	if loopback {
		fmt.Fprintf(a.stdout, "Listening on %s: loopback only, reachable from this machine alone (--addr to change).\n", addr)
	} else {
		fmt.Fprintf(a.stdout, "WARNING: listening on %s, reachable from the network. Serve it behind TLS (a reverse proxy) and give --url https://...; anyone with a token can sign in.\n", addr)
	}
	if link != "" {
		fmt.Fprintf(a.stdout, "Sign in with this one-time link (valid while this command runs): %s\n", link)
	}
	if cfg.File != nil {
		fmt.Fprintf(a.stdout, "Gallery of %s: %s/file/gallery\n", cfg.File.Path, base)
	}
	fmt.Fprintln(a.stdout, "Ctrl-C to stop.")
}

// runNotifier posts the environment's notifications until ctx ends, when
// a webhook is configured. Workers and consoles all run it; each event is
// delivered once.
func (a *app) runNotifier(ctx context.Context, rdb redis.UniversalClient, env string, production bool, set consoleSettings) {
	n, err := notify.New(notify.Config{
		Store: store.New(rdb), Env: env, Production: production, ConsoleURL: set.url,
		SlackURL: set.slack.Reveal(), WebhookURL: set.webhook.Reveal(), NoProgressAfter: set.noProgressAfter,
		Logger: a.logger(),
	})
	if err != nil {
		fmt.Fprintf(a.stderr, "notifications are off: %v\n", err)
		return
	}
	if !n.Enabled() {
		return
	}
	_ = n.Run(ctx)
}

// startNotifier is the worker's hook: notifications of environment e.
func (a *app) startNotifier(ctx context.Context, rdb redis.UniversalClient, e *environment.Environment) {
	set, err := a.consoleSettings(consoleOptions{}, e)
	if err != nil {
		fmt.Fprintf(a.stderr, "notifications are off: %v\n", err)
		return
	}
	go a.runNotifier(ctx, rdb, e.Name, e.Production, set)
}
