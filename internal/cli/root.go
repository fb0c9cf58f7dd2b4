package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tidings-mail/tidings/internal/buildinfo"
	"github.com/tidings-mail/tidings/internal/environment"
)

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "tidings",
		Short: "Send one notification email to each user, in their own language, in controlled batches",
		Long: `tidings sends one notification email to each of many users, each in their own
language, in controlled batches that on-call can pause, and refuses to send
anyone a message in a language that is not theirs.

Start with:  tidings demo
Exit codes:  0 success; 1 problems found (refusals, invalid rows, incomplete
             locales, failed sends); 2 usage or configuration error;
             3 infrastructure unreachable (Redis, SMTP).
Completion:  tidings completion bash|zsh|fish|powershell --help`,
		Version:       buildinfo.String(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate("tidings {{.Version}}\n")
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "environments config file (default $TIDINGS_CONFIG, else ./tidings.yaml if present)")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError(c, err)
	})
	root.AddCommand(a.cmdDemo(), a.cmdCheck(), a.cmdPreview(), a.cmdPlan(), a.cmdSend(), a.cmdWorker(), a.cmdStatus(),
		a.cmdReport(), a.cmdTestSend(), a.cmdDoctor(), a.cmdRehearse(), a.cmdConsole(), a.cmdVersion(), a.cmdEnvironments())
	root.AddCommand(a.cmdControls()...)
	a.completions(root)
	return root
}

// cmdEnvironments is a help topic: `tidings help environments`.
func (a *app) cmdEnvironments() *cobra.Command {
	return &cobra.Command{
		Use:   "environments",
		Short: "How environments are configured: config file and TIDINGS_* variables",
		Long:  environment.Reference(),
	}
}

func (a *app) cmdVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and the commit tidings was built from (also: tidings --version)",
		Long: `version prints the module version of tidings and the version control commit
and time it was built from, as Go recorded them in the binary. A binary built
outside a module says "devel"; one built without version control information
(go build -buildvcs=false) says so instead of a commit.`,
		Example: `  tidings version
  tidings --version`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(a.stdout, "tidings "+cmd.Root().Version)
			return nil
		},
	}
}

// requiredFlags words cobra's error for a required flag that is missing
// (its own says only `required flag(s) "env" not set`): what the flag is
// for and, for --env, the environments of the config file. Any other error
// is returned as it is.
func (a *app) requiredFlags(cmd *cobra.Command, err error) error {
	var ee *exitError
	if err == nil || cmd == nil || errors.As(err, &ee) {
		return err
	}
	var missing []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if req := f.Annotations[cobra.BashCompOneRequiredFlag]; len(req) > 0 && req[0] == "true" && !f.Changed {
			missing = append(missing, f.Name)
		}
	})
	if len(missing) == 0 {
		return err
	}
	var msg []string
	for _, name := range missing {
		m := fmt.Sprintf("--%s is required: %s", name, cmd.Flags().Lookup(name).Usage)
		if name == "env" {
			m = "--env is required: name the environment to work in"
			if names := a.envNames(); len(names) > 0 {
				m += " (the config file has " + strings.Join(names, ", ") + ")"
			}
		}
		msg = append(msg, m)
	}
	return usageError(cmd, errors.New(strings.Join(msg, "; ")))
}
