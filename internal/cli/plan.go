package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/flagvalue"
	"github.com/tidings-mail/tidings/internal/launch"
)

type planOptions struct {
	env        string
	rejects    string
	maxRejects int
	out        output
}

func (a *app) cmdPlan() *cobra.Command {
	var o planOptions
	c := withHelp(&cobra.Command{
		Use:   "plan CAMPAIGN",
		Short: "Validate every recipient and show what a send would do; touches no queue",
		Args:  argsExact(1, "one campaign file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, env, err := a.loadCampaign(args[0], o.env)
			if err != nil {
				return err
			}
			p, err := a.plan(cmd.Context(), b, env, nil)
			if err != nil {
				return err
			}
			sum := p.Summary
			if err := o.out.print(a.stdout, sum, func() error { sum.WriteText(a.stdout, o.maxRejects); return nil }); err != nil {
				return err
			}
			path, err := sum.WriteRejectsFile(o.rejects) // or removes a stale one
			if err != nil {
				return fmt.Errorf("--rejects %w", err)
			}
			if path == "" {
				return nil
			}
			w := a.stdout
			if o.out.format == "json" {
				w = a.stderr
			}
			fmt.Fprintf(w, "\n%s\n", sum.RejectsLine(absPath(path)))
			return problems("%d refused, %d invalid", sum.Refused, sum.Invalid)
		},
	})
	addEnv(c, &o.env, "environment whose allowlist applies (default: the campaign's environment)", false)
	c.Flags().StringVar(&o.rejects, "rejects", "", "write every refused and invalid row to this CSV file (default CAMPAIGN-NAME.rejects.csv when there are any)")
	c.Flags().Var(flagvalue.NewCount(&o.maxRejects, 20, "0 shows none"), "show", "how many refused/invalid rows to show on screen")
	addOutput(c, &o.out, "text", "text", "json")
	return c
}

// plan reads and checks every recipient of b for environment env.
func (a *app) plan(ctx context.Context, b *bundle.Bundle, env *environment.Environment, excl *launch.Delivered) (*launch.Planned, error) {
	who, host := actorName()
	p, err := launch.Plan(ctx, b.LaunchInput(env, who, host, excl))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, configError(b.KeyError(err))
	case err != nil:
		return nil, classify(err)
	}
	return p, nil
}
