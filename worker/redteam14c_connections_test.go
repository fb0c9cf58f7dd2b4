package worker_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// TestRedteam14CSMTPConnectionsCapsTheWorkersConnections: README
// (Configuration reference) documents `smtp.connections: 8  # SMTP
// connections per worker`, and README (Scale, "The SMTP relay's limits come
// first in practice") tells the operator to set "`rate:` ... and
// `smtp.connections` below" the relay's connections per client (postfix's
// smtpd_client_connection_count_limit). `tidings help environments` calls
// the other key, `concurrency`, "recipients processed at once per worker
// (default: smtp.connections)", not connections.
//
// What happens: an environment with `smtp.connections: 1` and
// `concurrency: 4` loads without a word, and a worker built from it opens
// four SMTP connections at once to the relay. The operator who lowered
// smtp.connections to the relay's limit gets the relay's "too many
// connections" refusals (and, through the failure rate, an auto-pause).
//
// Guessed cause: worker/worker.go:331 sizes the SMTP pool by
// cfg.Concurrency (send.NewPool(w.cfg.SMTP, w.cfg.Concurrency)), and
// worker/environment.go:16 ForEnvironment carries e.Concurrency, never
// e.SMTP.Connections; internal/environment/environment.go WithDefaults
// uses smtp.connections only as concurrency's default.
func TestRedteam14CSMTPConnectionsCapsTheWorkersConnections(t *testing.T) {
	t.Parallel()
	var (
		srvOpen  func() int
		maxOpen  atomic.Int64
		released = make(chan struct{})
		once     sync.Once
	)
	// The relay holds its first RCPT until a second connection is open
	// (or 15 s pass, when the worker keeps to one connection), and
	// records the most connections it saw open at once.
	e := newEnv(t, func(string) error {
		n := int64(srvOpen())
		for {
			m := maxOpen.Load()
			if n <= m || maxOpen.CompareAndSwap(m, n) {
				break
			}
		}
		if n >= 2 {
			once.Do(func() { close(released) })
		}
		select {
		case <-released:
		case <-time.After(15 * time.Second):
			once.Do(func() { close(released) })
		}
		return nil
	})
	srvOpen = e.smtp.Open
	e.stage(t, opts{n: 400, size: 400, chunk: 50})

	cfgYAML := fmt.Sprintf(`environments:
  test:
    smtp:
      host: %s
      port: %d
      tls: none
      connections: 1
    concurrency: 4
    state_dir: %s
`, e.smtp.Host(), e.smtp.Port(), t.TempDir())
	env, err := environment.Load([]byte(cfgYAML), "tidings.yaml", "test", func(string) string { return "" })
	if err != nil {
		t.Logf("the config is refused (a fix may be to refuse it): %v", err)
		return
	}
	cfg := worker.ForEnvironment(env, e.rdb)
	cfg.ControlInterval, cfg.TickInterval, cfg.ReconcileInterval = 50*time.Millisecond, 50*time.Millisecond, 200*time.Millisecond
	cfg.ShutdownTimeout = 5 * time.Second
	w, err := worker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	// Until the relay has taken a message: by then it has seen the
	// connections the worker opened for the campaign's chunks.
	wait.For(t, 60*time.Second, "a message at the relay", func() bool { return e.smtp.Count() > 0 })
	if got := maxOpen.Load(); got > int64(env.SMTP.Connections) {
		t.Errorf("smtp.connections is %d (\"SMTP connections per worker\"), but the worker held %d SMTP connections open at once to the relay (concurrency %d)",
			env.SMTP.Connections, got, env.Concurrency)
	}
}
