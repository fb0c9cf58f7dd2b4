// Package worker runs tidings campaigns: an asynq server whose jobs are
// chunks of recipients, a dispatcher that releases batches (canary first,
// then one batch per interval, behind failure-rate gates and approval),
// re-queues interrupted and orphaned chunks and due retries, a global rate
// limit shared by every worker through Redis, the auto-pause rule, and
// Prometheus metrics.
//
// Every worker runs the same code; any number of them may share one Redis.
// asynq lives in this package only.
package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
)

// TaskChunk is the asynq task type of a chunk of recipients.
const TaskChunk = "tidings:chunk"

// Queue is the default asynq queue of tidings.
const Queue = "tidings"

// Config configures a Worker.
type Config struct {
	// Redis is the client for tidings' keys and asynq (required).
	Redis redis.UniversalClient
	// Concurrency is the number of chunks processed at once, which is the
	// number of SMTP connections of this worker (default 8).
	Concurrency int
	// SMTP is how to reach the SMTP server.
	SMTP send.Config
	// Templates and Locales, when set, are rendered from instead of the
	// approved snapshot stored with the campaign; a campaign whose approved
	// hash differs is paused with the reason.
	Templates, Locales fs.FS
	// Logger receives structured logs (default: discard).
	Logger *slog.Logger
	// Metrics, when set, receives the worker's Prometheus metrics.
	Metrics prometheus.Registerer
	// Env is the environment name, recorded in audit entries.
	Env string
	// Host is this machine's name (default os.Hostname).
	Host string
	// WorkerID identifies this worker process (default host-pid-random).
	WorkerID string
	// Clock returns the current time (default time.Now).
	Clock func() time.Time
	// Queue is the asynq queue name (default "tidings").
	Queue string
	// ShutdownTimeout bounds the graceful drain on shutdown (default 10s).
	ShutdownTimeout time.Duration
	// ControlInterval is how often control states are refreshed (default
	// 200ms); DispatchInterval how often the dispatcher runs (default
	// 250ms); HeartbeatTTL how long a silent worker counts as alive
	// (default 3s).
	ControlInterval, DispatchInterval, HeartbeatTTL time.Duration
	// GCPercent is the Go GC target percentage while Run runs (default
	// 400: the worker's live heap is small, so collecting less often costs
	// little memory and saves CPU per message; negative: keep the
	// runtime's). A GOGC set by the operator is kept.
	GCPercent int
}

// Worker processes every active campaign in Redis.
type Worker struct {
	cfg     Config
	log     *slog.Logger
	st      *store.Store
	limiter *redis_rate.Limiter
	client  *asynq.Client
	m       *metrics

	drain  chan struct{} // closed when Run's context is done
	claims atomic.Uint64 // claims made, for claim tokens

	mu        sync.Mutex
	states    map[string]store.State
	campaigns map[string]*campaignState
	loading   map[string]*sync.Mutex
}

