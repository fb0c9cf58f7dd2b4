package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/plan"
)

type planOptions struct {
	env        string
	rejects    string
	maxRejects int
	out        output
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
are not contacted. --format json prints the whole plan as one JSON object.

Exit 1 if any row would be refused or is invalid, or the recipients file
has no row at all.`,
		Example: `  tidings plan campaigns/altea.yaml
  tidings plan campaigns/altea.yaml --env staging --rejects /tmp/rejects.csv
  tidings plan campaigns/altea.yaml --format json | jq .per_locale`,
		Args: argsExact(1, "one campaign file"),
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
			if sum.Refused+sum.Invalid == 0 {
				return nil
			}
			path, err := writeRejects(b, sum, o.rejects)
			if err != nil {
				return err
			}
			w := a.stdout
			if o.out.format == "json" {
				w = a.stderr
			}
			fmt.Fprintf(w, "\nAll %d refused and %d invalid rows: %s\n", sum.Refused, sum.Invalid, absPath(path))
			return problems("%d refused, %d invalid", sum.Refused, sum.Invalid)
		},
	}
	c.Flags().StringVar(&o.env, "env", "", "environment whose allowlist applies (default: the campaign's environment)")
	c.Flags().StringVar(&o.rejects, "rejects", "", "write every refused and invalid row to this CSV file (default CAMPAIGN-NAME.rejects.csv when there are any)")
	c.Flags().IntVar(&o.maxRejects, "show", 20, "how many refused/invalid rows to show on screen")
	addOutput(c, &o.out, "text", "text", "json")
	return c
}

// plan reads and checks every recipient of b for environment env.
func (a *app) plan(ctx context.Context, b *bundle.Bundle, env *environment.Environment, excl *launch.Delivered) (*launch.Planned, error) {
	who, host := actorName()
	p, err := launch.Plan(ctx, b.LaunchInput(env, who, host, excl))
	switch {
	case errors.Is(err, plan.ErrNoRows):
		return nil, problemsErr(err)
	case errors.Is(err, fs.ErrNotExist):
		return nil, configError(fmt.Errorf("%s: recipients file %s does not exist: fix 'recipients:' in the campaign file (paths are relative to it)", b.File, b.RecipientsPath()))
	case err != nil:
		return nil, classify(err)
	}
	return p, nil
}

// writeRejects writes every row not sent to path (default
// CAMPAIGN-NAME.rejects.csv) and returns the path.
func writeRejects(b *bundle.Bundle, sum *plan.Summary, path string) (string, error) {
	if path == "" {
		path = b.Campaign.Name + ".rejects.csv"
	}
	f, err := os.Create(path)
	if err != nil {
		return "", configError(fmt.Errorf("write rejects file: %w", err))
	}
	err = sum.WriteRejectsCSV(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", configError(fmt.Errorf("write rejects file %s: %w", path, err))
	}
	return path, nil
}
