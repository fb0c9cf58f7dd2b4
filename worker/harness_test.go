package worker_test

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
	"github.com/tidings-mail/tidings/worker"
)

// startRedis starts a real redis-server on a free port for the test.
func startRedis(t testing.TB) *redis.Client {
	t.Helper()
	return redistest.Start(t).Client()
}

var testLangs = []string{"de", "en", "fr", "es", "it", "pl"}

// opts shape a test campaign.
type opts struct {
	name       string
	n          int // recipients
	canary     int
	size       int
	interval   string
	approve    bool
	rate       string
	errorRate  float64
	window     int
	minAtt     int
	maxFail    float64
	maxAttempt int
	backoff    string
	chunk      int                 // recipients per chunk (0: the stager's default)
	resume     bool                // stage it again (send --resume-existing)
	definition func([]byte) []byte // changes the definition stored (nil: none)
	posts      func(i int) string  // recipient i's posts column, staged as it is (nil: i % 4)
	domain     func(i int) string  // recipient i's domain (nil: example.com)
	locales    fs.FS               // its catalogs, approved and stored as its snapshot (nil: the bundled ones)
}

func (o opts) yaml() string {
	if o.name == "" {
		o.name = "test-campaign"
	}
	if o.size == 0 {
		o.size = 500
	}
	if o.interval == "" {
		o.interval = "0s"
	}
	if o.rate == "" {
		o.rate = "unlimited"
	}
	if o.window == 0 {
		o.window = 200
	}
	if o.minAtt == 0 {
		o.minAtt = 20
	}
	if o.errorRate == 0 {
		o.errorRate = 0.5
	}
	if o.maxFail == 0 {
		o.maxFail = 0.9
	}
	if o.maxAttempt == 0 {
		o.maxAttempt = 3
	}
	if o.backoff == "" {
		o.backoff = "200ms"
	}
	return fmt.Sprintf(`name: %s
environment: test
template: welcome
default_locale: en
recipients: r.csv
from: "Altea Community <community@altea.example>"
list_unsubscribe: "https://altea.example/unsub?id={id}"
batches:
  canary_per_locale: %d
  size: %d
  interval: %s
  approve_after_canary: %v
  max_failure_rate: %v
rate: %s
auto_pause:
  error_rate: %v
  window: %d
  min_attempts: %d
retry:
  max_attempts: %d
  backoff: %s
data:
  reregister_url: "https://altea.example/re-register"
`, o.name, o.canary, o.size, o.interval, o.approve, o.maxFail, o.rate, o.errorRate, o.window, o.minAtt, o.maxAttempt, o.backoff)
}

// env is one test's Redis, SMTP server and staged campaign.
type env struct {
	rdb    *redis.Client
	st     *store.Store
	smtp   *smtpcapture.Server
	name   string
	staged int
	byLang map[string]int
}

func newEnv(t testing.TB, fault func(string) error) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, err := smtpcapture.Start(ctx, smtpcapture.Config{Fault: fault})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	rdb := startRedis(t)
	return &env{rdb: rdb, st: store.New(rdb), smtp: srv, byLang: map[string]int{}}
}

// email is the address of recipient i; its language is in the local part.
func email(i int, lang string) string { return fmt.Sprintf("u%05d-%s@example.com", i, lang) }

func langOf(addr string) string {
	at := strings.IndexByte(addr, '@')
	dash := strings.IndexByte(addr, '-')
	if at < 0 || dash < 0 {
		return ""
	}
	return addr[dash+1 : at]
}

