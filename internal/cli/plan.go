package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/plan"
)

type planOptions struct {
	env        string
	rejects    string
	maxRejects int
}

func (a *app) cmdPlan() *cobra.Command {
	var o planOptions
	c := &cobra.Command{
		Use:   "plan CAMPAIGN",
		Short: "Validate every recipient and show what a send would do; touches no queue",
		Long: `plan reads and validates every recipient row and applies the locale rule and
the environment's allowlist, then shows per-locale counts with the matched
catalog language, the refused and invalid rows with file:line and reason (the
first ones on screen, all of them in the rejects file), the batch plan and an
estimated duration at the campaign's rate. Nothing is queued; Redis and SMTP
are not contacted.

Exit 1 if any row would be refused or is invalid, or the recipients file
has no row at all.`,
		Example: `  tidings plan campaigns/altea.yaml
  tidings plan campaigns/altea.yaml --env staging --rejects /tmp/rejects.csv`,
		Args: argsExact(1, "one campaign file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := a.loadCampaign(args[0])
			if err != nil {
				return err
			}
			envName := o.env
			if envName == "" {
				envName = l.camp.Environment
			}
			env, err := a.loadEnv(envName)
			if err != nil {
				return err
			}
			sum, err := a.runPlan(cmd.Context(), l, env, nil)
			if err != nil {
				return err
			}
			return a.reportPlan(l, sum, o.rejects, o.maxRejects)
		},
	}
	c.Flags().StringVar(&o.env, "env", "", "environment whose allowlist applies (default: the campaign's environment)")
	c.Flags().StringVar(&o.rejects, "rejects", "", "write every refused and invalid row to this CSV file (default CAMPAIGN-NAME.rejects.csv when there are any)")
	c.Flags().IntVar(&o.maxRejects, "show", 20, "how many refused/invalid rows to show on screen")
	return c
}

// runPlan streams the recipients through validation and the locale rule.
func (a *app) runPlan(ctx context.Context, l *loaded, env *environment.Environment, emit func(plan.Accepted) error) (*plan.Summary, error) {
	f, err := l.openRecipients()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if emit == nil {
		emit = func(plan.Accepted) error { return nil }
	}
	sum, err := plan.Run(ctx, plan.Input{
		Campaign:       l.camp,
		Engine:         l.engine,
		Env:            env,
		Recipients:     f,
		RecipientsName: l.recipientsPath(),
	}, emit)
	if errors.Is(err, plan.ErrNoRows) {
		return nil, problemsErr(err)
	}
	if err != nil {
		return nil, classify(err)
	}
	return sum, nil
}

// reportPlan prints the plan and writes the rejects file; it returns a
// problems error when any row is refused or invalid.
func (a *app) reportPlan(l *loaded, sum *plan.Summary, rejects string, show int) error {
	sum.WriteText(a.stdout, show)
	if sum.Refused+sum.Invalid == 0 {
		return nil
	}
	if rejects == "" {
		rejects = l.camp.Name + ".rejects.csv"
	}
	if err := writeRejects(sum, rejects); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\nAll %d refused and %d invalid rows: %s\n", sum.Refused, sum.Invalid, absPath(rejects))
	return problems("%d refused, %d invalid", sum.Refused, sum.Invalid)
}

func writeRejects(sum *plan.Summary, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return configError(fmt.Errorf("write rejects file: %w", err))
	}
	if err := sum.WriteRejectsCSV(f); err != nil {
		f.Close()
		return configError(fmt.Errorf("write rejects file %s: %w", path, err))
	}
	if err := f.Close(); err != nil {
		return configError(fmt.Errorf("write rejects file %s: %w", path, err))
	}
	return nil
}
