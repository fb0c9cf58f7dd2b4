package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/flagvalue"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/suppress"
)

type planOptions struct {
	env        string
	rejects    string
	suppress   []string
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
			p, err := a.plan(cmd.Context(), b, env, nil, o.suppress)
			if err != nil {
				return err
			}
			sum := p.Summary
			if err := o.out.print(a.stdout, sum, func() error { sum.WriteText(a.stdout, o.maxRejects); return nil }); err != nil {
				return err
			}
			path, err := sum.WriteRejectsFile(cmd.Context(), o.rejects) // or removes a stale one of this environment
			if err != nil {
				return fmt.Errorf("--rejects %w", err)
			}
			w := a.stdout
			if o.out.format == "json" {
				w = a.stderr
			}
			printf(w, path == "" && sum.KeptNote() != "", "\n%s\n", sum.KeptNote())
			printf(w, path != "", "\n%s\n", sum.RejectsLine(launch.Abs(path)))
			if sum.Refused+sum.Invalid == 0 { // no rejects, or skipped (suppressed) rows alone
				return nil
			}
			return problems("%d refused, %d invalid", sum.Refused, sum.Invalid)
		},
	})
	addEnv(c, &o.env, "environment whose allowlist applies (default, and the only one accepted: the campaign's environment)", false)
	c.Flags().StringVar(&o.rejects, "rejects", "", plan.RejectsUsage)
	c.Flags().StringArrayVar(&o.suppress, "suppress", nil, suppress.Usage)
	c.Flags().Var(flagvalue.NewCount(&o.maxRejects, 20, "0 shows none"), "show", "how many refused/invalid rows to show on screen")
	addOutput(c, &o.out, "text", "text", "json")
	return c
}