// New validates cfg, applies defaults and returns a Worker.
func New(cfg Config) (*Worker, error) {
	if cfg.Redis == nil {
		return nil, errors.New("new worker: Config.Redis is required")
	}
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 8
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Host == "" {
		cfg.Host, _ = os.Hostname()
	}
	if cfg.WorkerID == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		cfg.WorkerID = fmt.Sprintf("%s-%d-%s", cfg.Host, os.Getpid(), hex.EncodeToString(b))
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Queue == "" {
		cfg.Queue = Queue
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if cfg.ControlInterval <= 0 {
		cfg.ControlInterval = 200 * time.Millisecond
	}
	if cfg.DispatchInterval <= 0 {
		cfg.DispatchInterval = 250 * time.Millisecond
	}
	if cfg.HeartbeatTTL <= 0 {
		cfg.HeartbeatTTL = 3 * time.Second
	}
	if cfg.GCPercent == 0 {
		cfg.GCPercent = 400
	}
	// A wrong SMTP configuration is the operator's to fix before anything
	// is claimed, not a failure to record against every recipient.
	if _, err := cfg.SMTP.WithDefaults(); err != nil {
		return nil, fmt.Errorf("new worker: %w", err)
	}
	if (cfg.Templates == nil) != (cfg.Locales == nil) {
		return nil, errors.New("new worker: set both Templates and Locales, or neither (to render from the approved snapshot)")
	}
	m, err := newMetrics(cfg.Metrics, cfg.Redis, cfg.Queue)
	if err != nil {
		return nil, fmt.Errorf("new worker: %w", err)
	}
	return &Worker{
		cfg: cfg, log: cfg.Logger.With("worker", cfg.WorkerID), st: store.New(cfg.Redis),
		limiter: redis_rate.NewLimiter(cfg.Redis), m: m,
		drain:  make(chan struct{}),
		states: map[string]store.State{}, campaigns: map[string]*campaignState{}, loading: map[string]*sync.Mutex{},
	}, nil
}

// claimToken returns a token unique to one claim of this worker process.
func (w *Worker) claimToken() string {
	return w.cfg.WorkerID + "/" + strconv.FormatUint(w.claims.Add(1), 36)
}

// ID returns the worker's id.
func (w *Worker) ID() string { return w.cfg.WorkerID }

// Run processes campaigns until ctx is done, then drains: it stops claiming
// recipients, lets sends in flight finish and be recorded, marks unfinished
// chunks interrupted (another worker, or this one restarted, continues them)
// and returns within about Config.ShutdownTimeout. Run may be called once.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.st.Heartbeat(ctx, w.cfg.WorkerID, w.cfg.HeartbeatTTL); err != nil {
		return fmt.Errorf("run worker: redis unreachable: %w", err)
	}
	if w.cfg.GCPercent > 0 {
		// 100 is the runtime's default: anything else was set by the operator.
		if prev := debug.SetGCPercent(w.cfg.GCPercent); prev != 100 {
			debug.SetGCPercent(prev)
		} else {
			defer debug.SetGCPercent(prev)
		}
	}
	pool := send.NewPool(w.cfg.SMTP, w.cfg.Concurrency)
	defer pool.Close()
	w.client = asynq.NewClientFromRedisClient(w.cfg.Redis)
	srv := asynq.NewServerFromRedisClient(w.cfg.Redis, asynq.Config{
		Concurrency:     w.cfg.Concurrency,
		Queues:          map[string]int{w.cfg.Queue: 1},
		ShutdownTimeout: w.cfg.ShutdownTimeout,
		Logger:          asynqLogger{w.log},
		LogLevel:        asynq.WarnLevel,
		// An idle worker looks for new chunks every 100 ms rather than
		// asynq's default second: released batches start sooner.
		TaskCheckInterval: 100 * time.Millisecond,
		RetryDelayFunc:    func(n int, _ error, _ *asynq.Task) time.Duration { return time.Duration(n+1) * time.Second },
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TaskChunk, func(tctx context.Context, t *asynq.Task) error { return w.handle(tctx, t, pool) })
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("run worker: start asynq server: %w", err)
	}
	w.m.up.Set(1)
	w.log.Info("worker started", "concurrency", w.cfg.Concurrency, "queue", w.cfg.Queue)

	loops, stopLoops := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); w.controlLoop(loops) }()
	go func() { defer wg.Done(); w.dispatchLoop(loops) }()

	<-ctx.Done()
	w.log.Info("worker draining")
	close(w.drain)
	srv.Stop()
	srv.Shutdown()
	stopLoops()
	wg.Wait()
	w.m.up.Set(0)
	_ = w.client.Close()
	w.log.Info("worker stopped")
	return nil
}

// controlLoop refreshes the cached control state of every active campaign
// and the worker's heartbeat.
func (w *Worker) controlLoop(ctx context.Context) {
	t := time.NewTicker(w.cfg.ControlInterval)
	defer t.Stop()
	lastBeat := time.Now()
	for {
		w.refreshStates(ctx)
		if time.Since(lastBeat) >= w.cfg.HeartbeatTTL/3 {
			if err := w.st.Heartbeat(ctx, w.cfg.WorkerID, w.cfg.HeartbeatTTL); err != nil && ctx.Err() == nil {
				w.log.Warn("heartbeat failed", "err", err)
			}
			lastBeat = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *Worker) refreshStates(ctx context.Context) {
	active, err := w.st.Active(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Warn("read active campaigns", "err", err)
		}
		return
	}
	states := make(map[string]store.State, len(active))
	for _, c := range active {
		st, _, err := w.st.ControlState(ctx, c)
		if err != nil {
			continue
		}
		states[c] = st
	}
	w.mu.Lock()
	w.states = states
	w.mu.Unlock()
}

// state returns the cached control state of c (read through on a miss).
func (w *Worker) state(ctx context.Context, c string) store.State {
	w.mu.Lock()
	st, ok := w.states[c]
	w.mu.Unlock()
	if ok {
		return st
	}
	st, _, err := w.st.ControlState(ctx, c)
	if err != nil {
		return ""
	}
	return st
}

func (w *Worker) draining() bool {
	select {
	case <-w.drain:
		return true
	default:
		return false
	}
}

func (w *Worker) actor() store.Actor {
	return store.Actor{Who: "tidings-worker " + w.cfg.WorkerID, Host: w.cfg.Host, Env: w.cfg.Env}
}

type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
