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
	c := withHelp(&cobra.Command{
		Use:   "test-send CAMPAIGN --env ENV --to ADDR",
		Short: "Send one message per covered language to a QA inbox",
		Args:  argsExact(1, "one campaign file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, e, err := a.loadCampaign(args[0], env)
			if err != nil {
				return err
			}
			res, err := testsend.Run(cmd.Context(), testsend.Config{Bundle: b, Env: e, SMTP: worker.SMTPConfig(e.SMTP), To: to})
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
			res.WriteText(a.stdout)
			fmt.Fprintf(a.stdout, "\n%d test messages sent to %s via %s.\n", res.Count[testsend.Sent], to, e.SMTP.Addr())
			if missing := res.Untested(); len(missing) > 0 {
				return problemsErr(fmt.Errorf("not every language the recipients need was tested: %s (%s)", strings.Join(missing, "; "), res.Advice(args[0], e.Name)))
			}
			return nil
		},
	})
	addEnv(c, &env, "environment whose SMTP server to use (required)", true)
	c.Flags().StringVar(&to, "to", "", "the QA inbox to send the test messages to (required)")
	_ = c.MarkFlagRequired("to")
	return c
}
