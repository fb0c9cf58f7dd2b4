package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/flagvalue"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/workerproc"
)

type workerOptions struct {
	env, metricsAddr, templates, locales string
	concurrency                          int
	shutdown                             time.Duration
}

func (a *app) cmdWorker() *cobra.Command {
	var o workerOptions
	c := withHelp(&cobra.Command{
		Use:   "worker --env ENV",
		Short: "Process every active campaign: render, check, rate-limit, send, record",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.shutdown < 0 { // a usage error before anything connects, as a negative count is
				return usageError(cmd, fmt.Errorf("--shutdown-timeout %s: give how long a graceful shutdown may take, e.g. --shutdown-timeout 10s", o.shutdown))
			}
			return a.runWorker(cmd.Context(), o)
		},
	})
	addEnv(c, &o.env, "environment (required)", true)
	c.Flags().Var(flagvalue.NewCount(&o.concurrency, 0, "0 uses the environment's"), "concurrency", "chunks in flight, each on its own SMTP connection: at most smtp.connections (default: the environment's concurrency, else smtp.connections, else 8)")
	c.Flags().StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus /metrics and /healthz on this address (e.g. :9090)")
	c.Flags().StringVar(&o.templates, "templates", "", "render from this templates directory instead of the approved snapshot (needs --locales)")
	c.Flags().StringVar(&o.locales, "locales", "", "render from this catalogs directory instead of the approved snapshot (needs --templates)")
	c.Flags().DurationVar(&o.shutdown, "shutdown-timeout", 10*time.Second, "how long a graceful shutdown may take")
	return c
}

// runWorker runs a worker process of the environment (workerproc).
func (a *app) runWorker(ctx context.Context, o workerOptions) error {
	e, err := a.loadEnv(o.env, environment.CountFlag("--concurrency", "concurrency", o.concurrency))
	if err != nil {
		return err // before Redis is dialled
	}
	if (o.templates == "") != (o.locales == "") {
		return configError(errors.New("give both --templates and --locales, or neither (to render from the approved snapshot)"))
	}
	rdb, err := redisconn.Dial(ctx, e) // connects and checks that Redis answers
	if err != nil {
		return redisError(err)
	}
	defer rdb.Close()
	p := workerproc.Options{Env: e, Redis: rdb, Logger: a.logger(slog.LevelInfo), ShutdownTimeout: o.shutdown,
		MetricsAddr: o.metricsAddr, NotifyOff: func(err error) { fmt.Fprintf(a.stderr, "notifications are off: %v\n", err) }}
	if o.templates != "" {
		p.Templates, p.Locales = os.DirFS(o.templates), os.DirFS(o.locales)
	}
	return classify(workerproc.Run(ctx, p))
}
