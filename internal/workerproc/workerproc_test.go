package workerproc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/notify"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
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
	// A negative shutdown timeout was taken as the default, 10s, without a
	// word (worker --shutdown-timeout -1s). Its context has ended: without
	// the check, Run returns nil at once instead of running.
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	if err := workerproc.Run(ended, workerproc.Options{Env: e, Redis: rdb, ShutdownTimeout: -time.Second}); !errors.As(err, &ce) || !strings.Contains(err.Error(), "--shutdown-timeout -1s: give how long a graceful shutdown may take, e.g. --shutdown-timeout 10s") {
		t.Errorf("shutdown timeout -1s: %v, want a *ConfigError saying so", err)
	}
	// smtp.connections caps the worker's connections (red team 14c).
	if err := workerproc.Run(t.Context(), workerproc.Options{Env: e, Redis: rdb, Concurrency: e.SMTP.Connections + 1}); !errors.As(err, &ce) ||
		!strings.Contains(err.Error(), fmt.Sprintf("concurrency %d is above smtp.connections of environment staging (%d)", e.SMTP.Connections+1, e.SMTP.Connections)) {
		t.Errorf("concurrency above smtp.connections: %v, want a *ConfigError saying so", err)
	}
}

// TestRunLetsANotificationUnderWayFinish: a worker process stopped the
// ordinary way (its context ends: SIGTERM, a deploy) while its notifier
// posts an event to a webhook that has the request but has not answered
// yet returns only once the post has finished and is recorded, so that no
// other notifier posts the event again (README: each event once however
// many processes run). The webhook answers a few seconds after the stop,
// longer than the worker's drain: a process that returned at the end of
// the drain would leave the delivery unrecorded, and the next notifier
// (its lease run out by then) would post the cancel a second time.
func TestRunLetsANotificationUnderWayFinish(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "stopping", N: 3})
	if _, _, err := w.Store.Cancel(t.Context(), "stopping", store.Actor{Who: "alice", Host: "laptop"}, "wrong recipients file"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var posts []string
	got := make(chan struct{}, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // the webhook has the whole event
		mu.Lock()
		posts = append(posts, r.Header.Get("X-Tidings-Event"))
		first := len(posts) == 1
		mu.Unlock()
		if first {
			got <- struct{}{}
			select { // slow to answer: past the worker's drain
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(hook.Close)
	all := map[string]string{"TIDINGS_REDIS_URL": w.Redis.URL, "TIDINGS_STATE_DIR": t.TempDir(), "TIDINGS_NOTIFY_WEBHOOK_URL": hook.URL + "/json"}
	e, err := environment.Load(nil, "", consoletest.EnvName, func(k string) string { return all[k] })
	if err != nil {
		t.Fatal(err)
	}

	ctx, sigterm := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- workerproc.Run(ctx, workerproc.Options{Env: e, Redis: w.Redis.Client(), ShutdownTimeout: time.Second})
	}()
	select {
	case <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the worker's notifier did not post the cancel")
	}
	sigterm()
	if err := <-done; err != nil {
		t.Fatalf("Run after the stop: %v", err)
	}

	// Another worker's notifier, later than any lease.
	n, err := notify.New(notify.Config{Store: w.Store, Env: consoletest.EnvName, WebhookURL: hook.URL + "/json",
		Owner: "worker-b", Clock: func() time.Time { return time.Now().Add(5 * time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != 1 {
		t.Errorf("the webhook received the cancel %d times %v, want once: the stopped worker returned before its notifier's post under way was finished and recorded", len(posts), posts)
	}
}
