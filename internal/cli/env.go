package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/userfile"
)

// configFile returns the environments config file's path and content: the
// --config flag, else $TIDINGS_CONFIG, else ./tidings.yaml when it exists
// (empty when it does not).
func (a *app) configFile() (string, []byte, error) {
	path, from := a.configPath, "--config"
	if path == "" {
		path, from = a.getenv("TIDINGS_CONFIG"), "TIDINGS_CONFIG"
	}
	explicit := path != ""
	if !explicit {
		path, from = "tidings.yaml", "the default path"
	}
	data, err := userfile.ReadOnce(path) // a pipe (<(...)) read as a stream, never waited on for a writer
	switch {
	case !explicit && errors.Is(err, fs.ErrNotExist):
		return "", nil, nil
	case err != nil:
		return "", nil, configError(fmt.Errorf("read config file: %w (from %s): give the path of your environments file (README, \"Configuration reference\")", err, from))
	}
	return path, data, nil
}

// addEnv adds --env to c, saying what it is for (usage); required makes
// it required.
func addEnv(c *cobra.Command, env *string, usage string, required bool) {
	c.Flags().StringVar(env, "env", "", usage)
	if required {
		_ = c.MarkFlagRequired("env")
	}
}

// loadEnv loads environment name from the config file and TIDINGS_*
// variables, with the command's flags over both.
func (a *app) loadEnv(name string, flags ...environment.Flag) (*environment.Environment, error) {
	if name == "" {
		return nil, configError(errors.New("no environment given: pass --env NAME (an environment from the config file, e.g. staging)"))
	}
	path, data, err := a.configFile()
	if err != nil {
		return nil, err
	}
	env, err := environment.Load(data, path, name, a.getenv, flags...)
	if err != nil {
		return nil, configError(err)
	}
	a.env = env
	return env, nil
}

// envNames lists the config file's environments (none when it cannot be
// read).
func (a *app) envNames() []string {
	path, data, _ := a.configFile()
	names, _ := environment.Names(data, path)
	return names
}

// loadCampaign loads a campaign file with everything it points to, and
// environment envName (default: the one the campaign is pinned to).
func (a *app) loadCampaign(file, envName string) (*bundle.Bundle, *environment.Environment, error) {
	b, err := load(file)
	if err != nil {
		return nil, nil, err
	}
	e, err := a.loadEnv(cmp.Or(envName, b.Campaign.Environment))
	if err != nil && envName == "" { // the campaign file chose it: say so
		err = fmt.Errorf("%s pins 'environment: %s': %w", file, b.Campaign.Environment, err)
	}
	b.UseEnv(e)
	return b, e, err
}

// load loads a campaign file with everything it points to.
func load(path string) (*bundle.Bundle, error) {
	b, err := bundle.Load(path)
	return b, bundleError(err)
}

// bundleError words an error of package bundle; each is a configuration
// error (exit 2).
func bundleError(err error) error {
	var nf *bundle.NotFoundError
	var re *bundle.RecipientsError
	switch {
	case errors.As(err, &nf):
		return configError(fmt.Errorf("campaign file %s does not exist: give the path to a campaign YAML file (see README, \"Campaign file\")", nf.File))
	case errors.As(err, &re) && re.InFile(): // its error says how to fix the file
		return configError(fmt.Errorf("%s: recipients file: %w", re.File, re.Err))
	case errors.As(err, &re):
		return configError(fmt.Errorf("%s: recipients file: %w (fix 'recipients:' in the campaign file; paths are relative to it)", re.File, re.Err))
	}
	return classify(err)
}

// actorName names who runs a command, for the audit log.
func actorName() (who, host string) {
	who = "unknown"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	host, _ = os.Hostname()
	return who, host
}

// storeOf connects to the store of environment e (redisconn.Open).
func (a *app) storeOf(ctx context.Context, e *environment.Environment) (*store.Store, error) {
	st, err := redisconn.Open(ctx, e)
	if err == nil { // a campaign Redis does not have is lost only if it was started
		st.RecordsStarts(func(c string) bool { return launch.Started(e.StateDir, e.Name, c) })
	}
	return st, redisError(err)
}

// redisError words an error of redisconn: an unreachable Redis, or replica
// acknowledgements that could not be resolved, is infrastructure (exit 3);
// classify words the rest (wrong Redis settings: exit 2).
func redisError(err error) error {
	var ue *redisconn.UnreachableError
	switch {
	case errors.As(err, &ue):
		return infraError(fmt.Errorf("%w; %s, then run 'tidings doctor --env %s'", err, ue.Advice(), ue.Env))
	case errors.As(err, new(*redisconn.ReplicaAcksError)):
		return infraError(err)
	}
	return err
}

// withStore loads environment envName, connects to its store, and calls f
// with both; the store's client is closed when f returns.
func (a *app) withStore(ctx context.Context, envName string, f func(*store.Store, *environment.Environment) error) error {
	e, err := a.loadEnv(envName)
	if err != nil {
		return err
	}
	st, err := a.storeOf(ctx, e)
	if err != nil {
		return err
	}
	defer st.Client().Close()
	err = f(st, e)
	if nf := (*store.NotFoundError)(nil); errors.As(err, &nf) && nf.Started { // with the command its record keeps
		return configError(errors.New(nextstep.LostKept(e.StateDir, e.Name, nf)))
	}
	return err
}

// actor is who runs a command in environment e, for the audit log.
func actor(e *environment.Environment) store.Actor {
	who, host := actorName()
	return store.Actor{Who: who, Host: host, Env: e.Name}
}
