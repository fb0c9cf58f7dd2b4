package workerproc_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/internal/workerproc"
)

// setup returns environment "staging" on a test Redis, and a client of it.
func setup(t *testing.T) (*environment.Environment, redis.UniversalClient) {
	t.Helper()
	r := redistest.Start(t)
	all := map[string]string{"TIDINGS_REDIS_URL": r.URL, "TIDINGS_STATE_DIR": t.TempDir()}
	e, err := environment.Load(nil, "", "staging", func(k string) string { return all[k] })
	if err != nil {
		t.Fatal(err)
	}
	opts, err := e.RedisOptions()
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewUniversalClient(opts)
	t.Cleanup(func() { rdb.Close() })
	return e, rdb
}

// TestRun: the process serves its health while it runs, and ends without
// an error when its context ends.
func TestRun(t *testing.T) {
	t.Parallel()
	e, rdb := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	// Port 0: the kernel picks one no other test's server holds; the log
	// says which.
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	go func() {
		done <- workerproc.Run(ctx, workerproc.Options{Env: e, Redis: rdb, MetricsAddr: "127.0.0.1:0", Logger: logger, ShutdownTimeout: time.Second})
	}()
	served := regexp.MustCompile(`msg="serving metrics" addr=(127\.0\.0\.1:\d+)`)
	wait.For(t, 10*time.Second, "the health endpoint answers", func() bool {
		m := served.FindStringSubmatch(logs.String())
		if m == nil {
			return false
		}
		resp, err := http.Get(fmt.Sprintf("http://%s/healthz", m[1]))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
}

// TestRunConfigErrors: a metrics address in use and a worker that refuses
// its settings are *ConfigError; wrong notification settings are told to
// NotifyOff and the process runs without them.
func TestRunConfigErrors(t *testing.T) {
	t.Parallel()
	e, rdb := setup(t)
	e.Notify.WebhookURL = "ftp://not.http.example" // environment.Load refuses it: wrong settings made otherwise
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var off error
	err = workerproc.Run(t.Context(), workerproc.Options{Env: e, Redis: rdb, MetricsAddr: ln.Addr().String(), NotifyOff: func(err error) { off = err }})
	var ce *workerproc.ConfigError
	if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), fmt.Sprintf("metrics address %s: ", ln.Addr())) {
		t.Errorf("metrics address in use: %v", err)
	}
	if off == nil {
		t.Errorf("NotifyOff was not told of the wrong webhook URL")
	}
	if err := workerproc.Run(t.Context(), workerproc.Options{Env: e, Redis: rdb, Concurrency: 1, Templates: fstest.MapFS{}}); !errors.As(err, &ce) {
		t.Errorf("templates without locales: %v, want a *ConfigError", err)
	}
	// A negative number of connections was taken as the default (README
	// walk-through: worker --concurrency -3).
	if err := workerproc.Run(t.Context(), workerproc.Options{Env: e, Redis: rdb, Concurrency: -3}); !errors.As(err, &ce) || !strings.Contains(err.Error(), "concurrency -3: give a positive number") {
		t.Errorf("concurrency -3: %v, want a *ConfigError saying so", err)
	}
}
