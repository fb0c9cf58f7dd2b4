package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/worker"
)

func (a *app) cmdDoctor() *cobra.Command {
	var env string
	var out output
	c := &cobra.Command{
		Use:   "doctor --env ENV [CAMPAIGN]",
		Short: "Preflight: Redis, persistence, noeviction, SMTP TLS and auth, templates",
		Long: `doctor checks that an environment is fit to send: Redis reachable, persistence
on (AOF or RDB snapshots) and maxmemory-policy noeviction (an evicted ledger
entry could mean a second send), and what the deployment guarantees about
sending at most once (replica acknowledgements, fsync); the SMTP server
reachable, EHLO, STARTTLS as the TLS policy requires, and AUTH when
credentials are configured. With CAMPAIGN it also checks that the campaign's
templates are complete in every catalog language. Each check says PASS, WARN
(passed with a risk, such as mail sent unencrypted) or FAIL, and what to do.
--format json (or --json) prints the checks as one JSON object.

Exit 3 when Redis or SMTP is unreachable, 1 when another check fails.`,
		Example: `  tidings doctor --env production
  tidings doctor --env staging campaigns/altea.yaml
  tidings doctor --env production --json | jq '.checks[] | select(.status != "pass")'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.loadEnv(env)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			checks := append(doctor.Redis(ctx, e), doctor.SMTP(ctx, worker.SMTPConfig(e.SMTP))...)
			incomplete := false
			if len(args) == 1 {
				if b, err := load(args[0]); err != nil {
					checks = append(checks, doctor.Check{Name: "campaign", Status: doctor.Fail, Message: err.Error()})
				} else {
					tc := doctor.Templates(b.Engine)
					n, _ := doctor.Failed(tc)
					incomplete = n > 0
					checks = append(checks, tc...)
				}
			}
			failed, infra := doctor.Failed(checks)
			err = out.print(a.stdout, struct {
				Environment string         `json:"environment"`
				Notes       []string       `json:"notes"`
				Checks      []doctor.Check `json:"checks"`
				Failed      int            `json:"failed"`
			}{e.Name, e.Warnings(), checks, failed}, func() error {
				for _, w := range e.Warnings() {
					fmt.Fprintf(a.stdout, "note: %s\n", w)
				}
				for _, c := range checks {
					fmt.Fprintf(a.stdout, "%s  %-22s %s\n", strings.ToUpper(c.Status), c.Name, c.Message)
				}
				if incomplete {
					fmt.Fprintf(a.stdout, "\nWhere the catalogs are incomplete: tidings check %s\n", args[0])
				}
				printf(a.stdout, failed == 0, "\nAll checks passed.\n")
				return nil
			})
			switch {
			case err != nil:
				return err
			case infra:
				return &exitError{code: exitInfra, err: fmt.Errorf("%d check(s) failed", failed), quiet: true}
			case failed > 0:
				return problems("%d check(s) failed", failed)
			}
			return nil
		},
	}
	c.Flags().StringVar(&env, "env", "", "environment to check (required)")
	_ = c.MarkFlagRequired("env")
	addOutput(c, &out, "text", "text", "json")
	return c
}
