// Package cli holds every tidings command. It is the only package that reads
// flags, files and environment variables, the one that words errors for
// people, and the one place where errors become exit codes.
//
// Each command is flags -> options -> run -> print: it parses its flags
// into an options struct, calls a use-case package (launch, rehearsal,
// testsend, doctor, report, check, preview, console, workerproc, ...) that
// a test can call without cobra, and prints the result. The help prose of
// each command is in help/NAME.txt.
package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tidings-mail/tidings/internal/buildinfo"
	"github.com/tidings-mail/tidings/internal/cpuprofile"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/loglevel"
	"github.com/tidings-mail/tidings/internal/redisconn"
)

// Main runs the tidings command line with args and returns the exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, args, stdin, stdout, stderr, os.Getenv, os.Environ())
}

// run is Main with the environment (its lookup, and its KEY=VALUE list)
// injected, so that tests can run in parallel, each with its own TIDINGS_*
// variables.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, environ []string) int {
	redisconn.QuietLogs()
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, environ: environ, stopProfile: func() {}}
	root := a.root()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	a.stopProfile()
	return exitCode(redisconn.Refused(a.requiredFlags(cmd, err), a.env), stderr) // a refusal names the last environment loaded
}

// app carries what every command shares: streams, the environment lookup,
// the config file (--config) and the log level (--log-level).
type app struct {
	stdin                io.Reader
	stdout, stderr       io.Writer
	getenv               func(string) string
	environ              []string // KEY=VALUE: a TIDINGS_* variable tidings does not read is warned of
	configPath, logLevel string
	cpuProfile           string                   // --cpuprofile (hidden): for performance work
	memProfile           string                   // --memprofile (hidden): for performance work
	env                  *environment.Environment // the last loaded (loadEnv)
	stopProfile          func()                   // ends the profile
}

// logger logs to stderr at --log-level, but never below min unless
// --log-level asks for debug: in-process workers whose progress the
// command reports itself log warnings and errors only.
func (a *app) logger(min slog.Level) *slog.Logger {
	lvl, _ := loglevel.Level(a.logLevel, min) // checked before any command runs
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: lvl}))
}

func (a *app) root() *cobra.Command {
	root := withHelp(&cobra.Command{
		Use:           "tidings",
		Short:         "Send one notification email to each user, in their own language, in controlled batches",
		Version:       buildinfo.String(),
		SilenceErrors: true,
		SilenceUsage:  true,
	})
	root.SetVersionTemplate("tidings {{.Version}}\n")
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "environments config file (default $TIDINGS_CONFIG, else ./tidings.yaml if present)")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&a.cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file (for performance work)")
	root.PersistentFlags().StringVar(&a.memProfile, "memprofile", "", "write a heap profile at the command's end to this file (for performance work)")
	_ = root.PersistentFlags().MarkHidden("cpuprofile")
	_ = root.PersistentFlags().MarkHidden("memprofile")
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		if _, err := loglevel.Level(a.logLevel, slog.LevelInfo); err != nil {
			return usageError(c, fmt.Errorf("--log-level: %w", err))
		}
		for _, u := range environment.UnknownVariables(a.environ, "TIDINGS_CONFIG") { // once: before the command runs
			a.logger(slog.LevelInfo).Warn("unknown environment variable, ignored", "variable", u.Name, "closest", cmp.Or(u.Closest, "none (tidings help environments lists them)"))
		}
		var err error
		if a.stopProfile, err = cpuprofile.Start(a.cpuProfile, a.memProfile); err != nil {
			return configError(err)
		}
		return nil
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError(c, err) })
	root.AddCommand(a.cmdDemo(), a.cmdCheck(), a.cmdPreview(), a.cmdPlan(), a.cmdSend(), a.cmdWorker(), a.cmdStatus(),
		a.cmdReport(), a.cmdTestSend(), a.cmdDoctor(), a.cmdRehearse(), a.cmdConsole(), a.cmdFree())
	root.AddCommand(a.cmdControls()...)
	root.AddCommand(&cobra.Command{ // a help topic: tidings help environments
		Use:   "environments",
		Short: "How environments are configured: config file and TIDINGS_* variables",
		Long:  environment.Reference(),
	}, withHelp(&cobra.Command{
		Use:   "version",
		Short: "Print the version and the commit tidings was built from (also: tidings --version)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(a.stdout, "tidings "+cmd.Root().Version)
			return nil
		},
	}))
	a.completions(root)
	root.InitDefaultHelpCmd() // then: `tidings help NOSUCH` is a usage error (exit 2), not a usage text with exit 0
	help, _, _ := root.Find([]string{"help"})
	help.Example = "  tidings help send\n  tidings help environments"
	help.Args = func(c *cobra.Command, args []string) error {
		if t, _, err := root.Find(args); err != nil || t == nil {
			return usageError(root, fmt.Errorf("%q is no command or help topic of tidings", strings.Join(args, " ")))
		}
		return nil
	}
	return root
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
	var msg []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if req := f.Annotations[cobra.BashCompOneRequiredFlag]; len(req) == 0 || req[0] != "true" || f.Changed {
			return
		}
		m := fmt.Sprintf("--%s is required: %s", f.Name, f.Usage)
		if f.Name == "env" {
			m = a.envRequired()
		}
		msg = append(msg, m)
	})
	if len(msg) == 0 {
		return err
	}
	return usageError(cmd, errors.New(strings.Join(msg, "; ")))
}

// envRequired says that --env is missing, and which environments the
// config file has.
func (a *app) envRequired() string {
	m := "--env is required: name the environment to work in"
	if names := a.envNames(); len(names) > 0 {
		m += " (the config file has " + strings.Join(names, ", ") + ")"
	}
	return m
}

// output is the one machine-output convention of every command that has
// one (plan, status, report, doctor, check): --format text|json (csv|json
// for report), and --json, an alias of --format json. JSON is one object
// per line; its schema is documented in docs/cli.md.
type output struct {
	format string
	json   bool
}

// addOutput adds --format (default def, one of allowed) and --json to c;
// when c runs, o.format is the format chosen (a disagreement or an unknown
// format is a usage error).
func addOutput(c *cobra.Command, o *output, def string, allowed ...string) {
	c.Flags().StringVar(&o.format, "format", def, "output format: "+strings.Join(allowed, " or "))
	c.Flags().BoolVar(&o.json, "json", false, "print JSON (the same as --format json)")
	c.PreRunE = func(*cobra.Command, []string) error {
		switch {
		case o.json && o.format != def && o.format != "json":
			return configError(fmt.Errorf("--json and --format %s disagree: give one of them", o.format))
		case o.json:
			o.format = "json"
		case !slices.Contains(allowed, o.format):
			return configError(fmt.Errorf("--format %q: use %s", o.format, strings.Join(allowed, " or ")))
		}
		return nil
	}
}

// print writes v as one line of JSON when the format is json; otherwise
// text writes it.
func (o *output) print(w io.Writer, v any, text func() error) error {
	if o.format == "json" {
		return writeJSON(w, v)
	}
	return text()
}

// writeJSON writes v as one line of JSON.
func writeJSON(w io.Writer, v any) error {
	if err := json.NewEncoder(w).Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}
