package worker_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// TestSMTPConnectionsCapsTheWorkersConnections (red team 14c): README
// (Configuration reference) documents `smtp.connections: 8  # SMTP
// connections per worker`, and README (Scale, "The SMTP relay's limits come
// first in practice") tells the operator to set "`rate:` ... and
// `smtp.connections` below" the relay's connections per client (postfix's
// smtpd_client_connection_count_limit).
//
// What happened: an environment with `smtp.connections: 1` and
// `concurrency: 4` loaded without a word, and a worker built from it
// opened four SMTP connections at once to the relay (the pool was sized by
// Config.Concurrency; smtp.connections was only concurrency's default).
// The operator who lowered smtp.connections to the relay's limit got the
// relay's "too many connections" refusals.
//
// Now: a concurrency above smtp.connections is refused with its line (or
// variable) and what to do; worker.New refuses a Concurrency above
// SMTPConnections; and a worker of an environment with smtp.connections 1
// holds one connection at a time while its campaign's chunks wait.
func TestSMTPConnectionsCapsTheWorkersConnections(t *testing.T) {
	t.Parallel()
	none := func(string) string { return "" }
	for _, tt := range []struct {
		name, cfg string
		vars      map[string]string
		want      []string
	}{
		{"file", "environments:\n  test:\n    smtp:\n      connections: 1\n    concurrency: 4\n", nil,
			[]string{"tidings.yaml:5", "environments.test.concurrency", "4 is above smtp.connections (1)", "lower concurrency to 1 or less", "raise smtp.connections"}},
		{"default connections", "environments:\n  test:\n    concurrency: 16\n", nil,
			[]string{"tidings.yaml:3", "16 is above smtp.connections (8)"}},
		{"variables", "", map[string]string{"TIDINGS_SMTP_CONNECTIONS": "2", "TIDINGS_CONCURRENCY": "3"},
			[]string{"TIDINGS_CONCURRENCY", "3 is above smtp.connections (2)"}},
	} {
		getenv := none
		if tt.vars != nil {
			getenv = func(k string) string { return tt.vars[k] }
		}
		_, err := environment.Load([]byte(tt.cfg), "tidings.yaml", "test", getenv)
		if err == nil {
			t.Errorf("%s: a concurrency above smtp.connections is accepted", tt.name)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: the error does not say %q: %v", tt.name, w, err)
			}
		}
	}

	var (
		srvOpen  func() int
		maxOpen  atomic.Int64
		released = make(chan struct{})
		once     sync.Once
	)
	// The relay holds its first RCPT until a second connection is open
	// (or 5 s pass, when the worker keeps to one connection: time for the
	// other chunks to be taken and to wait for a connection), and records
	// the most connections it saw open at once.
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
		case <-time.After(5 * time.Second):
			once.Do(func() { close(released) })
		}
		return nil
	})
	srvOpen = e.smtp.Open

	if _, err := worker.New(worker.Config{Redis: e.rdb, Concurrency: 4, SMTPConnections: 1}); err == nil || !strings.Contains(err.Error(), "Concurrency 4 is above SMTPConnections 1") {
		t.Errorf("worker.New with Concurrency 4 and SMTPConnections 1: %v, want a refusal", err)
	}

	e.stage(t, opts{n: 400, size: 400, chunk: 50})
	cfgYAML := fmt.Sprintf(`environments:
  test:
    smtp:
      host: %s
      port: %d
      tls: none
      connections: 1
    state_dir: %s
`, e.smtp.Host(), e.smtp.Port(), t.TempDir())
	env, err := environment.Load([]byte(cfgYAML), "tidings.yaml", "test", none)
	if err != nil {
		t.Fatal(err)
	}
	cfg := worker.ForEnvironment(env, e.rdb)
	cfg.ControlInterval, cfg.TickInterval, cfg.ReconcileInterval = 50*time.Millisecond, 50*time.Millisecond, 200*time.Millisecond
	cfg.ShutdownTimeout = 5 * time.Second
	if cfg.SMTPConnections != 1 || cfg.Concurrency != 1 {
		t.Errorf("ForEnvironment: %d SMTP connections, concurrency %d; want smtp.connections' 1 for both", cfg.SMTPConnections, cfg.Concurrency)
	}
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
