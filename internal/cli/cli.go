// Package cli holds every tidings command. It is the only package that reads
// flags, files and environment variables, the one that words errors for
// people, and the one place where errors become exit codes.
//
// Each command is flags -> options -> run -> print: it parses its flags
// into an options struct, calls a use-case package (launch, rehearsal,
// testsend, doctor, report, check, preview, ...) that a test can call
// without cobra, and prints the result.
package cli

import (
	"context"
	"io"
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
	if a.getenv == nil {
		a.getenv = os.Getenv
	}
	root := a.root()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	return exitCode(a.requiredFlags(cmd, err), stderr)
}
