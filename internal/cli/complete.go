package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/redisconn"
)

// completeTimeout bounds how long completing a campaign name may wait for
// Redis: a shell must not hang on an unreachable server.
const completeTimeout = 500 * time.Millisecond

// completions teaches cobra's completion command (tidings completion
// bash|zsh|fish|powershell) our arguments: --env completes the config
// file's environments, a campaign name the campaigns in that
// environment's Redis (when it answers quickly; else nothing), and a
// campaign file the YAML files.
func (a *app) completions(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil && c.Name() == "completion" {
		c.Args = func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil // its help
			}
			return usageError(c, fmt.Errorf("no completion for %q: use bash, zsh, fish or powershell", strings.Join(args, " ")))
		}
		c.RunE, c.Example = func(c *cobra.Command, _ []string) error { return c.Help() }, "  source <(tidings completion bash)\n  tidings completion zsh --help"
	}
	names := map[string]bool{"status": true, "pause": true, "resume": true, "approve": true, "cancel": true, "report": true, "retry": true}
	files := map[string]bool{"plan": true, "send": true, "preview": true, "rehearse": true, "test-send": true, "check": true, "doctor": true}
	for _, c := range root.Commands() {
		if c.Flags().Lookup("env") != nil {
			_ = c.RegisterFlagCompletionFunc("env", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return a.envNames(), cobra.ShellCompDirectiveNoFileComp
			})
		}
		switch {
		case names[c.Name()]:
			c.ValidArgsFunction = a.completeCampaign
		case files[c.Name()]:
			c.ValidArgsFunction = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
			}
		}
	}
}

// completeCampaign lists the campaigns of the environment --env names,
// starting with toComplete; nothing when --env is missing or its Redis does
// not answer within completeTimeout.
func (a *app) completeCampaign(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	none := cobra.ShellCompDirectiveNoFileComp
	envName, _ := cmd.Flags().GetString("env")
	if len(args) > 0 || envName == "" {
		return nil, none
	}
	e, err := a.loadEnv(envName)
	if err != nil {
		return nil, none
	}
	list, err := redisconn.Campaigns(cmd.Context(), e, completeTimeout)
	if err != nil {
		return nil, none
	}
	return slices.DeleteFunc(list, func(n string) bool { return !strings.HasPrefix(n, toComplete) }), none
}
