package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) cmdRetry() *cobra.Command {
	var env string
	c := &cobra.Command{
		Use:   "retry CAMPAIGN --env ENV",
		Short: "Re-queue temporary failures; never re-sends anyone already sent",
		Long: `retry re-queues every recipient whose sending failed temporarily (4xx, dropped
connection) after its automatic retries ran out. Permanent failures (5xx),
in-doubt recipients and everyone already sent are never re-queued. A finished
campaign runs again for those recipients; workers pick them up.`,
		Example: `  tidings retry altea-reregistration --env production`,
		Args:    argsExact(1, "one campaign name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, e, err := a.openStore(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer s.Client().Close()
			n, err := s.Retry(cmd.Context(), args[0], actor(e))
			if err != nil {
				return storeError(err)
			}
			fmt.Fprintf(a.stdout, "Re-queued %d temporary failures of %s.\n", n, args[0])
			return nil
		},
	}
	c.Flags().StringVar(&env, "env", "", "environment of the campaign (required)")
	return c
}
