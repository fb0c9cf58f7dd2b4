// Package worker runs tidings campaigns. Embed it in a service of your own
// the way you would run an asynq Server:
//
//	w, err := worker.New(worker.Config{Redis: rdb, SMTP: smtpCfg, Env: "production"})
//	if err != nil { ... }
//	err = w.Run(ctx) // until ctx is done, then drains
//
// Every worker runs the same code, and any number of them may share one
// Redis (standalone, Sentinel or Cluster). A chunk of up to 200 recipients
// is one asynq task: asynq is the one owner of a chunk's lifecycle (lease,
// retry, hand-over after a crash). Beside it, each worker runs, for every
// running campaign, a tick that releases batches behind their gates
// (store.Tick, one atomic script), and a reconciler that gives every
// released chunk that is not finished a live task, so that a task lost in a
// Redis failover or held by a dead worker is replaced within seconds. The
// per-recipient ledger (store.Ledger) makes running a chunk twice harmless:
// a recipient is claimed before its message goes to SMTP and never sent
// twice. See docs/design.md.
//
// asynq lives in this package only.
package worker

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
)

// TaskChunk is the asynq task type of a chunk of recipients.
const TaskChunk = "tidings:chunk"

// Queue is the asynq queue of a worker without an environment; QueueOf
// names an environment's.
const Queue = "tidings"

// QueueOf is the asynq queue of the workers of environment env: each
// environment has its own, so that environments sharing one Redis never
// run each other's chunks.
func QueueOf(env string) string {
	if env == "" {
		return Queue
	}
	return Queue + ":" + env
}

// AutoReplicaAcks asks the worker to choose the number of replica
// acknowledgements itself (Config.ReplicaAcks) when it starts
// (redisconn.ReplicaAcks): on Sentinel, every replica the master has
// connected (at least 1), raised when one joins, lowered only when another
// master answers (watchReplicas); on Cluster, every replica of the master
// serving the campaign's slot (at least 1), judged per master by the same
// rule and again every second (clusterAcks, watchCluster); 1 on a
// standalone master that has a replica connected at start; 0 otherwise.
const AutoReplicaAcks = redisconn.AutoReplicaAcks

// DefaultClaimWindow is Config.ClaimWindow's default (the environment's
// claim_window).
const DefaultClaimWindow = environment.DefaultClaimWindow

// Config configures a Worker.
type Config struct {
	// Redis is the client for tidings' keys and asynq (required): a
	// *redis.Client, a Sentinel *redis.Client (redis.NewFailoverClient) or a
	// *redis.ClusterClient.
	Redis redis.UniversalClient
	// ReplicaAcks is how many replicas must acknowledge a ledger claim (Redis
	// WAIT) before its message goes to SMTP: AutoReplicaAcks (-1, default
	// when constructed by the tidings command) or a number; 0 waits for none.
	ReplicaAcks int
	// SentinelListed, on Sentinel with auto, is the replicas the Sentinels
	// list, by address (redisconn.SentinelReplicas; ForEnvironment sets
	// it; none when no Sentinel answers): auto waits for no fewer, at start
	// as when judged again, and a hold's warning names those the master's
	// INFO does not list. nil: the master's INFO alone.
	SentinelListed func(context.Context) []string
	// AckTimeout bounds each wait for replica acknowledgements (default
	// 500ms). A claim not acknowledged in time is not sent; it is tried again.
	AckTimeout time.Duration
	// MaxmemoryPolicy is Redis's maxmemory-policy as the environment
	// declares it (redis.maxmemory_policy): "noeviction" lets the worker
	// send on a Redis that does not say its policy (evicting.go); "" (the
	// default) holds its sends then. A policy the worker reads counts
	// over it.
	MaxmemoryPolicy string
	// Concurrency is the number of chunks processed at once, each on an
	// SMTP connection of its own (default 8, or SMTPConnections when set).
	Concurrency int
	// SMTPConnections is the most SMTP connections this worker holds open
	// to the relay at once (the environment's smtp.connections; default:
	// Concurrency). A Concurrency above it is refused by New: each chunk in
	// flight holds a connection.
	SMTPConnections int
	// ClaimWindow is how many recipients a chunk claims per ledger round
	// trip (default DefaultClaimWindow): larger windows cost Redis less per
	// message, but a crash leaves up to one window per connection in doubt.
	ClaimWindow int
	// SMTP is how to reach the SMTP server.
	SMTP send.Config
	// UnsubscribeSecret is the key of the {token} in a campaign's
	// List-Unsubscribe (the environment's unsubscribe secret). A campaign
	// with {token} is paused, sending nothing, by a worker without it.
	UnsubscribeSecret environment.Secret
	// Templates and Locales, when set, are rendered from instead of the
	// approved snapshot stored with the campaign; a campaign whose approved
	// hash differs is paused with the reason.
	Templates, Locales fs.FS
	// Journal configures the delivery journal: one line per recorded
	// outcome, on disk, outside Redis. An empty Journal.Dir keeps none (and
	// the loss of Redis state can then not be recovered from).
	Journal journal.Config
	// Logger receives structured logs (default: discard).
	Logger *slog.Logger
	// Metrics, when set, receives the worker's Prometheus metrics, each
	// labelled environment=Env when Env is set.
	Metrics prometheus.Registerer
	// Env is the environment name, recorded in audit entries. A worker
	// runs the campaigns staged in its environment only (every campaign
	// when Env is empty: do not mix such a worker with environment workers
	// on one Redis, whose queues are QueueOf theirs).
	Env string
	// Host is this machine's name (default os.Hostname).
	Host string
	// WorkerID identifies this worker process (default host-pid-random).
	WorkerID string
	// Queue is the asynq queue name (default QueueOf(Env)).
	Queue string
	// ShutdownTimeout bounds the graceful drain on shutdown (default 10s).
	ShutdownTimeout time.Duration
	// ControlInterval is how often control states are re-read (default
	// 200ms), besides at once when a change is announced on
	// store.ControlChannel (the fallback when an announcement is lost, or
	// the worker's Redis user may not subscribe); TickInterval how often running campaigns are moved forward
	// (default 250ms, and at once when the control loop sees a campaign
	// start running); ReconcileInterval how often released chunks are
	// checked for a live task (default 1s); OrphanGrace how long a task may
	// look abandoned (active, but held by no live asynq server) before it is
	// replaced (default 10s: an asynq server announces the tasks it runs
	// every 5s, so a task started just after an announcement is held by
	// no live server for up to 5s; a shorter grace replaces live tasks,
	// and their window of claims is then reported in doubt).
	ControlInterval, TickInterval, ReconcileInterval, OrphanGrace time.Duration
	// JournalCheck is how often the latest journaled deliveries of running
	// campaigns are looked up in the ledger (Worker.forgotten; default 5s).
	// It also runs as soon as the control loop sees another Redis server
	// process answer (a restart, a restore, a failover).
	JournalCheck time.Duration
	// GCPercent is the Go GC target percentage while Run runs (default 400:
	// the worker's live heap is small, so collecting less often costs little
	// memory and saves CPU per message; negative: keep the runtime's). A
	// GOGC set by the operator is kept.
	GCPercent int
}

