package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/report"
	"github.com/tidings-mail/tidings/internal/store"
)

type reportOptions struct {
	env      string
	out      output
	outcomes string
	file     string
}

func (a *app) cmdReport() *cobra.Command {
	var o reportOptions
	c := &cobra.Command{
		Use:   "report CAMPAIGN --env ENV",
		Short: "Every recipient's outcome, as CSV or JSON",
		Long: `report lists every recipient row of a campaign with its outcome: sent,
refused, invalid, failed, skipped, cancelled, pending or in-doubt (the SMTP
server may have accepted it just before a worker crashed; it is never re-sent
automatically). Columns: line, id, email, locale (as requested), lang (the
matched catalog language), outcome, code (SMTP code or refusal code),
response (SMTP response or reason), at (RFC 3339), attempts, batch (-1 for
rows rejected before staging).

--format json (or --json) writes one object: campaign, state, counts, audit
(every pause, resume, approve, cancel with who, where, when and why) and
recipients.`,
		Example: `  tidings report altea-reregistration --env production > outcomes.csv
  tidings report altea-reregistration --env production --outcome failed,in-doubt
  tidings report altea-reregistration --env production --format json --out report.json`,
		Args: argsExact(1, "one campaign name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			outcomes, err := report.ParseOutcomes(o.outcomes)
			var oe *report.OutcomeError
			if errors.As(err, &oe) {
				return configError(fmt.Errorf("--outcome %q: not an outcome; use %s", oe.Outcome, strings.Join(store.Outcomes, ", ")))
			}
			s, e, err := a.openStore(cmd.Context(), o.env)
			if err != nil {
				return err
			}
			defer s.Client().Close()
			w := a.stdout
			if o.file != "" {
				f, err := os.Create(o.file)
				if err != nil {
					return configError(fmt.Errorf("create report file: %w", err))
				}
				defer f.Close()
				w = f
			}
			if err := report.Write(cmd.Context(), s, args[0], w, report.Options{Format: o.out.format, Outcomes: outcomes}); err != nil {
				return storeError(err, e.Name)
			}
			if o.file != "" {
				fmt.Fprintf(a.stderr, "report written to %s\n", absPath(o.file))
			}
			return nil
		},
	}
	c.Flags().StringVar(&o.env, "env", "", "environment of the campaign (required)")
	_ = c.MarkFlagRequired("env")
	c.Flags().StringVar(&o.outcomes, "outcome", "", "only these outcomes, comma-separated (e.g. failed,in-doubt)")
	c.Flags().StringVar(&o.file, "out", "", "write to this file instead of standard output")
	addOutput(c, &o.out, "csv", "csv", "json")
	return c
}
