// Package cli holds every tidings command. It is the only package that reads
// flags, files and environment variables, the one that words errors for
// people, and the one place where errors become exit codes.
//
// Each command is flags -> options -> run -> print: it parses its flags
// into an options struct, calls a use-case package (launch, rehearsal,
// testsend, doctor, report, check, preview, console, ...) that a test can
// call without cobra, and prints the result.
package cli

import (
	"context"
	"io"
	"log/slog"
	"os"
)

// Main runs the tidings command line with args and returns the exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, args, stdin, stdout, stderr, os.Getenv)
}

// run is Main with the environment lookup injected, so that tests can run
// in parallel, each with its own TIDINGS_* variables.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	root := a.root()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	return exitCode(a.requiredFlags(cmd, err), stderr)
}

// app carries what every command shares: streams, the environment lookup and
// the logger. Tests build one with their own streams and getenv.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// configPath is the --config flag (or TIDINGS_CONFIG).
	configPath, logLevel string
}

// logger logs to stderr at --log-level, but never below min unless
// --log-level asks for debug: in-process workers whose progress the
// command reports itself log warnings and errors only.
func (a *app) logger(min slog.Level) *slog.Logger {
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
