// Package cli holds every tidings command. It is the only package that reads
// flags, files and environment variables, and the one place where errors
// become exit codes.
package cli

import (
	"context"
	"io"
)

// Main runs the tidings command line with args and returns the exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(ctx, stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return exitCode(err, stderr)
}
