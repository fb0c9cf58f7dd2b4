package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/report"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/userfile"
)

type reportOptions struct {
	env      string
	out      output
	outcomes string
	file     string
	journal  []string
}

func (a *app) cmdReport() *cobra.Command {
	var o reportOptions
	c := withHelp(&cobra.Command{
		Use:   "report CAMPAIGN (--env ENV | --journal PATH)",
		Short: "Every recipient's outcome, as CSV or JSON",
		Args:  argsExact(1, "one campaign name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			outcomes, err := report.ParseOutcomes(o.outcomes)
			var oe *report.OutcomeError
			if errors.As(err, &oe) {
				return configError(fmt.Errorf("--outcome %q: not an outcome; use %s", oe.Outcome, strings.Join(store.Outcomes, ", ")))
			}
			switch {
			case o.env == "" && len(o.journal) == 0:
				return usageError(cmd, errors.New(a.envRequired()+"; or give --journal PATH to read the campaign's delivery journals without Redis"))
			case o.env != "" && len(o.journal) != 0:
				return usageError(cmd, errors.New("give --env (the campaign in Redis) or --journal (its delivery journals), not both"))
			}
			ro := report.Options{Format: o.out.format, Outcomes: outcomes}
			write := func(w io.Writer) error {
				if len(o.journal) != 0 {
					return a.journalReport(args[0], o.journal, w, ro)
				}
				return a.withStore(cmd.Context(), o.env, func(s *store.Store, e *environment.Environment) error {
					return storeError(nextstep.ReportError(report.Write(cmd.Context(), s, args[0], w, ro), args[0], e.Name), e.Name, nextstep.FilesIn(e.StateDir))
				})
			}
			if o.file == "" {
				return write(a.stdout)
			}
			// A failed report leaves the file --out names as it was
			// (report.WriteFile).
			if err := report.WriteFile(cmd.Context(), o.file, write); errors.As(err, new(*userfile.Error)) {
				return fmt.Errorf("--out %w", err) // classify: exit 2, or 3 for a full disk
			} else if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "report written to %s\n", launch.Abs(o.file))
			return nil
		},
	})
	addEnv(c, &o.env, "environment of the campaign", false)
	c.Flags().StringArrayVar(&o.journal, "journal", nil, "read the delivery journals under this path instead of Redis; repeatable (each machine's journal directory)")
	c.Flags().StringVar(&o.outcomes, "outcome", "", "only these outcomes, comma-separated (e.g. failed,in-doubt)")
	c.Flags().StringVar(&o.file, "out", "", "write to this file instead of standard output")
	addOutput(c, &o.out, "csv", "csv", "json")
	return c
}

// journalReport writes the report of campaign c from the delivery journals
// under paths, and says on stderr what it read.
func (a *app) journalReport(c string, paths []string, w io.Writer, o report.Options) error {
	j, err := report.ReadJournals(paths, c)
	switch {
	case errors.As(err, new(*report.NoJournalError)):
		return configError(fmt.Errorf("%w: give the journal directory of the campaign's workers (journal.dir, e.g. <state_dir>/journal)", err))
	case err != nil:
		return configError(err)
	}
	a.warnTruncated(j.Truncated)
	fmt.Fprint(a.stderr, report.Summary(j))
	return report.WriteJournal(j, w, o)
}