func engineFor(t testing.TB, c *campaign.Campaign, tfs, lfs fs.FS) *render.Engine {
	t.Helper()
	eng, err := render.New(render.Config{Templates: tfs, Locales: lfs, Template: c.Template, DefaultLocale: c.DefaultLocale,
		Policy: render.Policy{Aliases: c.LocalePolicy.Aliases, MissingLocale: c.LocalePolicy.MissingLocale}})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// stage stages o.n recipients, languages round robin, and starts the campaign.
func (e *env) stage(t testing.TB, o opts) {
	t.Helper()
	ctx := context.Background()
	c, err := campaign.Parse([]byte(o.yaml()), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e.name = c.Name
	lfs := o.locales
	if lfs == nil {
		lfs = locales.FS
	}
	eng := engineFor(t, c, templates.FS, lfs)
	snap, err := render.Snapshot(templates.FS, lfs, c.Template)
	if err != nil {
		t.Fatal(err)
	}
	def, err := c.Definition()
	if err != nil {
		t.Fatal(err)
	}
	if o.definition != nil {
		def = o.definition(def)
	}
	sg, err := e.st.NewStager(ctx, store.StageConfig{Campaign: c.Name, Definition: def, Hash: eng.Hash(), Snapshot: snap,
		Env: "test", Who: "tester", Host: "testhost", Columns: []string{"posts"}, Canary: c.Batches.CanaryPerLocale > 0, ResumeExisting: o.resume, ChunkSize: o.chunk})
	if err != nil {
		t.Fatal(err)
	}
	// The plan's layout: the first canary_per_locale of every language in
	// the canary (batch 0), the others in batches of size in file order.
	perLang := map[string]int{}
	first, regular := 0, 0
	if c.Batches.CanaryPerLocale > 0 {
		first = 1
	}
	for i := 0; i < o.n; i++ {
		lang := testLangs[i%len(testLangs)]
		locale := lang
		if i%7 == 0 {
			locale = lang + "-CH"
		}
		m, err := eng.Resolve(locale)
		if err != nil {
			t.Fatalf("resolve %s: %v", locale, err)
		}
		addr := email(i, lang)
		if o.domain != nil {
			addr = strings.TrimSuffix(addr, "example.com") + o.domain(i)
		}
		r := store.Recipient{Line: i + 2, ID: fmt.Sprintf("id%05d", i), Email: addr, Name: "Zoë 🎉 " + lang, Locale: locale,
			Lang: m.Lang, Via: m.Via, Fields: map[string]string{"posts": fmt.Sprint(i % 4)}}
		if o.posts != nil {
			r.Fields["posts"] = o.posts(i)
		}
		batch, canary := 0, perLang[m.Lang] < c.Batches.CanaryPerLocale
		if canary {
			perLang[m.Lang]++
		} else {
			batch = first + regular/c.Batches.Size
			regular++
		}
		if err := sg.Add(ctx, r, batch, canary); err != nil {
			t.Fatal(err)
		}
		e.byLang[m.Lang]++
	}
	if _, err := sg.Finish(ctx, true); err != nil {
		t.Fatal(err)
	}
	e.staged = o.n
}

type wopts struct {
	concurrency int
	templates   fs.FS
	locales     fs.FS
	id          string
	journal     string        // journal directory ("" = none)
	env         string        // the worker's environment ("" = test, the campaigns')
	control     time.Duration // its control loop's interval (0 = 50 ms)
	check       time.Duration // its journal check's interval (0 = the default)
	tick        time.Duration // its dispatch loop's interval (0 = 50 ms)
	always      bool          // journal.fsync: always
	metrics     prometheus.Registerer
	logs        io.Writer                                          // its log, as text (nil: none)
	beforeCheck func()                                             // runs in its journal check, before it reads the journals
	smtp        *send.Config                                       // its SMTP server (nil: the env's capture server)
	rdb         redis.UniversalClient                              // its Redis client (nil: the env's)
	auto        bool                                               // redis.min_replica_acks auto (else 0)
	served      *http.Handler                                      // set to its /metrics and /healthz (worker.Handler; metrics must be a *prometheus.Registry)
	declared    string                                             // redis.maxmemory_policy (Config.MaxmemoryPolicy)
	afterPass   func(seen map[string]store.Probe, reconciled bool) // runs after each dispatch pass (worker.AfterPass)
}

// logTo returns a text logger writing to w (nil: the worker's default, none).
func logTo(w io.Writer) *slog.Logger {
	if w == nil {
		return nil
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// smtpConfig is the worker's SMTP server: o.smtp, else e's capture server.
func (o wopts) smtpConfig(e *env) send.Config {
	if o.smtp != nil {
		return *o.smtp
	}
	return send.Config{Host: e.smtp.Host(), Port: e.smtp.Port(), TLS: send.TLSNone, Timeout: 5 * time.Second}
}

// startWorker runs a worker until the returned stop function is called (or
// the test ends).
func (e *env) startWorker(t testing.TB, o wopts) (stop func()) {
	t.Helper()
	if o.concurrency == 0 {
		o.concurrency = 4
	}
	rdb := o.rdb
	if rdb == nil {
		rdb = e.rdb
	}
	w, err := worker.New(worker.Config{
		Redis: rdb, ReplicaAcks: map[bool]int{true: worker.AutoReplicaAcks}[o.auto], Concurrency: o.concurrency, Templates: o.templates, Locales: o.locales, WorkerID: o.id,
		SMTP:    o.smtpConfig(e),
		Journal: journal.Config{Dir: o.journal, Always: o.always}, Metrics: o.metrics,
		Env: cmp.Or(o.env, "test"), ControlInterval: cmp.Or(o.control, 50*time.Millisecond), TickInterval: cmp.Or(o.tick, 50*time.Millisecond), ReconcileInterval: 200 * time.Millisecond,
		ShutdownTimeout: 5 * time.Second, JournalCheck: o.check, Logger: logTo(o.logs), MaxmemoryPolicy: o.declared,
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.beforeCheck != nil {
		worker.BeforeCheck(w, o.beforeCheck)
	}
	if o.afterPass != nil {
		worker.AfterPass(w, o.afterPass)
	}
	if o.served != nil {
		*o.served = worker.Handler(o.metrics.(*prometheus.Registry), rdb, w)
	}
	return runWorker(t, w)
}

func (e *env) state(t testing.TB) store.State {
	t.Helper()
	p, err := e.st.Probe(context.Background(), e.name)
	if err != nil {
		t.Fatal(err)
	}
	return p.State
}

func (e *env) waitState(t testing.TB, d time.Duration, want store.State) {
	t.Helper()
	wait.For(t, d, "state "+string(want), func() bool { return e.state(t) == want })
}

// resumeUntilDone is on-call resuming the campaign each time it pauses
// (the auto-pause's window starts afresh) until it is done, waiting up to
// d for each pause or the end; the test fails after most resumes.
func (e *env) resumeUntilDone(t testing.TB, most int, d time.Duration, reason string) {
	t.Helper()
	ctx := context.Background()
	for i := 0; e.state(t) != store.StateDone; i++ {
		if i == most {
			st, _ := e.st.Status(ctx, e.name)
			t.Fatalf("not done after %d resumes: %+v", most, st)
		}
		if _, err := e.st.Resume(ctx, e.name, tester, reason); err != nil {
			t.Fatal(err)
		}
		wait.For(t, d, "a pause or the end", func() bool {
			s := e.state(t)
			return s == store.StatePaused || s == store.StateDone
		})
		if st, err := e.st.Status(ctx, e.name); err == nil && st.State == store.StatePaused {
			t.Logf("paused again after resume %d: %s; counts %v", i+1, st.Reason, st.Counts)
		}
	}
}

// received counts messages per recipient address at the SMTP server.
func (e *env) received() map[string]int {
	out := map[string]int{}
	for _, m := range e.smtp.Messages() {
		for _, to := range m.To {
			out[to]++
		}
	}
	return out
}

// checkReconcile verifies status and report agree with each other and with
// the SMTP server: staged + rejected = sum of outcomes; sent recipients got
// exactly one message; nobody got two.
func (e *env) checkReconcile(t testing.TB) *store.Status {
	t.Helper()
	ctx := context.Background()
	st, err := e.st.Status(ctx, e.name)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, o := range store.Outcomes {
		sum += st.Counts[o]
	}
	if sum != st.Total {
		t.Errorf("outcomes sum to %d, total is %d: %v", sum, st.Total, st.Counts)
	}
	got := e.received()
	rows := map[string]int64{}
	n := 0
	err = e.st.Report(ctx, e.name, func(r store.Row) error {
		n++
		rows[r.Outcome]++
		c := got[r.Email]
		switch r.Outcome {
		case store.OutcomeSent:
			if c != 1 {
				t.Errorf("%s is sent in the ledger but received %d messages", r.Email, c)
			}
		case store.OutcomeInDoubt:
			if c > 1 {
				t.Errorf("%s in doubt received %d messages", r.Email, c)
			}
		default:
			if c != 0 {
				t.Errorf("%s is %s but received %d messages", r.Email, r.Outcome, c)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if int64(n) != st.Total {
		t.Errorf("report has %d rows, total is %d", n, st.Total)
	}
	for _, o := range store.Outcomes {
		if rows[o] != st.Counts[o] {
			t.Errorf("report has %d %s, status counts %d", rows[o], o, st.Counts[o])
		}
	}
	for addr, c := range got {
		if c > 1 {
			t.Errorf("%s received %d messages", addr, c)
		}
	}
	return st
}

// claimed counts the staged recipients whose claim has no outcome recorded
// yet (ledger state sending).
func (e *env) claimed(t testing.TB) int {
	t.Helper()
	n := 0
	for _, en := range e.entries(t) {
		if en.Sending() {
			n++
		}
	}
	return n
}

// runWorker runs w until stop is called (or the test ends); stop returns
// once Run has, and fails the test when Run failed or did not return
// within 20 s.
func runWorker(t testing.TB, w *worker.Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("worker: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("worker did not stop within 20s")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// releaseFirst releases e's batch 0 (a tick, as a worker's) and returns
// the ledger of e's staging and chunk 0's recipients (the chunk stays
// fresh), for a test to claim or record some of them as another worker.
func (e *env) releaseFirst(t testing.TB) (*store.Ledger, []store.Recipient) {
	t.Helper()
	ctx := context.Background()
	ctl, err := e.st.Control(ctx, e.name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Tick(ctx, e.name, store.TickParams{Stage: ctl.Stage}, time.Now()); err != nil {
		t.Fatal(err)
	}
	recs, err := e.st.Chunk(ctx, e.name, 0)
	if err != nil {
		t.Fatal(err)
	}
	return e.st.Ledger(e.name, ctl.Stage), recs
}

// entries reads the ledger entries of the staged recipients, in file
// order.
func (e *env) entries(t testing.TB) []store.Entry {
	t.Helper()
	ids := make([]string, e.staged)
	for i := range ids {
		ids[i] = fmt.Sprintf("id%05d", i)
	}
	es, err := e.st.Entries(context.Background(), e.name, ids)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// active counts the chunk tasks a worker of the test environment is
// processing now (asynq's active tasks of its queue).
func (e *env) active(t testing.TB) int {
	t.Helper()
	q, err := asynq.NewInspectorFromRedisClient(e.rdb).GetQueueInfo(worker.QueueOf("test"))
	if err != nil {
		t.Fatal(err)
	}
	return q.Active
}

// holdFirst returns an SMTP fault (newEnv's) that holds the first
// recipient the relay is given until release is called (at the latest
// when the test ends), the channel on which it says whom it holds, and
// release.
func holdFirst(t testing.TB) (fault func(string) error, inFlight <-chan string, release func()) {
	var (
		first, freed sync.Once
		held         = make(chan string, 1)
		hold         = make(chan struct{})
	)
	release = func() { freed.Do(func() { close(hold) }) }
	t.Cleanup(release)
	return func(rcpt string) error {
		holding := false
		first.Do(func() { holding = true })
		if holding {
			held <- rcpt
			<-hold
		}
		return nil
	}, held, release
}

// stopWhileHeld runs one worker, w1 (one connection, a shutdown timeout
// of one second, its journal in dir), until the relay holds a message
// (inFlight says whose), then stops it (SIGTERM) and waits for Run to
// return, the relay still holding that message, whose recipient it
// returns.
func (e *env) stopWhileHeld(t testing.TB, dir string, inFlight <-chan string) string {
	t.Helper()
	w, err := worker.New(worker.Config{
		Redis: e.rdb, Concurrency: 1, WorkerID: "w1",
		SMTP:    send.Config{Host: e.smtp.Host(), Port: e.smtp.Port(), TLS: send.TLSNone, Timeout: time.Minute},
		Journal: journal.Config{Dir: dir},
		Env:     "test", ControlInterval: 50 * time.Millisecond, TickInterval: 50 * time.Millisecond, ReconcileInterval: 200 * time.Millisecond,
		ShutdownTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var slow string
	select {
	case slow = <-inFlight:
	case <-time.After(30 * time.Second):
		t.Fatal("no message reached the relay within 30 s")
	}
	cancel() // SIGTERM
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("worker: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not stop within 30 s")
	}
	return slow
}
