package cli

import "github.com/spf13/cobra"

// commands lists every subcommand, in the order `tidings --help` shows them.
func (a *app) commands() []*cobra.Command {
	return []*cobra.Command{
		a.cmdDemo(),
		a.cmdCheck(),
		a.cmdPreview(),
		a.cmdPlan(),
		a.cmdSend(),
		a.cmdWorker(),
		a.cmdStatus(),
		a.cmdPause(),
		a.cmdResume(),
		a.cmdApprove(),
		a.cmdCancel(),
		a.cmdReport(),
		a.cmdRetry(),
		a.cmdTestSend(),
		a.cmdDoctor(),
		a.cmdRehearse(),
	}
}
