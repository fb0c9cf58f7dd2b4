package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/userfile"
	"github.com/tidings-mail/tidings/internal/workerproc"
)

// Exit codes, as documented in the README and `tidings --help`.
const (
	exitOK       = 0
	exitProblems = 1
	exitUsage    = 2
	exitInfra    = 3
)

// exitError attaches an exit code to an error: the only way a command
// chooses its exit code. quiet: the command already printed everything the
// user needs.
type exitError struct {
	code  int
	err   error
	quiet bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// problems reports that the command ran and found problems (exit 1), which
// it already printed.
func problems(format string, args ...any) error {
	return &exitError{code: exitProblems, err: fmt.Errorf(format, args...), quiet: true}
}

// problemsErr (exit 1), configError (a usage or configuration error, exit
// 2) and infraError (unreachable infrastructure, exit 3) carry a message
// still to print.
func problemsErr(err error) error { return &exitError{code: exitProblems, err: err} }
func configError(err error) error { return &exitError{code: exitUsage, err: err} }
func infraError(err error) error  { return &exitError{code: exitInfra, err: err} }

func usageError(c *cobra.Command, err error) error {
	return configError(fmt.Errorf("%w\nRun '%s --help' for usage.", err, c.CommandPath()))
}

// exitCode is the one place where errors become exit codes (classify's),
// printed to stderr; an interrupted command exits 130.
func exitCode(err error, stderr io.Writer) int {
	var ee *exitError
	switch err = classify(err); {
	case err == nil:
		return exitOK
	case !errors.As(err, &ee):
		fmt.Fprintln(stderr, "tidings: interrupted")
		return 130
	case !ee.quiet:
		fmt.Fprintf(stderr, "tidings: %s\n", err)
	}
	return ee.code
}

// classify gives an error without an exit code one: a network failure to
// reach a server (Redis, SMTP) or an error Redis answered with (READONLY,
// NOREPLICAS, CLUSTERDOWN, LOADING, ... during a failover) is
// infrastructure (with advice, redisconn.Explain) unless the environment's
// Redis password or permissions must change, and so is a campaign another
// send is staging (refused for now) or may be staging (a cancel that lost
// its staging lease: store.LeaseLostError), and a file the disk cannot hold now
// (userfile.Error); everything else (cobra's own errors, a path or a
// worker setting or a Sentinel master name no Sentinel monitors too) a
// usage, configuration or input error the user must fix. An interrupted
// command's error is returned as it is.
func classify(err error) error {
	var ee *exitError
	var fe *userfile.Error
	switch {
	case errors.As(err, &fe) && fe.Infrastructure(): // also of an error given a code before (a report's write)
		return infraError(err)
	case err == nil, errors.As(err, &ee), errors.Is(err, context.Canceled):
		return err
	case errors.As(err, &fe), errors.As(err, new(*workerproc.ConfigError)), errors.As(err, new(*redisconn.UnknownMasterError)): // not the network errors they may wrap
		return configError(err)
	case errors.As(err, new(redis.Error)), redisconn.Unreachable(err), errors.As(err, new(*store.BeingStagedError)), errors.As(err, new(*store.LeaseLostError)):
		if err = redisconn.Explain(err); redisconn.IsSettings(err) {
			return configError(err) // a Redis password or permission to fix
		}
		return infraError(err)
	}
	return configError(err)
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
