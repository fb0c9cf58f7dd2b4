// Package workerproc runs a worker process of an environment, as `tidings
// worker` does: the worker (package worker) with the environment's
// settings, the notifier beside it (each event is delivered once across
// workers), and, when asked, an endpoint serving its metrics (with the Go
// and process collectors) and its health. It names no command: its errors
// are typed, and the command line words them.
package workerproc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/notify"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/worker"
)

// Options configure a worker process (Run).
type Options struct {
	// Env is the environment whose campaigns the worker processes, and
	// Redis a client of its Redis (the caller closes it).
	Env   *environment.Environment
	Redis redis.UniversalClient
	// Logger receives the worker's and the notifier's logs (default:
	// discard).
	Logger *slog.Logger
	// Concurrency, when positive, replaces the environment's number of
	// chunks in flight (worker.ForEnvironment); above the environment's
	// smtp.connections it is a *ConfigError.
	Concurrency int
	// Templates and Locales, when set, are rendered from instead of the
	// approved snapshot (worker.Config).
	Templates, Locales fs.FS
	// ShutdownTimeout bounds the graceful drain (0: the worker's default;
	// negative is a *ConfigError).
	ShutdownTimeout time.Duration
	// MetricsAddr, when set, is where /metrics and /healthz are served.
	MetricsAddr string
	// NotifyOff, when set, is told why notifications are off (their
	// settings are wrong); the worker runs without them.
	NotifyOff func(error)
}

// ConfigError says that the process could not start as configured: the
// worker refused its settings, or the metrics address cannot be listened
// on.
type ConfigError struct{ Err error }

// Error says what was refused.
func (e *ConfigError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

// CheckConcurrency returns a *ConfigError when n, a number of chunks in
// flight given for a worker of e (Options.Concurrency; 0 is e's), is
// negative or above e's smtp.connections: each chunk in flight holds an
// SMTP connection of its own, and smtp.connections is the most a worker
// opens to the relay.
func CheckConcurrency(e *environment.Environment, n int) error {
	if n < 0 {
		return &ConfigError{Err: fmt.Errorf("concurrency %d: give a positive number of SMTP connections, or none for the environment's", n)}
	}
	if c := e.SMTP.Connections; c > 0 && n > c {
		return &ConfigError{Err: fmt.Errorf("concurrency %d is above smtp.connections of environment %s (%d), the most SMTP connections a worker opens, and each chunk in flight holds one: give at most %d, or raise smtp.connections (TIDINGS_SMTP_CONNECTIONS) if the relay accepts %d connections from one client",
			n, e.Name, c, c, n)}
	}
	return nil
}

// Run runs the worker process until ctx ends, then drains; an ended ctx is
// not an error. Errors: a *ConfigError, or the worker's.
func Run(ctx context.Context, o Options) error {
	if err := CheckConcurrency(o.Env, o.Concurrency); err != nil {
		return err
	}
	if o.ShutdownTimeout < 0 { // 0 is the worker's default
		return &ConfigError{Err: fmt.Errorf("--shutdown-timeout %s: give how long a graceful shutdown may take, e.g. --shutdown-timeout 10s", o.ShutdownTimeout)}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	nc := notify.ForEnvironment(o.Env, store.New(o.Redis))
	nc.Logger = o.Logger
	// The notifier stops when ctx ends (beside the worker's drain) or Run
	// returns, also when the worker never started (the caller closes the
	// Redis client then); Run waits for it, so that a webhook post under
	// way finishes and is recorded (bounded by its timeout) rather than
	// being posted again by another notifier.
	nctx, stopNotify := context.WithCancel(ctx)
	waitNotify, err := notify.Start(nctx, nc)
	if err != nil && o.NotifyOff != nil {
		o.NotifyOff(err)
	}
	defer func() {
		stopNotify()
		waitNotify()
	}()
	reg := prometheus.NewRegistry()
	// The Go runtime's and the process's series carry the environment, as
	// every tidings_ one does (worker.Config.Metrics labels its own).
	prometheus.WrapRegistererWith(prometheus.Labels{"environment": o.Env.Name}, reg).
		MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg := worker.ForEnvironment(o.Env, o.Redis)
	cfg.Logger, cfg.Metrics, cfg.ShutdownTimeout = o.Logger, reg, o.ShutdownTimeout
	if o.Concurrency > 0 {
		cfg.Concurrency = o.Concurrency
	}
	cfg.Templates, cfg.Locales = o.Templates, o.Locales
	w, err := worker.New(cfg)
	if err != nil {
		return &ConfigError{Err: err}
	}
	if o.MetricsAddr != "" {
		m, err := worker.ServeMetrics(o.MetricsAddr, reg, o.Redis, w)
		if err != nil {
			return &ConfigError{Err: fmt.Errorf("metrics address %s: %w", o.MetricsAddr, err)}
		}
		defer m.Close()
		o.Logger.Info("serving metrics", "addr", m.Addr().String(), "paths", "/metrics /healthz")
	}
	if err := w.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
