package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/buildinfo"
	"github.com/tidings-mail/tidings/internal/demo"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/rehearsal"
	"github.com/tidings-mail/tidings/internal/suppress"
)

func (a *app) cmdRehearse() *cobra.Command {
	var out string
	var lists []string
	c := withHelp(&cobra.Command{
		Use:   "rehearse CAMPAIGN",
		Short: "Run the whole campaign on an embedded Redis and SMTP server; nothing leaves the machine",
		Args:  argsExact(1, "one campaign file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, e, envErr := a.loadCampaign(args[0], "")
			if b == nil {
				return envErr
			}
			if out == "" {
				out = filepath.Join("tidings-out", b.Campaign.Name, "rehearsal")
			}
			res, err := a.rehearse(cmd.Context(), rehearsal.Config{Bundle: b, Out: out, Env: e, EnvErr: envErr, Suppress: lists})
			if err != nil {
				return err
			}
			if res.Problems() {
				return problems("rehearsal found refused, invalid or failed recipients")
			}
			return nil
		},
	})
	c.Flags().StringVar(&out, "out", "", "output directory (default tidings-out/CAMPAIGN-NAME/rehearsal)")
	c.Flags().StringArrayVar(&lists, "suppress", nil, suppress.Usage)
	return c
}

func (a *app) cmdDemo() *cobra.Command {
	var out string
	c := withHelp(&cobra.Command{
		Use:   "demo",
		Short: "Rehearse the bundled sample campaign and show where to look (start here)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				out = filepath.Join("tidings-out", "demo")
			}
			file, err := demo.Prepare(out)
			var fe *demo.ForeignDirError
			if errors.As(err, &fe) {
				return configError(fmt.Errorf("demo output %s is not empty and holds no earlier demo: choose an empty or new directory with --out (nothing was removed)", fe.Dir))
			}
			if err != nil {
				return configError(err)
			}
			b, err := load(file)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "tidings demo: rehearsing the sample campaign %q from %s\n\n", b.Campaign.Name, launch.Abs(file))
			if _, err := a.rehearse(cmd.Context(), rehearsal.Config{Bundle: b, Out: out, Keep: []string{demo.CampaignDir}}); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "\nOpen the campaign in the web console (gallery, recipients; loopback only):\n  %s console --campaign %s\n", buildinfo.Invocation(), launch.Abs(file))
			fmt.Fprintf(a.stdout, "\nThis was a demo: refusals above are deliberate. Edit %s and run\n  %s rehearse %s\nto try your own changes.\n", launch.Abs(file), buildinfo.Invocation(), file)
			return nil
		},
	})
	c.Long = fmt.Sprintf(c.Long, len(demo.Complete)+len(demo.Incomplete), strings.Join(demo.Complete, ", "), strings.Join(demo.Incomplete, ", "))
	c.Flags().StringVar(&out, "out", "", "output directory (default tidings-out/demo)")
	return c
}

// rehearse runs the rehearsal cfg describes and prints its story.
func (a *app) rehearse(ctx context.Context, cfg rehearsal.Config) (*rehearsal.Result, error) {
	cfg.Who, cfg.Host = actorName()
	cfg.Logger = a.logger(slog.LevelWarn)
	res, err := rehearsal.Run(ctx, cfg)
	switch {
	case errors.As(err, new(*rehearsal.PausedError)), errors.As(err, new(*rehearsal.TimeoutError)):
		return nil, problemsErr(err)
	case err != nil:
		return nil, storeError(bundleError(err), rehearsal.Env, nil)
	}
	res.WriteText(a.stdout)
	return res, nil
}
