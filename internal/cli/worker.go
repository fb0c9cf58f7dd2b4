package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/notify"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/worker"
)

type workerOptions struct {
	env, metricsAddr, templates, locales string
	concurrency                          int
	shutdown                             time.Duration
}

func (a *app) cmdWorker() *cobra.Command {
	var o workerOptions
	c := &cobra.Command{
		Use:   "worker --env ENV",
		Short: "Process every active campaign: render, check, rate-limit, send, record",
		Long: `worker processes every active campaign of the environment, including ones
started after it: it releases batches (canary first, gates, approval,
intervals), renders each recipient's message after checking the locale rule
again, takes from the global rate limit, sends over pooled SMTP connections and
records every outcome in the ledger. Run as many workers as you like, on as
many machines as you like, against the same Redis.

It renders from the template and catalog content approved when the campaign
was staged (stored in Redis with its hash), or with --templates and --locales
from disk, pausing the campaign with the reason when those files differ from
the approved ones.

SIGINT/SIGTERM drain gracefully: no new recipient is claimed, messages in
flight finish and are recorded; nobody is ever sent twice.`,
		Example: `  tidings worker --env production
  tidings worker --env production --concurrency 16 --metrics-addr :9090`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runWorker(cmd.Context(), o) },
	}
	c.Flags().StringVar(&o.env, "env", "", "environment (required)")
	_ = c.MarkFlagRequired("env")
	c.Flags().IntVar(&o.concurrency, "concurrency", 0, "SMTP connections, i.e. chunks in flight (default: the environment's concurrency, else smtp.connections, else 8)")
	c.Flags().StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus /metrics and /healthz on this address (e.g. :9090)")
	c.Flags().StringVar(&o.templates, "templates", "", "render from this templates directory instead of the approved snapshot (needs --locales)")
	c.Flags().StringVar(&o.locales, "locales", "", "render from this catalogs directory instead of the approved snapshot (needs --templates)")
	c.Flags().DurationVar(&o.shutdown, "shutdown-timeout", 10*time.Second, "how long a graceful shutdown may take")
	return c
}

// runWorker runs a worker of the environment, with its notifier (each
// event is delivered once across workers) and, when asked, its metrics.
func (a *app) runWorker(ctx context.Context, o workerOptions) error {
	e, err := a.loadEnv(o.env)
	if err != nil {
		return err
	}
	if (o.templates == "") != (o.locales == "") {
		return configError(errors.New("give both --templates and --locales, or neither (to render from the approved snapshot)"))
	}
	rdb, err := a.redis(ctx, e)
	if err != nil {
		return err
	}
	defer rdb.Close()
	log := a.logger(slog.LevelInfo)
	nc := notify.ForEnvironment(e, store.New(rdb))
	nc.Logger = log
	if err := notify.Start(ctx, nc); err != nil {
		fmt.Fprintf(a.stderr, "notifications are off: %v\n", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg := worker.ForEnvironment(e, rdb)
	cfg.Logger, cfg.Metrics, cfg.ShutdownTimeout = log, reg, o.shutdown
	if o.concurrency > 0 {
		cfg.Concurrency = o.concurrency
	}
	if o.templates != "" {
		cfg.Templates, cfg.Locales = os.DirFS(o.templates), os.DirFS(o.locales)
	}
	w, err := worker.New(cfg)
	if err != nil {
		return configError(err)
	}
	if o.metricsAddr != "" {
		m, err := worker.ServeMetrics(o.metricsAddr, reg, rdb)
		if err != nil {
			return configError(fmt.Errorf("metrics address %s: %w", o.metricsAddr, err))
		}
		defer m.Close()
		log.Info("serving metrics", "addr", m.Addr().String(), "paths", "/metrics /healthz")
	}
	if err := w.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return classify(err)
	}
	return nil
}
