package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/doctor"
)

func (a *app) cmdDoctor() *cobra.Command {
	var env string
	var out output
	c := withHelp(&cobra.Command{
		Use:   "doctor --env ENV [CAMPAIGN]",
		Short: "Preflight: Redis, persistence, noeviction, SMTP TLS and auth, the journal, templates",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.loadEnv(env)
			if err != nil {
				return err
			}
			var b *bundle.Bundle
			var campaignErr error
			if len(args) == 1 {
				b, campaignErr = load(args[0])
			}
			r := doctor.Run(cmd.Context(), e, b, campaignErr)
			err = out.print(a.stdout, r, func() error {
				r.WriteText(a.stdout)
				if r.Incomplete {
					fmt.Fprintf(a.stdout, "\nWhere the catalogs are incomplete: tidings check %s\n", args[0])
				}
				return nil
			})
			switch {
			case err != nil:
				return err
			case r.Infra:
				return &exitError{code: exitInfra, err: fmt.Errorf("%d check(s) failed", r.Failed), quiet: true}
			case r.Failed > 0:
				return problems("%d check(s) failed", r.Failed)
			}
			return nil
		},
	})
	addEnv(c, &env, "environment to check (required)", true)
	addOutput(c, &out, "text", "text", "json")
	return c
}
