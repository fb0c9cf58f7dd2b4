package worker

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/buildinfo"
	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/store"
)

type metrics struct {
	messages   *prometheus.CounterVec
	duration   prometheus.Histogram
	rateWait   prometheus.Counter
	autoPauses *prometheus.CounterVec
	// journalBroken is 1 for each campaign this worker stopped because
	// its delivery journal could not be written (journalFailed).
	journalBroken *prometheus.GaugeVec
	up            prometheus.Gauge
	// refused is 1 while Redis refuses the worker a command for the
	// environment's settings (outageLog.refused, kindRefused).
	refused prometheus.Gauge
	// evictionHold is 1 while the worker holds its sends for Redis's
	// maxmemory-policy (evicting.go).
	evictionHold prometheus.Gauge
	// required is how many replica acknowledgements a Sentinel failover
	// requires (0 elsewhere; on Cluster, cluster holds each master's):
	// tidings_replica_acks_required, beside tidings_replica_acks
	// (acksCollector).
	required atomic.Int64
	journal  atomic.Pointer[journal.Writer]         // set once the worker runs
	st       atomic.Pointer[store.Store]            // set once the worker runs
	cluster  atomic.Pointer[[]redisconn.MasterAcks] // each Cluster master judged last
}

// newMetrics registers the worker's metrics with reg, each labelled
// environment=env when env is set (one Prometheus may scrape the workers
// of several environments).
func newMetrics(reg prometheus.Registerer, rdb redis.UniversalClient, queue, env string) (*metrics, error) {
	m := &metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tidings_messages_total", Help: "Recipients processed by this worker, by campaign, matched language and outcome.",
		}, []string{"campaign", "lang", "outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tidings_send_duration_seconds", Help: "Duration of one SMTP transaction.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		rateWait: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tidings_rate_limit_wait_seconds_total", Help: "Time spent waiting for the global rate limit.",
		}),
		autoPauses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tidings_auto_pauses_total", Help: "Campaigns paused automatically (error window, batch gate, template mismatch) by this worker.",
		}, []string{"campaign"}),
		journalBroken: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tidings_journal_broken", Help: "1 for each campaign this worker paused because it cannot write its delivery journal (until the worker restarts: the journal's failure stays with the process).",
		}, []string{"campaign"}),
		up:           prometheus.NewGauge(prometheus.GaugeOpts{Name: "tidings_worker_up", Help: "1 while the worker runs."}),
		refused:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "tidings_worker_redis_refused", Help: "1 while Redis refuses this worker a command for the environment's settings (NOPERM, NOAUTH, WRONGPASS: the Redis user's rights or password); the log says which at ERROR."}),
		evictionHold: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tidings_worker_eviction_hold", Help: "1 while this worker holds its sends because Redis's maxmemory-policy is not noeviction (on some master of a Cluster), or cannot be read and redis.maxmemory_policy does not declare it: Redis may evict keys tidings relies on; the log says which at WARN, /healthz too."}),
	}
	if reg == nil {
		return m, nil
	}
	if env != "" {
		reg = prometheus.WrapRegistererWith(prometheus.Labels{"environment": env}, reg)
	}
	queues := &queueCollector{insp: asynq.NewInspectorFromRedisClient(rdb), queue: queue,
		desc: prometheus.NewDesc("tidings_queue_tasks", "asynq tasks of the tidings queue by state (size is the total).", []string{"queue", "state"}, nil)}
	journalStat := func(name, help string, of func(*journal.Writer) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 {
			if j := m.journal.Load(); j != nil {
				return float64(of(j))
			}
			return 0
		})
	}
	// build is 1, labelled with this worker's stored format and version:
	// workers of two formats in one environment neither send nor write
	// into each other's campaigns (store.StoredFormat), which an alert
	// can tell from this alone (TidingsWorkerBuildsMixed).
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: "tidings_worker_build_info",
		Help:        "1, labelled with this worker's stored format (format) and version (version): workers of two formats in one environment neither send nor write into each other's campaigns.",
		ConstLabels: prometheus.Labels{"format": strconv.Itoa(store.StoredFormat), "version": buildinfo.String()}})
	build.Set(1)
	for _, c := range []prometheus.Collector{m.messages, m.duration, m.rateWait, m.autoPauses, m.journalBroken, m.up, m.refused, m.evictionHold, build, &acksCollector{m: m}, queues,
		journalStat("tidings_journal_writes_total", "Writes to the delivery journal (about two a claim window: its claims, then its outcomes; more when a window stops early or records a failure at once).", (*journal.Writer).Writes),
		journalStat("tidings_journal_fsyncs_total", "Fsyncs of the delivery journal (journal.fsync: one an interval, or always: at most one a write, concurrent writes sharing one).", (*journal.Writer).Syncs)} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// journalFailed records that this worker cannot write the delivery
