package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/writehold"
)

type statusOptions struct {
	env      string
	watch    bool
	interval time.Duration
	out      output
}

func (a *app) cmdStatus() *cobra.Command {
	var o statusOptions
	c := withHelp(&cobra.Command{
		Use:   "status [CAMPAIGN] --env ENV",
		Short: "State, progress per batch and language, outcomes, errors, rate, ETA",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.interval <= 0 {
				return usageError(cmd, fmt.Errorf("--interval %s: give a positive duration, e.g. 1s", o.interval))
			}
			return a.withStore(cmd.Context(), o.env, func(s *store.Store, e *environment.Environment) error {
				if len(args) == 0 {
					return a.listCampaigns(cmd.Context(), s, e, o.out)
				}
				return a.showStatus(cmd.Context(), s, args[0], e, o)
			})
		},
	})
	addEnv(c, &o.env, "environment (required)", true)
	c.Flags().BoolVar(&o.watch, "watch", false, "refresh until the campaign is done or cancelled")
	c.Flags().DurationVar(&o.interval, "interval", time.Second, "refresh interval for --watch")
	addOutput(c, &o.out, "text", "text", "json")
	return c
}

func (a *app) listCampaigns(ctx context.Context, s *store.Store, e *environment.Environment, out output) error {
	env := e.Name
	all, err := statusview.All(ctx, s, env)
	if err != nil {
		return storeError(err, env, nil)
	}
	m := statusview.MissingOf(ctx, s, e.StateDir, e.Journal.Dir, env, all)
	return out.print(a.stdout, writehold.ListJSON(ctx, s.Client(), m.JSON(all, env), e), func() error {
		if len(all) > 0 {
			statusview.WriteList(a.stdout, all, time.Now(), func(st *store.Status) string { return "tidings status " + st.Campaign + " --env " + env },
				func(st *store.Status) string { return nextstep.FilesIn(e.StateDir).HintOf(statusview.Next(st), st) })
		}
		writehold.WriteList(ctx, a.stdout, s.Client(), all, e)
		statusview.WriteGone(a.stdout, len(all), m, env)
		return nil
	})
}

// showStatus shows campaign c, refreshed every o.interval with --watch
// until it is finished.
func (a *app) showStatus(ctx context.Context, s *store.Store, c string, e *environment.Environment, o statusOptions) error {
	f, tty := a.stdout.(*os.File)
	tty = tty && term.IsTerminal(int(f.Fd()))
	for {
		st, err := statusview.One(ctx, s, c, e.Name) // one being staged: so, exit 0
		if err != nil {
			return storeError(err, e.Name, nil)
		}
		switch {
		case o.out.format == "json":
			err = writeJSON(a.stdout, writehold.JSON(ctx, s.Client(), st, e))
		case o.watch && !tty:
			fmt.Fprintln(a.stdout, writehold.OneLine(ctx, s.Client(), st, e, time.Now()))
		case o.watch:
			fmt.Fprint(a.stdout, "\033[H\033[2J")
			fallthrough
		default:
			hint := statusview.WithStall(st, time.Now(), nextstep.FilesIn(e.StateDir).HintOf(statusview.Next(st), st))
			statusview.WriteAt(a.stdout, st, time.Now(), writehold.With(ctx, s.Client(), st, e, hint))
		}
		if err != nil || !o.watch || st.State.Finished() {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.interval):
		}
	}
}
