// Package cli holds every tidings command. It is the only package that reads
// flags, files and environment variables, and the one place where errors
// become exit codes.
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
	root := newRoot(stdin, stdout, stderr, getenv)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return exitCode(err, stderr)
}