// journal of campaign c, and stops it (tidings_journal_broken): the
// Writer keeps the failure until the process ends, so the series does too.
func (m *metrics) journalFailed(c string) { m.journalBroken.WithLabelValues(c).Set(1) }

// RegisterMetrics registers the worker's metrics with reg as a worker
// does, serving nothing: the deploy tests read their names from it
// (metricnames.Of).
func RegisterMetrics(reg prometheus.Registerer) error {
	_, err := newMetrics(reg, nil, "", "")
	return err
}

// acksCollector reports, on scrape, tidings_replica_acks (how many replica
// acknowledgements each ledger claim waits for now) and
// tidings_replica_acks_required: on Cluster one series of each per master
// the worker judged last (label master: its address), else one (master
// "", which Prometheus shows without the label); and on Cluster
// tidings_replica_acks_held, 1 for each master held (redisconn.Hold, a
// number that would mean nothing on a dashboard).
type acksCollector struct{ m *metrics }

var (
	acksDesc     = prometheus.NewDesc("tidings_replica_acks", "Replica acknowledgements each ledger claim waits for (redis.min_replica_acks, auto resolved; on Cluster one series per master judged, label master; a master held has none: tidings_replica_acks_held).", []string{"master"}, nil)
	requiredDesc = prometheus.NewDesc("tidings_replica_acks_required", "Replica acknowledgements that guarantee the replica a failover promotes holds every claim: on Sentinel every replica connected, on Cluster every replica of the master (label master, one series each; at least 1), 0 without either: alert when tidings_replica_acks is below it.", []string{"master"}, nil)
	heldDesc     = prometheus.NewDesc("tidings_replica_acks_held", "1 for each Cluster master (label master) whose claims are held: this worker has not judged it (it has not answered since the worker started) and Redis < 7 does not list its replicas (no CLUSTER SHARDS, or the ACL refuses it), so sends to it wait until it is judged; check that the workers reach that master, and upgrade Redis to 7 or allow CLUSTER SHARDS.", []string{"master"}, nil)
)

func (a *acksCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- acksDesc
	ch <- requiredDesc
	ch <- heldDesc
}

func (a *acksCollector) Collect(ch chan<- prometheus.Metric) {
	st, js := a.m.st.Load(), a.m.cluster.Load()
	if js == nil {
		acks := 0
		if st != nil {
			acks = st.ReplicaAcks()
		}
		ch <- prometheus.MustNewConstMetric(acksDesc, prometheus.GaugeValue, float64(acks), "")
		ch <- prometheus.MustNewConstMetric(requiredDesc, prometheus.GaugeValue, float64(a.m.required.Load()), "")
		return
	}
	for _, j := range *js {
		n := 0
		if st != nil {
			n = st.AcksFor(j.Addr)
		}
		ch <- prometheus.MustNewConstMetric(acksDesc, prometheus.GaugeValue, float64(n), j.Addr)
		ch <- prometheus.MustNewConstMetric(requiredDesc, prometheus.GaugeValue, float64(j.Required), j.Addr)
	}
	if st == nil {
		return
	}
	for addr, n := range st.MasterAcks() {
		if n >= redisconn.Hold {
			ch <- prometheus.MustNewConstMetric(heldDesc, prometheus.GaugeValue, 1, addr)
		}
	}
}