// WithDefaults returns cfg with its defaults applied.
func (cfg Config) WithDefaults() Config {
	orDefault(&cfg.Concurrency, cfg.SMTPConnections) // one chunk per connection, when set
	orDefault(&cfg.Concurrency, 8)
	orDefault(&cfg.SMTPConnections, cfg.Concurrency)
	orDefault(&cfg.ClaimWindow, DefaultClaimWindow)
	orDefault(&cfg.AckTimeout, 500*time.Millisecond)
	orDefault(&cfg.ShutdownTimeout, 10*time.Second)
	orDefault(&cfg.ControlInterval, 200*time.Millisecond)
	orDefault(&cfg.TickInterval, 250*time.Millisecond)
	orDefault(&cfg.ReconcileInterval, time.Second)
	orDefault(&cfg.OrphanGrace, 10*time.Second)
	orDefault(&cfg.JournalCheck, 5*time.Second)
	cfg.GCPercent = cmp.Or(cfg.GCPercent, 400)
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	if cfg.Host == "" {
		cfg.Host, _ = os.Hostname()
	}
	if cfg.WorkerID == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		cfg.WorkerID = fmt.Sprintf("%s-%d-%s", cfg.Host, os.Getpid(), hex.EncodeToString(b))
	}
	cfg.WorkerID = strings.NewReplacer("/", "_", `\`, "_", ".", "_", "|", "_").Replace(cfg.WorkerID) // "|": the ledger's separator (store.Ledger.Step refuses it in a claim token)
	cfg.Queue = cmp.Or(cfg.Queue, QueueOf(cfg.Env))
	cfg.Journal.Worker = cmp.Or(cfg.Journal.Worker, cfg.WorkerID)
	return cfg
}

// orDefault sets *v to d when it is not positive.
func orDefault[T int | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

func (cfg Config) validate() error {
	if cfg.Redis == nil {
		return errors.New("Config.Redis is required")
	}
	if cfg.Concurrency > cfg.SMTPConnections {
		return fmt.Errorf("Concurrency %d is above SMTPConnections %d: each chunk in flight holds an SMTP connection of its own; lower Concurrency or raise SMTPConnections", cfg.Concurrency, cfg.SMTPConnections)
	}
	// A wrong SMTP configuration is the operator's to fix before anything
	// is claimed, not a failure to record against every recipient.
	if _, err := cfg.SMTP.WithDefaults(); err != nil {
		return err
	}
	if (cfg.Templates == nil) != (cfg.Locales == nil) {
		return errors.New("set both Templates and Locales, or neither (to render from the approved snapshot)")
	}
	if cfg.ReplicaAcks < AutoReplicaAcks {
		return fmt.Errorf("ReplicaAcks %d: want a number of replicas, or AutoReplicaAcks", cfg.ReplicaAcks)
	}
	return nil
}

// Worker processes every active campaign in Redis.
type Worker struct {
	cfg     Config
	log     *slog.Logger
	st      *store.Store
	limiter *redis_rate.Limiter
	m       *metrics
	journal *journal.Writer // nil without a journal
	pool    *send.Pool
	client  *asynq.Client
	insp    *asynq.Inspector
	page    int              // tasks per listing of a reconcile (0: listPage)
	clock   func() time.Time // this host's clock as the clock check reads it (nil: time.Now; clock.go)
	skewed  bool             // watchClock's last finding (its loop only)

	drain  chan struct{} // closed when Run's context is done
	claims atomic.Uint64 // claims made: a claim's token is WorkerID/its number (claimTokens)

	// live holds the chunk runs whose handler has not returned (w.mu):
	// fence gives back what those that outlive the shutdown timeout have
	// not begun to send. fenced is set once it did (no run starts after
	// it); ended once Run returns: the last live run then closes the
	// journal and the SMTP pool (release), not Run.
	live          map[*run]struct{}
	fenced, ended bool
	released      sync.Once

	mu     sync.Mutex
	states map[string]store.Probe // the last probe of every active campaign
	// announced counts the control changes announced to this worker
	// (watchControl); statesAt is how many had been when the control loop
	// began the read that states holds (w.mu). While statesAt is behind,
	// states may predate a pause or cancel: runs reads through.
	announced atomic.Int64
	statesAt  int64
	// control asks the control loop to run now: a control change was
	// announced.
	control   chan struct{}
	campaigns map[string]*campaignState
	loading   sync.Map // campaign -> *sync.Mutex held while its state loads
	// checked holds, per campaign, the state key (check) this worker's
	// journals were last checked against; checking, per campaign, a
	// chan struct{} of one slot, the lock held while they are (lockCheck).
	checked  map[string]string
	checking sync.Map
	// backlog holds, per campaign state (cached or not), the outcomes a
	// failed ledger step could not record (keep), for the campaign's next
	// step or flushBacklogs.
	backlog map[*campaignState][]store.Record
	// accounted holds the claim tokens of kept records whose outcome the
	// ledger answered in a step not acknowledged, and which were counted
	// and journaled then (run.account).
	accounted map[string]bool
	// temps holds the outcome lines of temporary failures, by claim token,
	// until the ledger records them (run.note).
	temps  map[string]journal.Entry
	outage *outageLog // the loops' Redis errors, one line per outage
	// evicts is why the worker holds its sends: Redis's maxmemory-policy
	// may evict, or cannot be read (nil: neither; evicting.go);
	// evictUnknown, that a policy which cannot be read but is declared
	// was said.
	evicts       atomic.Pointer[EvictingError]
	evictUnknown atomic.Bool
	// tailWarned holds the journal files (and errors) forgotten has warned
	// about, so that one it cannot read is said once, not every 5 s.
	tailWarned sync.Map
	// formatSaid holds, per campaign, the stored format of it that this
	// worker refused and said so (sayFormat): once per campaign.
	formatSaid sync.Map
	// redisID is the run id of the Redis server process last seen by the
	// control loop (only it uses it); recheck asks checkJournals to run
	// now. A check is owed (the id changed) while checksDone is behind
	// checksOwed: the control loop asks again on every pass until one
	// whole check went through (a Redis still loading its data answers
	// INFO, but not the check's reads).
	redisID string
	// replicas is what the control loop last judged the replica
	// acknowledgements against, and acksMaster the run_id of the master
	// that listed them (Sentinel only: see watchReplicas).
	replicas, acksMaster string
	// infoAcks is what auto waits for by the master's INFO alone (never
	// lowered on the same master), and listedFloor the replicas the
	// Sentinels list when they raise it (0 otherwise): judgeAcks.
	infoAcks, listedFloor int
	// listed is the replicas the Sentinels listed at their last answer
	// (sentinelListed), which a hold's warning names (unlisted).
	listed []string
	// judged is auto's judgement of every Cluster master (only
	// replicaAcks, then the cluster loop, use it: see watchCluster).
	judged redisconn.ClusterAcks
	// unread is the error of the last pass of watchCluster that could not
	// read every master ("" when it read them all).
	unread                 string
	recheck                chan struct{}
	checksOwed, checksDone atomic.Int64
	// tick asks the dispatch loop to run now: a campaign started running
	// (see started).
	tick chan struct{}
	// ledgerRead, set by tests, runs in forgotten between its read of the
	// ledger and its second read of the journal files.
	ledgerRead func()
	// beforeCheck, set by tests, runs in check before it reads the journals.
	beforeCheck func()
	// afterPass, set by tests, runs at the end of each dispatch pass with
	// the campaigns the pass saw and whether it reconciled.
	afterPass func(seen map[string]store.Probe, reconciled bool)
}

// New validates cfg, applies defaults and returns a Worker.
func New(cfg Config) (*Worker, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("new worker: %w", err)
	}
	m, err := newMetrics(cfg.Metrics, cfg.Redis, cfg.Queue, cfg.Env)
	if err != nil {
		return nil, fmt.Errorf("new worker: %w", err)
	}
	lg := cfg.Logger.With("worker", cfg.WorkerID)
	return &Worker{
		cfg: cfg, log: lg, outage: &outageLog{log: lg, sites: map[string]*outage{}, env: cfg.Env, redis: redisAddr(cfg.Redis), gauge: m.refused},
		limiter: redis_rate.NewLimiter(cfg.Redis), m: m,
		drain:  make(chan struct{}),
		states: map[string]store.Probe{}, campaigns: map[string]*campaignState{}, checked: map[string]string{},
		backlog: map[*campaignState][]store.Record{}, recheck: make(chan struct{}, 1),
		tick: make(chan struct{}, 1), control: make(chan struct{}, 1),
	}, nil
}

// Run processes campaigns until ctx is done, then drains: it stops claiming
// recipients, lets sends in flight finish and be recorded, and returns
// within about Config.ShutdownTimeout (a second more when outcomes kept
// during a Redis outage are still to record); the chunks it was processing go back
// to asynq for another worker (or this one, restarted). A chunk still
// sending when the timeout ends (a relay slow to answer) is abandoned to
// asynq: before Run returns, the claims of its window it has not begun to
// send are given back (pending again, not in doubt), and it begins no
// other message. It may still record the outcome of the one it is sending,
// should the process live on (an embedded worker): the delivery journal
// and the SMTP pool stay open until the last such chunk returns, which
// closes them; a process that exits leaves that recipient in doubt. Run
// may be called once.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.cfg.Redis.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("run worker: redis unreachable: %w", err)
	}
	if err := checkClock(ctx, w.cfg.Redis, w.now); err != nil {
		return fmt.Errorf("run worker: %w", err)
	}
	acks, masters, err := w.replicaAcks(ctx)
	if err != nil {
		return fmt.Errorf("run worker: %w", err)
	}
	w.st = store.NewWithConfig(w.cfg.Redis, store.Config{ReplicaAcks: acks, AckTimeout: w.cfg.AckTimeout})
	if masters != nil {
		w.st.SetMasterAcks(masters, acks) // auto on Cluster: each master's number
	}
	w.m.st.Store(w.st) // tidings_replica_acks
	if w.cfg.Journal.Dir != "" {
		jc := w.cfg.Journal
		jc.Env = cmp.Or(jc.Env, w.cfg.Env) // in every line: a recovery refuses another environment's journal
		j, err := journal.Open(jc)
		if err != nil {
			return fmt.Errorf("run worker: %w", err)
		}
		w.journal = j
		w.m.journal.Store(j)
	}
	if w.cfg.GCPercent > 0 {
		// 100 is the runtime's default: anything else was set by the operator.
		if prev := debug.SetGCPercent(w.cfg.GCPercent); prev != 100 {
			debug.SetGCPercent(prev)
		} else {
			defer debug.SetGCPercent(prev)
		}
	}
	// At most SMTPConnections to the relay, whatever else holds them.
	w.pool = send.NewPool(w.cfg.SMTP, w.cfg.SMTPConnections)
	// The journal and the pool are closed by whoever ends last: Run, or a
	// chunk that outlives it (release).
	defer w.end()
	w.client = asynq.NewClientFromRedisClient(w.cfg.Redis)
	w.insp = asynq.NewInspectorFromRedisClient(w.cfg.Redis)
	srv := asynq.NewServerFromRedisClient(w.cfg.Redis, asynq.Config{
		Concurrency:     w.cfg.Concurrency,
		Queues:          map[string]int{w.cfg.Queue: 1},
		ShutdownTimeout: w.cfg.ShutdownTimeout,
		Logger:          asynqLogger{w.log},
		LogLevel:        asynq.WarnLevel,
		// An idle worker looks for new chunks every 100 ms rather than
		// asynq's default second; deferred chunks come back within a second.
		TaskCheckInterval:        100 * time.Millisecond,
		DelayedTaskCheckInterval: time.Second,
		RetryDelayFunc:           retryDelay,
		IsFailure:                isFailure,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TaskChunk, w.handleTask)
	// No chunk sends before Redis's policy was read once (evicting.go).
	w.checkEviction(ctx)
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("run worker: start asynq server: %w", err)
	}
	w.m.up.Set(1)
	w.log.Info("worker started", slices.Concat([]any{"concurrency", w.cfg.Concurrency, "queue", w.cfg.Queue}, startedAcks(acks, masters), []any{"journal", w.cfg.Journal.Dir})...)
	w.warnLost(ctx)

	loops, stopLoops := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	// The control loop re-reads the control state of every active campaign
	// at once when a change is announced (watchControl), and every
	// ControlInterval in any case: a pause reaches every chunk before its
	// next message, or within ControlInterval when the announcement is lost.
	wg.Go(func() { every(loops, w.cfg.ControlInterval, w.control, func() { w.refreshStates(loops) }) })
	wg.Go(func() { w.watchControl(loops) })
	if cc, ok := w.cfg.Redis.(*redis.ClusterClient); ok {
		// Each master's replicas judged again as often as the slot map is
		// read: a failover is followed within about a second.
		wg.Go(func() {
			every(loops, redisconn.ClusterStateReload, nil, func() { w.watchCluster(loops, cc) })
		})
	}
	wg.Go(func() { w.dispatchLoop(loops) })
	wg.Go(func() { every(loops, evictionPoll, nil, func() { w.checkEviction(loops) }) })
	wg.Go(func() { every(loops, clockCheckEvery, nil, func() { w.watchClock(loops) }) })
	// The journal check, and the word that this worker is alive (and its
	// check-ins), outlive the other loops when it stops: a check in flight
	// finishes (within the drain's time) and can still stop a campaign, and
	// the other workers wait for it meanwhile (a restart must not make a
	// worker whose journal holds what Redis forgot look gone while its
	// check runs).
	scheduled, stopScheduling := context.WithCancel(context.WithoutCancel(ctx))
	passes, stopPasses := context.WithCancel(context.WithoutCancel(ctx))
	alive, stopAlive := context.WithCancel(context.WithoutCancel(ctx))
	var checks, saying sync.WaitGroup
	saying.Go(func() { every(alive, checkInWindow/5, nil, func() { w.sayAlive(alive) }) })
	saying.Go(func() { every(alive, checkInWindow/5, nil, func() { w.checkIn(alive) }) })
	// A loss too small for rollback's counts, or of deliveries another
	// process journaled (forgotten).
	checks.Go(func() {
		every(scheduled, w.cfg.JournalCheck, w.recheck, func() {
			owed := w.checksOwed.Load()
			if w.checkJournals(passes) {
				w.checksDone.Store(owed)
			}
		})
	})

	<-ctx.Done()
	w.log.Info("worker draining")
	end := time.Now().Add(w.cfg.ShutdownTimeout)
	close(w.drain)
	srv.Stop()
	srv.Shutdown()
	// A chunk still running now was abandoned by asynq (its task is back
	// in the queue): the claims it has not begun to send are given back
	// (recorded with the backlogs, below), and it sends nothing more.
	w.fence()
	stopLoops()
	stopScheduling()
	wg.Wait()
	// A check still running when the drain's time is up is cancelled.
	late := time.AfterFunc(time.Until(end), stopPasses)
	checks.Wait()
	late.Stop()
	stopPasses()
	stopAlive()
	saying.Wait()
	// What is left of the drain's time, and a second at least: outcomes
	// not recorded are in the journal, and in doubt in Redis.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(time.Until(end), time.Second))
	w.flushBacklogs(fctx, true)
	cancel()
	w.m.up.Set(0)
	_ = w.client.Close()
	_ = w.insp.Close()
	w.log.Info("worker stopped")
	return nil
}

// enter registers r, a chunk's run, as live (until leave); false once
// Run has fenced the live runs: the chunk must not run.
func (w *Worker) enter(r *run) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fenced {
		return false
	}
	if w.live == nil {
		w.live = map[*run]struct{}{}
	}
	w.live[r] = struct{}{}
	return true
}

// leave unregisters r; the last run to leave after Run returned closes
// the journal and the SMTP pool (release).
func (w *Worker) leave(r *run) {
	w.mu.Lock()
	delete(w.live, r)
	last := w.ended && len(w.live) == 0
	w.mu.Unlock()
	if last {
		w.release()
	}
}

// fence gives back, for every chunk still running when asynq's shutdown
// timeout has passed (asynq abandoned it: it waits for a relay slow to
// answer, say), the claims of its window that it has not begun to send:
// journaled as unclaimed, then kept for flushBacklogs, which records them
// before Run returns. Those recipients are pending again, not left claimed
// for the next worker to find in doubt. No message begins after it
// (run.begin); the one a chunk is sending stays claimed, and is recorded
// when it ends if the process lives on (an embedded worker), else left in
// doubt.
func (w *Worker) fence() {
	w.mu.Lock()
	w.fenced = true
	live := slices.Collect(maps.Keys(w.live))
	w.mu.Unlock()
	for _, r := range live {
		if recs := r.fence(); len(recs) > 0 {
			w.log.Warn("a chunk is still sending past the shutdown timeout; the claims it had not begun to send are given back",
				"campaign", r.cs.name, "chunk", r.p.Chunk, "claims", len(recs))
			w.keep(r.cs, recs)
		}
	}
}

// end is Run's last step: it closes the journal and the SMTP pool, unless
// chunks abandoned by asynq still run (fence): those may still record the
// outcome of the message they are sending, in the journal first, and the
// last of them closes both when it returns (leave). The journal is
// fsynced meanwhile, for a process that exits now.
func (w *Worker) end() {
	w.mu.Lock()
	w.ended = true
	left := len(w.live)
	w.mu.Unlock()
	if left == 0 {
		w.release()
		return
	}
	w.log.Warn("chunks still sending past the shutdown timeout: the delivery journal and the SMTP connections they use are closed when they end; a process that exits now leaves the recipients they are sending to in doubt",
		"chunks", left)
	if w.journal != nil {
		if err := w.journal.Sync(); err != nil {
			w.log.Error("fsync the delivery journal", "err", err)
		}
	}
}

// release closes the journal and the SMTP pool, once.
func (w *Worker) release() {
	w.released.Do(func() {
		_ = w.pool.Close()
		if w.journal == nil {
			return
		}
		if err := w.journal.Close(); err != nil {
			w.log.Error("close the delivery journal", "err", err)
		}
	})
}

// flushHeld is what flushBacklogs logs while it cannot record the outcomes
// it holds (one line per outage, outageLog).
const flushHeld = "outcomes not recorded in Redis yet; trying again at the next tick"

// flushBacklogs records the outcomes chunks could not record during a
// Redis outage (keep), for every campaign state in w.backlog: each tick
// with one attempt (a Redis still away must not hold up the dispatch
// loop), and before the worker exits with the step's retries until one
// campaign's flush fails for good; the others then get one attempt each,
// so that an outage does not hold the exit for the retries of every
// campaign (ctx bounds it too).
func (w *Worker) flushBacklogs(ctx context.Context, exiting bool) {
	w.mu.Lock()
	kept := maps.Clone(w.backlog)
	w.mu.Unlock()
	tries := 1
	if exiting {
		tries = ackRetries
	}
	for cs, recs := range kept {
		_, err := (&run{w: w, cs: cs, tries: tries}).step(ctx, nil)
		switch {
		case err != nil && exiting:
			w.log.Error("outcomes not recorded in Redis before exit: they are in the delivery journal, and those recipients show as in doubt",
				"campaign", cs.name, "outcomes", len(recs), "err", err)
			tries = 1
		case err != nil:
			w.outage.warn(flushHeld, err, "campaign", cs.name, "outcomes", len(recs))
		default:
			w.outage.answered(flushHeld)
		}
	}
}

// keep holds recs, which a ledger step could not record, for the next step
// of any chunk of cs's campaign, or flushBacklogs (whether or not the
// worker still caches cs): the messages were sent (or the claims must be
// given back), and a chunk task that ends on a Redis outage must not turn
// them into in-doubt rows. A failed step always has some (the records it
// was given, or the claims it gives back: a step with neither does nothing).
func (w *Worker) keep(cs *campaignState, recs []store.Record) {
	w.mu.Lock()
	w.backlog[cs] = append(w.backlog[cs], recs...)
	w.mu.Unlock()
}

// answered reports whether the record of claim token was accounted for
// already (run.account) by an earlier step not acknowledged, and notes
// that this step accounts for it (wrote: the ledger answered it) when the
// record is kept for a later one (kept). A record is forgotten once a
// step that is not kept has seen it. A record without a token is never
// noted.
func (w *Worker) answered(token string, wrote, kept bool) bool {
	if token == "" {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.accounted[token] {
		if !kept {
			delete(w.accounted, token)
		}
		return true
	}
	if wrote && kept {
		if w.accounted == nil {
			w.accounted = map[string]bool{}
		}
		w.accounted[token] = true
	}
	return false
}

// takeBacklog returns the outcomes kept for cs's next step, and forgets them.
func (w *Worker) takeBacklog(cs *campaignState) []store.Record {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.backlog[cs]
	delete(w.backlog, cs)
	return b
}

// every calls fn, then again every d and at once when wake (nil: never)
// receives, until ctx is done.
func every(ctx context.Context, d time.Duration, wake <-chan struct{}, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for ctx.Err() == nil { // a tick or a wake ready with ctx.Done: no new pass
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
	}
}

// watchRedis asks for the journal check at once when another Redis server
// process answers than the last time (INFO's run_id): Redis restarted, was
// restored from a backup, or failed over, and may have lost the last
// deliveries, which are still among the journals' latest lines now; and
// asks again on every pass until a check went through. Only on a single
// Redis or Sentinel's master: on Cluster any node answers.
func (w *Worker) watchRedis(ctx context.Context) {
	if _, one := w.cfg.Redis.(*redis.Client); !one { // Cluster, Ring: any node answers
		return
	}
	if raw, err := w.cfg.Redis.Info(ctx, "server", "replication").Result(); err == nil {
		info := redisconn.ParseInfo(raw)
		w.watchReplicas(ctx, info)
		id := info["run_id"]
		if prev := w.redisID; id != "" && prev != "" && id != prev {
			w.log.Info("another Redis server process answers (restarted, restored or failed over): checking the latest journaled deliveries against it")
			w.checksOwed.Add(1)
		}
		if id != "" {
			w.redisID = id
		}
	}
	if w.checksDone.Load() < w.checksOwed.Load() {
		wake(w.recheck)
	}
}

// wake asks the loop waiting on c to run now (once, however often asked
// before it runs).
func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// wakeStarted wakes the dispatch loop and the journal check when a
// campaign runs that did not at the last read (started): a resume, an
// approval, a staging. The check then looks at once at every running
// campaign this worker has sent: a campaign resumed after Redis went back
// in time is stopped by a worker that holds the forgotten deliveries
// within a control interval, not at its next 5-second check, even while
// workers whose journals lack them claim (README, "The limits").
func (w *Worker) wakeStarted(last, now map[string]store.Probe) {
	if started(last, now) {
		wake(w.tick)
		wake(w.recheck)
	}
}

// readActive is what the control loop logs when it cannot read the
// active campaigns.
const readActive = "read active campaigns"

func (w *Worker) refreshStates(ctx context.Context) {
	seen := w.announced.Load() // before anything is read
	w.watchRedis(ctx)
	active, err := w.st.Active(ctx)
	if !w.outage.note(ctx, readActive, err) {
		return
	}
	w.mu.Lock()
	cached := maps.Clone(w.campaigns)
	last := w.states // only this loop replaces it
	w.mu.Unlock()
	active = slices.AppendSeq(active, maps.Keys(cached)) // and every campaign this worker caches
	slices.Sort(active)
	states := make(map[string]store.Probe, len(active))
	for _, c := range slices.Compact(active) {
		cs := cached[c]
		mine := w.journaled(cs) // before Redis is read: see rollback
		p, err := w.st.Probe(ctx, c)
		switch {
		case err != nil:
			// Unreadable for now (its Cluster node fails over, say): keep
			// what was known, so that its cached state, and the outcomes
			// it holds for Redis, are not forgotten.
			if prev, ok := last[c]; ok {
				states[c] = prev
			}
		case p.State == "":
			if cs != nil {
				w.lost(cs)
			}
		default:
			states[c] = p
			if p.State == store.StateRunning && (w.cfg.Env == "" || p.Env == w.cfg.Env) {
				w.sayFormat(p.CheckFormat(c)) // nil, said nothing, for this build's format
			}
			// A running campaign's Redis went back in time (see rollback):
			// mine compared with the staging of cs, the state it counted,
			// not one of a staging anew loaded meanwhile.
			if cs != nil && p.State == store.StateRunning && p.Stage == cs.stage {
				if reason := w.rollback(cs, mine, p.Sent, "by all workers"); reason != "" {
					w.pauseCampaign(ctx, c, cs.stage, "state-loss", reason, time.Time{})
				}
			}
		}
	}
	w.mu.Lock()
	w.states, w.statesAt = states, seen
	w.mu.Unlock()
	w.wakeStarted(last, states)
	// Say in this worker's log what changed, whoever changed it (an operator
	// on another machine, the console, another worker's gate).
	for c, p := range states {
		prev, ok := last[c]
		if !ok || prev.State == p.State || prev.Stage != p.Stage {
			continue
		}
		args := []any{"campaign", c, "from", prev.State, "to", p.State}
		if ctl, err := w.st.Control(ctx, c); err == nil {
			args = append(args, "by", ctl.By, "reason", ctl.Reason)
		}
		w.log.Info("campaign "+string(p.State), args...)
	}
}

// watchingControl is what watchControl logs while it cannot subscribe.
const watchingControl = "subscribe to the announcements of control changes; pause and cancel reach this worker at its next control poll meanwhile"

// watchControl subscribes to the announcements of control changes
// (store.WatchControl) and wakes the control loop for each: a pause or
// cancel reaches this worker's chunks before their next message, not at
// its next poll. While the subscription cannot be made it tries again,
// every 5 s while Redis is away, every refusedPoll when Redis refuses it
// (an ACL that forbids SUBSCRIBE: a refusal as any other, said once with
// the fix), every minute on another error, each said as an outage
// (outageLog), and polling alone carries the changes meanwhile.
func (w *Worker) watchControl(ctx context.Context) {
	for ctx.Err() == nil {
		err := w.st.WatchControl(ctx, func() {
			w.outage.answered(watchingControl)
			w.log.Info("control changes reach this worker as they are announced", "channel", store.ControlChannel)
		}, func(string) {
			w.announced.Add(1)
			wake(w.control)
		})
		if err == nil || ctx.Err() != nil {
			return
		}
		w.outage.warn(watchingControl, err, "channel", store.ControlChannel)
		again := time.Minute
		switch kindOf(err) {
		case kindUnreachable:
			again = 5 * time.Second
		case kindRefused:
			again = refusedPoll
		}
		select {
		case <-ctx.Done():
		case <-time.After(again):
		}
	}
}

// sayAlive says this worker is alive (Store.Alive), checkInWindow/5
// apart, in a loop of its own: neither a slow control loop nor many
// campaigns' check-ins (checkIn) make a running worker look silent, which
// would let others claim without its journal check.
func (w *Worker) sayAlive(ctx context.Context) {
	w.outage.note(ctx, sayingAlive, w.st.SayAlive(ctx, w.cfg.Env, w.cfg.WorkerID, checkInWindow))
}

// checkIn checks this worker in (Store.CheckIns, one round trip) for every
// campaign of its environment that is not finished, with the state its
// journals were last checked against: claimers wait for every live
// worker's check after a state change (verify). Paused campaigns too, so
// that a resume waits for nobody's word but the checks. It runs
// checkInWindow/5 apart, in a loop of its own.
func (w *Worker) checkIn(ctx context.Context) {
	w.mu.Lock()
	checked := map[string]string{}
	for c, p := range w.states {
		switch {
		case p.State.Finished() || !w.ours(p):
		case w.journal == nil:
			checked[c] = "*" // nothing to check
		default:
			checked[c] = w.checked[c]
		}
	}
	w.mu.Unlock()
	w.outage.note(ctx, checkingIn, w.st.CheckIns(ctx, w.cfg.WorkerID, checked, checkInWindow))
}

// ours reports whether campaign probe p is of this worker's environment
// (every campaign's, for a worker of none) and of its stored format: a
// campaign of another format (staged by another build) it neither ticks
// nor checks in for, as one of another environment (sayFormat).
func (w *Worker) ours(p store.Probe) bool {
	return (w.cfg.Env == "" || p.Env == w.cfg.Env) && p.Format == store.StoredFormat
}

// sayingAlive and checkingIn are what those loops log when they cannot
// reach Redis.
const (
	sayingAlive = "say this worker is alive"
	checkingIn  = "check in for the campaigns"
)

// started reports whether a campaign runs in states that did not in last
// (staged, resumed or approved since), runs a new staging, or changed state
// since (paused and resumed between two reads: its At moved): the dispatch
// loop then runs at once, so that its batch is released now, not up to
// TickInterval later, and so does the journal check that claimers wait for
// (verify).
func started(last, states map[string]store.Probe) bool {
	for c, p := range states {
		if prev, ok := last[c]; p.State == store.StateRunning && (!ok || prev.State != p.State || prev.Stage != p.Stage || !prev.At.Equal(p.At)) {
			return true
		}
	}
	return false
}

// lost handles campaign state cs, whose campaign Redis no longer has:
// Redis lost its state (flushed, evicted, replaced by an empty instance).
// Nothing is written to Redis for it any more; its chunks stop at their
// next claim. It says so once per campaign state.
func (w *Worker) lost(cs *campaignState) {
	w.drop(cs)
	if cs.lostSaid.Swap(true) {
		return
	}
	dir := "(no journal: configure one to be able to recover)"
	if w.journal != nil {
		dir = w.journal.Dir()
	}
	w.log.Error("campaign is gone from Redis: its state was lost (flushed, evicted, or a new empty instance); this worker stops it and writes nothing more for it. Who was already delivered is in the delivery journals",
		"campaign", cs.name, "run", cs.run, "journal", dir)
}

// probeLost probes cs's campaign, handling its loss (lost) when Redis no
// longer has it.
func (w *Worker) probeLost(ctx context.Context, cs *campaignState) (store.Probe, error) {
	p, err := w.st.Probe(ctx, cs.name)
	if err == nil && p.State == "" {
		w.lost(cs)
	}
	return p, err
}

// runs reports whether cs's staging runs, as last read (the cached
// Probe of its campaign; read through on a miss, and while a control
// change announced since the last read is not read yet): the campaign is
// running and is still staged as cs. A campaign cancelled (or paused) and
// staged again reads as running, but a chunk of the staging before must
// send nothing more: what it claimed is no longer the campaign's to send.
func (w *Worker) runs(ctx context.Context, cs *campaignState) bool {
	w.mu.Lock()
	p, ok := w.states[cs.name]
	fresh := w.statesAt == w.announced.Load()
	w.mu.Unlock()
	if !ok || !fresh {
		p, _ = w.st.Probe(ctx, cs.name) // the zero Probe on an error: not running
	}
	return p.State == store.StateRunning && p.Stage == cs.stage
}

// known is the state of cs's staging as last read (StateCancelled,
// StateRunning, ...), "" when the worker holds no probe of it or the
// campaign was staged again since.
func (w *Worker) known(cs *campaignState) store.State {
	w.mu.Lock()
	p := w.states[cs.name]
	w.mu.Unlock()
	if p.Stage != cs.stage {
		return ""
	}
	return p.State
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
