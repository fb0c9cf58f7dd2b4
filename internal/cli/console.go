package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/preview"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/userfile"
	"github.com/tidings-mail/tidings/worker"
)

type consoleOptions struct {
	env, addr, url, campaign string
	viewerFile, operatorFile string
	notifications            bool
}

func (a *app) cmdConsole() *cobra.Command {
	var o consoleOptions
	c := withHelp(&cobra.Command{
		Use:   "console --env ENV [--addr 127.0.0.1:8080]",
		Short: "The web console for QA and on-call: live campaigns, actions, the approved gallery, recipients",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return a.runConsole(cmd.Context(), o) },
	})
	addEnv(c, &o.env, "environment whose campaigns to show (required unless --campaign)", false)
	c.Flags().StringVar(&o.addr, "addr", "", "listen address (default: the environment's console.addr, else 127.0.0.1:8080)")
	c.Flags().StringVar(&o.url, "url", "", "the console's public base URL, for links in notifications (default: console.url, else http://ADDR)")
	c.Flags().StringVar(&o.campaign, "campaign", "", "also show the gallery of this campaign file (not staged yet)")
	c.Flags().StringVar(&o.viewerFile, "viewer-tokens", "", "file of viewer tokens, one \"NAME TOKEN\" per line")
	c.Flags().StringVar(&o.operatorFile, "operator-tokens", "", "file of operator tokens, one \"NAME TOKEN\" per line")
	c.Flags().BoolVar(&o.notifications, "notify", true, "post notifications to the configured webhooks")
	return c
}

// runConsole maps flags and files to console.Options and runs the console.
func (a *app) runConsole(ctx context.Context, o consoleOptions) error {
	if o.env == "" && o.campaign == "" {
		return configError(errors.New("give --env ENV (the campaigns of an environment) or --campaign FILE (the gallery of a campaign file)"))
	}
	opts := console.Options{Addr: o.addr, URL: o.url, Notify: o.notifications, Server: console.Config{
		Samples: preview.DefaultSamples(), Logger: a.logger(slog.LevelInfo),
	}}
	// Never the environment's unsubscribe secret: a gallery's valid
	// {token} would let any viewer unsubscribe its sample recipients.
	opts.Server.Compose = func(c *campaign.Campaign) console.Composer { return worker.PreviewComposer(c, "") }
	opts.Who, _ = actorName()
	if o.env != "" {
		e, err := a.loadEnv(o.env, environment.Flag{Name: "--addr", Key: "console.addr", Value: o.addr}, environment.Flag{Name: "--url", Key: "console.url", Value: o.url})
		if err != nil {
			return err
		}
		opts.Env = e
		// The store the CLI's control commands use: an action waits for
		// the replica acknowledgements the environment asks for.
		opts.Connect = func(ctx context.Context) (*store.Store, error) { return a.storeOf(ctx, e) }
	}
	for _, f := range []struct {
		flag, file string
		list       **console.TokenList
	}{{"--viewer-tokens", o.viewerFile, &opts.Viewers}, {"--operator-tokens", o.operatorFile, &opts.Operators}} {
		if f.file != "" {
			b, err := userfile.ReadOnce(f.file) // <(pass show ...): the secret need not be on disk
			if err != nil {
				return fmt.Errorf("%s %w", f.flag, err) // classify: exit 2
			}
			*f.list = &console.TokenList{Data: string(b), Source: f.file}
		}
	}
	if o.campaign != "" {
		b, err := load(o.campaign)
		if err != nil {
			return err
		}
		b.UseEnv(opts.Env)
		opts.Server.File = &console.CampaignFile{Campaign: b.Campaign, Engine: b.Engine, Recipients: b.Recipients, Path: o.campaign, Env: opts.Env}
	}
	err := console.Run(ctx, opts, func(s console.Started) { a.announceConsole(s, opts) })
	var le *console.ListenError
	var se *console.ServeError
	switch {
	case errors.Is(err, console.ErrNoUsers):
		return configError(errors.New("nobody could sign in: set TIDINGS_CONSOLE_OPERATOR_TOKEN and/or TIDINGS_CONSOLE_VIEWER_TOKEN (one \"NAME TOKEN\" per line; generate tokens with 'openssl rand -hex 24'), or give --operator-tokens / --viewer-tokens files"))
	case errors.Is(err, console.ErrNobodyBeyondLoopback):
		return configError(errors.New("nobody could sign in: give --viewer-tokens FILE (one \"NAME TOKEN\" per line; generate tokens with 'openssl rand -hex 24') before listening beyond loopback"))
	case errors.As(err, &le):
		return configError(fmt.Errorf("console address: %w", le.Err))
	case errors.As(err, &se):
		return infraError(se.Err)
	}
	return classify(err)
}

// announceConsole says where the console listens and who can reach it
// (console.Started.Write), and why notifications are off, if they are.
func (a *app) announceConsole(s console.Started, o console.Options) {
	if s.NotifyErr != nil {
		fmt.Fprintf(a.stderr, "notifications are off: %v\n", s.NotifyErr)
	}
	s.Write(a.stdout, o)
}
