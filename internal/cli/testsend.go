package cli

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/testsend"
	"github.com/tidings-mail/tidings/worker"
)

func (a *app) cmdTestSend() *cobra.Command {
	var env, to string
	c := &cobra.Command{
		Use:   "test-send CAMPAIGN --env ENV --to ADDR",
		Short: "Send one message per covered language to a QA inbox",
		Long: `test-send renders the campaign once per covered catalog language (with one real
recipient of that language from the recipients file where one exists, else
sample data) and sends each to ADDR through the environment's SMTP server,
the subject prefixed with the language, e.g. "[TEST de] ...". Nothing is
queued and no recipient is contacted. Incomplete languages are listed, not
sent.

Exit 1 when a language was skipped (incomplete) or failed, as preview does
for the same campaign; 3 when the SMTP server is unreachable.`,
		Example: `  tidings test-send campaigns/altea.yaml --env staging --to qa@altea.example`,
		Args:    argsExact(1, "one campaign file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, e, err := a.loadCampaign(args[0], env)
			if err != nil {
				return err
			}
			if !e.Allowed(to) {
				return configError(fmt.Errorf("%s is not in the allowlist of environment %s; test messages go only to allowed addresses", to, e.Name))
			}
			res, err := testsend.Run(cmd.Context(), testsend.Config{Bundle: b, SMTP: worker.SMTPConfig(e.SMTP), To: to})
			var ce *testsend.ConnectError
			if errors.As(err, &ce) {
				cause, op := ce.Err, (*net.OpError)(nil)
				if errors.As(cause, &op) {
					cause = op // say once what failed: the network error alone
				}
				return infraError(fmt.Errorf("nothing was sent: the SMTP server of environment %s (%s) is unreachable: %v; check its smtp settings, then run 'tidings doctor --env %s'", e.Name, ce.Server, cause, e.Name))
			}
			if err != nil {
				return bundleError(err)
			}
			for _, l := range res.Languages {
				switch l.Outcome {
				case testsend.Sent:
					fmt.Fprintf(a.stdout, "sent  %-6s %s\n", l.Lang, l.Subject)
				case testsend.Skipped:
					fmt.Fprintf(a.stdout, "skip  %-6s incomplete: lacks %s\n", l.Lang, strings.Join(l.Missing, ", "))
				default:
					fmt.Fprintf(a.stdout, "FAIL  %-6s %v\n", l.Lang, l.Err)
				}
			}
			fmt.Fprintf(a.stdout, "\n%d test messages sent to %s via %s.\n", res.Count[testsend.Sent], to, e.SMTP.Addr())
			var missing []string
			if n := res.Count[testsend.Skipped]; n > 0 {
				missing = append(missing, fmt.Sprintf("%d language(s) skipped as incomplete (see where: tidings check %s)", n, args[0]))
			}
			if n := res.Count[testsend.Failed]; n > 0 {
				missing = append(missing, fmt.Sprintf("%d failed", n))
			}
			if len(missing) > 0 {
				return problemsErr(fmt.Errorf("not every language was tested: %s", strings.Join(missing, "; ")))
			}
			return nil
		},
	}
	c.Flags().StringVar(&env, "env", "", "environment whose SMTP server to use (required)")
	_ = c.MarkFlagRequired("env")
	c.Flags().StringVar(&to, "to", "", "the QA inbox to send the test messages to (required)")
	_ = c.MarkFlagRequired("to")
	return c
}
