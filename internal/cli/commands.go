package cli

import (
	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/environment"
)

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
		a.cmdConsole(),
		a.cmdEnvironments(),
	}
}

// cmdEnvironments is a help topic: `tidings help environments`.
func (a *app) cmdEnvironments() *cobra.Command {
	return &cobra.Command{
		Use:   "environments",
		Short: "How environments are configured: config file and TIDINGS_* variables",
		Long:  environment.Reference(),
	}
}
