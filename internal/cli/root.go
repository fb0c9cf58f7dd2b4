package cli

import (
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
)

// app carries what every command shares: streams, the environment lookup and
// the logger. Tests build one with their own streams and getenv.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// configPath is the --config flag (or TIDINGS_CONFIG).
	configPath string
	logLevel   string
}

// logger logs at --log-level (default info) to stderr.
func (a *app) logger() *slog.Logger { return a.loggerAtLeast(slog.LevelInfo) }

// quietLogger logs warnings and errors only (or more with --log-level
// debug), for in-process workers whose progress the command reports itself.
func (a *app) quietLogger() *slog.Logger { return a.loggerAtLeast(slog.LevelWarn) }

// loggerAtLeast logs at --log-level, but never below min unless --log-level
// asks for debug.
func (a *app) loggerAtLeast(min slog.Level) *slog.Logger {
	lvl := min
	switch a.logLevel {
	case "debug":
		lvl = slog.LevelDebug
	case "warn":
		lvl = max(min, slog.LevelWarn)
	case "error":
		lvl = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: lvl}))
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	if getenv == nil {
		getenv = os.Getenv
	}
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	return a.root()
}

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
             3 infrastructure unreachable (Redis, SMTP).`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "environments config file (default $TIDINGS_CONFIG, else ./tidings.yaml if present)")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError(c, err)
	})
	for _, c := range a.commands() {
		root.AddCommand(c)
	}
	return root
}
