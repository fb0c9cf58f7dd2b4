package cli

import (
	"errors"
	"fmt"
	"io"
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
	journal  string
}

func (a *app) cmdReport() *cobra.Command {
	var o reportOptions
	c := &cobra.Command{
		Use:   "report CAMPAIGN (--env ENV | --journal PATH)",
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
recipients.

--journal PATH reads the workers' delivery journals instead of Redis (a
journal directory, a campaign's directory in it, or one .jsonl file; no
--env, no Redis needed): the report of a campaign whose Redis state was
lost. One row per recipient the journals mention (id, email, lang, outcome,
code, at, attempts, run, worker); a delivery (sent, then in-doubt) wins over
any later line of the same recipient. Recipients never attempted are not in
it: only Redis knew them.`,
		Example: `  tidings report altea-reregistration --env production > outcomes.csv
  tidings report altea-reregistration --env production --outcome failed,in-doubt
  tidings report altea-reregistration --env production --format json --out report.json
  tidings report altea-reregistration --journal /var/lib/tidings/production/journal`,
		Args: argsExact(1, "one campaign name"),
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
			w := a.stdout
			if o.file != "" {
				f, err := os.Create(o.file)
				if err != nil {
					return configError(fmt.Errorf("create report file: %w", err))
				}
				defer f.Close()
				w = f
			}
			ro := report.Options{Format: o.out.format, Outcomes: outcomes}
			if o.journal != "" {
				if err := a.journalReport(args[0], o.journal, w, ro); err != nil {
					return err
				}
			} else {
				s, e, err := a.openStore(cmd.Context(), o.env)
				if err != nil {
					return err
				}
				defer s.Client().Close()
				if err := report.Write(cmd.Context(), s, args[0], w, ro); err != nil {
					return storeError(err, e.Name)
				}
			}
			if o.file != "" {
				fmt.Fprintf(a.stderr, "report written to %s\n", absPath(o.file))
			}
			return nil
		},
	}
	c.Flags().StringVar(&o.env, "env", "", "environment of the campaign")
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
	var nj *report.NoJournalError
	switch {
	case errors.As(err, &nj):
		return configError(fmt.Errorf("%w: give the journal directory of the campaign's workers (journal.dir, e.g. <state_dir>/journal)", err))
	case err != nil:
		return configError(err)
	}
	for _, f := range j.Truncated {
		fmt.Fprintf(a.stderr, "tidings: warning: %s ends with an incomplete line (its worker died while writing it); every complete line was read\n", f)
	}
	fmt.Fprintf(a.stderr, "read %d journal file(s) of run(s) %s: %d recipients (sent %d, in-doubt %d)\n",
		len(j.Files), strings.Join(j.Runs, ", "), len(j.Rows), j.Counts["sent"], j.Counts["in-doubt"])
	return report.WriteJournal(j, w, o)
}
