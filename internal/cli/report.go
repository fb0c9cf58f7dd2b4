package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/report"
	"github.com/tidings-mail/tidings/internal/store"
)

type reportOptions struct {
	env      string
	out      output
	outcomes string
	file     string
	journal  string
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
			case o.env == "" && o.journal == "":
				return usageError(cmd, errors.New(a.envRequired()+"; or give --journal PATH to read the campaign's delivery journals without Redis"))
			case o.env != "" && o.journal != "":
				return usageError(cmd, errors.New("give --env (the campaign in Redis) or --journal (its delivery journals), not both"))
			}
			// Into a file beside --out, renamed over it once complete: a
			// report that fails (Redis away, no journal) never empties the
			// one already there, which may be the only list of who was sent.
			w := a.stdout
			var tmp *os.File
			if o.file != "" {
				if tmp, err = os.CreateTemp(filepath.Dir(absPath(o.file)), filepath.Base(o.file)+".*.tmp"); err != nil {
					return configError(fmt.Errorf("create report file: %w", err))
				}
				defer os.Remove(tmp.Name()) // after the rename: nothing
				defer tmp.Close()
				w = tmp
			}
			ro := report.Options{Format: o.out.format, Outcomes: outcomes}
			if o.journal != "" {
				err = a.journalReport(args[0], o.journal, w, ro)
			} else {
				err = a.withStore(cmd.Context(), o.env, func(s *store.Store, e *environment.Environment) error {
					return storeError(report.Write(cmd.Context(), s, args[0], w, ro), e.Name)
				})
			}
			if err != nil || tmp == nil {
				return err
			}
			if err = tmp.Close(); err == nil {
				err = os.Rename(tmp.Name(), o.file)
			}
			if err != nil {
				return configError(fmt.Errorf("write report file: %w", err))
			}
			fmt.Fprintf(a.stderr, "report written to %s\n", absPath(o.file))
			return nil
		},
	})
	addEnv(c, &o.env, "environment of the campaign", false)
	c.Flags().StringVar(&o.journal, "journal", "", "read the delivery journals under this path instead of Redis")
	c.Flags().StringVar(&o.outcomes, "outcome", "", "only these outcomes, comma-separated (e.g. failed,in-doubt)")
	c.Flags().StringVar(&o.file, "out", "", "write to this file instead of standard output")
	addOutput(c, &o.out, "csv", "csv", "json")
	return c
}

// journalReport writes the report of campaign c from the delivery journals
// under path, and says on stderr what it read.
func (a *app) journalReport(c, path string, w io.Writer, o report.Options) error {
	j, err := report.ReadJournal(path, c)
	switch {
	case errors.As(err, new(*report.NoJournalError)):
		return configError(fmt.Errorf("%w: give the journal directory of the campaign's workers (journal.dir, e.g. <state_dir>/journal)", err))
	case err != nil:
		return configError(err)
	}
	a.warnTruncated(j.Truncated)
	fmt.Fprintf(a.stderr, "read %d journal file(s) of run(s) %s: %d recipients (sent %d, in-doubt %d)\n",
		len(j.Files), strings.Join(j.Runs, ", "), len(j.Rows), j.Counts["sent"], j.Counts["in-doubt"])
	return report.WriteJournal(j, w, o)
}
