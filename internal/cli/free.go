package cli

import (
	"cmp"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/free"
	"github.com/tidings-mail/tidings/internal/store"
)

func (a *app) cmdFree() *cobra.Command {
	var o free.Options
	c := withHelp(&cobra.Command{
		Use: "free CAMPAIGN --env ENV [--yes] [--report-out FILE]", Short: "Free what a done or cancelled campaign keeps in Redis, but its ledger",
		Args: argsExact(1, "one campaign name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd.Context(), o.Env, func(s *store.Store, e *environment.Environment) error {
				o.Campaign, o.Env, o.StateDir, o.Actor = args[0], e.Name, e.StateDir, actor(e)
				o.Report = cmp.Or(o.Report, args[0]+".report.csv")
				r, err := free.Run(cmd.Context(), s, o)
				if nfe := (*store.NotFreeableError)(nil); errors.As(err, &nfe) {
					return problemsErr(fmt.Errorf("%w: wait until it is done, or cancel it first (tidings cancel %s --env %s --reason TEXT), then free it", err, args[0], e.Name))
				}
				if r.Campaign != "" { // freed, or what a free would do
					r.Say(a.stdout)
				}
				return storeError(err, e.Name, nil)
			})
		},
	})
	addEnv(c, &o.Env, "environment of the campaign", true)
	c.Flags().BoolVar(&o.Yes, "yes", false, "free it (without: only say what would be freed)")
	c.Flags().StringVar(&o.Report, "report-out", "", "save the report here first (default CAMPAIGN.report.csv; never over an existing file)")
	return c
}
