package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes, as documented in the README and `tidings --help`.
const (
	exitOK       = 0
	exitProblems = 1
	exitUsage    = 2
	exitInfra    = 3
)

// exitError attaches an exit code to an error. It is the only way a command
// chooses its exit code; exitCode is the only place codes are decided.
type exitError struct {
	code int
	err  error
	// quiet: the command already printed everything the user needs.
	quiet bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// problems reports that the command ran and found problems (exit 1). The
// message was already printed by the command.
func problems(format string, args ...any) error {
	return &exitError{code: exitProblems, err: fmt.Errorf(format, args...), quiet: true}
}

// problemsErr is problems with a message that still has to be printed.
func problemsErr(err error) error { return &exitError{code: exitProblems, err: err} }

// configError is a usage or configuration error (exit 2).
func configError(err error) error { return &exitError{code: exitUsage, err: err} }

// infraError reports unreachable infrastructure (exit 3).
func infraError(err error) error { return &exitError{code: exitInfra, err: err} }

func usageError(c *cobra.Command, err error) error {
	return &exitError{code: exitUsage, err: fmt.Errorf("%w\nRun '%s --help' for usage.", err, c.CommandPath())}
}

// exitCode maps err to an exit code and prints it to stderr. Errors without
// an exitError (cobra's own: unknown command, bad arguments) are usage
// errors.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	code := exitUsage
	quiet := false
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		code, quiet = ee.code, ee.quiet
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "tidings: interrupted")
		return 130
	case isInfra(err):
		code = exitInfra
	}
	if !quiet {
		fmt.Fprintf(stderr, "tidings: %s\n", err)
	}
	return code
}

// isInfra reports whether err comes from a network failure to reach a
// server (Redis, SMTP).
func isInfra(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EHOSTUNREACH)
}

// argsExact requires exactly n positional arguments (what names them); a
// mismatch is a usage error (exit 2) with a hint.
func argsExact(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError(c, fmt.Errorf("%s: expected %s", c.Name(), what))
		}
		return nil
	}
}

// classify turns an error from a feature package into one with an exit code:
// network failures are infrastructure errors, everything else a
// configuration or input error the user must fix.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	if isInfra(err) {
		return infraError(err)
	}
	return configError(err)
}