// queueCollector reports asynq queue sizes on scrape.
type queueCollector struct {
	insp  *asynq.Inspector
	queue string
	desc  *prometheus.Desc
}

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- q.desc }

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	info, err := q.insp.GetQueueInfo(q.queue)
	if err != nil {
		return // the queue does not exist yet
	}
	for state, n := range map[string]int{"size": info.Size, "active": info.Active, "pending": info.Pending, "retry": info.Retry, "scheduled": info.Scheduled, "archived": info.Archived} {
		ch <- prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, float64(n), q.queue, state)
	}
}

// Handler serves /metrics from g and /healthz: 200 when Redis answers,
// refuses w no command, w's sends are not held for a maxmemory-policy and
// w's delivery journal takes lines; 503 otherwise, saying why (Redis
// unreachable, else each command it refuses w and the policy that holds
// its sends: outageLog.refusals; and the journal's failure, whatever
// Redis's state: journalHealth). w nil: Redis's answer alone. The CLI mounts it on --metrics-addr (ServeMetrics).
func Handler(g prometheus.Gatherer, rdb redis.UniversalClient, w *Worker) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(rw http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		why := ""
		if err := rdb.Ping(ctx).Err(); err != nil {
			why = "redis unreachable: " + err.Error() + "\n"
		} else if w != nil {
			why = w.outage.refusals()
		}
		if w != nil {
			// Said whatever Redis's state: the one cause a restart of
			// this worker fixes (once its directory is).
			why += w.journalHealth()
		}
		if why != "" {
			http.Error(rw, why, http.StatusServiceUnavailable)
			return
		}
		_, _ = rw.Write([]byte("ok\n"))
	})
	return mux
}

// MetricsServer serves a worker's /metrics and /healthz (Handler) on an
// address of its own, beside the worker.
type MetricsServer struct {
	srv *http.Server
	ln  net.Listener
}

// ServeMetrics listens on addr (e.g. ":9090", or "127.0.0.1:0" for a free
// port) and serves Handler(g, rdb, w) there until Close. A listen error is
// net.Listen's own, which names the address.
func ServeMetrics(addr string, g prometheus.Gatherer, rdb redis.UniversalClient, w *Worker) (*MetricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m := &MetricsServer{srv: &http.Server{Handler: Handler(g, rdb, w), ReadHeaderTimeout: 5 * time.Second}, ln: ln}
	go func() { _ = m.srv.Serve(ln) }()
	return m, nil
}

// Addr is the address listened on.
func (m *MetricsServer) Addr() net.Addr { return m.ln.Addr() }

// Close stops serving at once.
func (m *MetricsServer) Close() error { return m.srv.Close() }

// messageCounters is the children of tidings_messages_total that one chunk
// counted into, kept: a chunk counts a few (its campaign, each language
// and outcome it meets) hundreds of times, and WithLabelValues hashes the
// three labels, checks they are UTF-8 and takes the vector's lock on every
// call (about 700 instructions a message in bench/instructions.sh's worker;
// docs/benchmarks.md, "the counters' children kept"). A child is the same
// counter WithLabelValues returns for those labels, so the series are
// unchanged: the worker never deletes one of tidings_messages_total.
type messageCounters struct {
	kids []messageCounter
}

type messageCounter struct {
	campaign, lang, outcome string
	c                       prometheus.Counter
}

// inc adds one to vec's child for campaign, lang and outcome.
func (mc *messageCounters) inc(vec *prometheus.CounterVec, campaign, lang, outcome string) {
	for i := range mc.kids {
		if k := &mc.kids[i]; k.lang == lang && k.outcome == outcome && k.campaign == campaign {
			k.c.Inc()
			return
		}
	}
	c := vec.WithLabelValues(campaign, lang, outcome)
	mc.kids = append(mc.kids, messageCounter{campaign: campaign, lang: lang, outcome: outcome, c: c})
	c.Inc()
}
