// Package consoletest gives the console's and the notifier's tests a real
// world to look at: a Redis database of their own (internal/redistest), a
// campaign staged by the real `tidings send` (through cli.Main, so exactly
// as an operator stages one), and real workers (worker.New(...).Run) sending
// to a real SMTP server on loopback (internal/smtpcapture). Import it from
// _test files only.
package consoletest

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/cli"
	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// EnvName is the environment every World defines.
const EnvName = "test"

// Langs are the bundled catalog languages, all complete.
var Langs = []string{"ar", "de", "en", "es", "fr", "it", "ja", "pl", "ru"}

// World is one test's Redis database and SMTP server, with an environment
// config file pointing at both.
type World struct {
	Redis  *redistest.Redis
	Store  *store.Store
	SMTP   *smtpcapture.Server
	Dir    string // the test's directory: config, campaign files
	Config string // path of tidings.yaml defining EnvName
}

// New starts an SMTP capture server (fault may reject recipients; nil
// accepts all) and gives the test a Redis database and a config file.
func New(t testing.TB, fault func(rcpt string) error) *World {
	t.Helper()
	return NewOn(t, redistest.Start(t), fault)
}

// NewOn is New on Redis r (for example a server of the test's own, from
// redistest.StartServer, that the test may turn into a replica).
func NewOn(t testing.TB, r *redistest.Redis, fault func(rcpt string) error) *World {
	t.Helper()
	return NewWithSMTP(t, r, smtpcapture.Config{Fault: fault})
}

// NewWithSMTP is NewOn with the SMTP capture server configured by cfg
// (Drop: a relay that drops the connection after DATA, so the delivery
// is in doubt).
func NewWithSMTP(t testing.TB, r *redistest.Redis, cfg smtpcapture.Config) *World {
	t.Helper()
	srv, err := smtpcapture.Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("start SMTP server: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	// The store is scoped to the environment, as tidings console's is.
	w := &World{Redis: r, Store: store.NewWithConfig(r.Client(), store.Config{Env: EnvName}), SMTP: srv, Dir: t.TempDir()}
	w.Config = filepath.Join(w.Dir, "tidings.yaml")
	fixture.Write(t, w.Config, fmt.Sprintf(`environments:
  %s:
    production: false
    state_dir: %s
    redis:
      url: %s
    smtp:
      host: %s
      port: %d
      tls: none
`, EnvName, filepath.Join(w.Dir, "state"), r.URL, srv.Host(), srv.Port()))
	return w
}

// Spec is a campaign to stage.
type Spec struct {
	Name     string
	N        int      // recipients, cycling through Locales
	Locales  []string // default Langs
	Canary   int      // canary_per_locale
	Size     int      // batch size (default 500)
	Approve  bool     // approve_after_canary
	Rate     string   // default unlimited
	Extra    string   // more YAML appended to the campaign file
	ErrRate  string   // auto_pause.error_rate (default 0.5)
	Unsub    bool     // set list_unsubscribe
	Incomplt bool     // add testdata's incomplete pt catalog (pt is refused)
	// As adds catalogs: language -> the bundled language whose catalog
	// it copies (add the language to Locales to have recipients in it).
	As       map[string]string
	Names    []string // recipients' names, cycled (default: a mix of scripts, emoji and markup)
	From     string   // the campaign's from (default "Altea Community <community@altea.example>")
	GateRate string   // batches.max_failure_rate (default: the campaign's default)
}

// RepoRoot is the module's root directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("consoletest: cannot locate the repository")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// Email is the address of recipient i.
func Email(i int, locale string) string { return fmt.Sprintf("r%05d-%s@example.com", i, locale) }

// WriteCampaign writes the campaign file (bundled templates and catalogs)
// and its recipients into a directory of its own and returns the file.
func (w *World) WriteCampaign(t testing.TB, s Spec) string {
	t.Helper()
	if len(s.Locales) == 0 {
		s.Locales = Langs
	}
	if s.Size == 0 {
		s.Size = 500
	}
	if s.Rate == "" {
		s.Rate = "unlimited"
	}
	if s.ErrRate == "" {
		s.ErrRate = "0.5"
	}
	if s.From == "" {
		s.From = "Altea Community <community@altea.example>"
	}
	gate := ""
	if s.GateRate != "" {
		gate = "  max_failure_rate: " + s.GateRate + "\n"
	}
	dir := filepath.Join(w.Dir, s.Name)
	root := RepoRoot(t)
	locales := filepath.Join(root, "locales")
	if s.Incomplt || len(s.As) > 0 {
		locales = filepath.Join(dir, "locales")
		for _, l := range Langs {
			copyFile(t, filepath.Join(root, "locales", l+".toml"), filepath.Join(locales, l+".toml"))
		}
		for l, from := range s.As {
			copyFile(t, filepath.Join(root, "locales", from+".toml"), filepath.Join(locales, l+".toml"))
		}
	}
	if s.Incomplt {
		copyFile(t, filepath.Join(root, "testdata", "locales-incomplete", "pt.toml"), filepath.Join(locales, "pt.toml"))
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write([]string{"email", "name", "locale", "posts"})
	names := []string{"Zoë Okafor 🌱", "Jürgen Groß", "ليلى حداد", "山田 花子", "Анна Смирнова", "Łukasz Wójcik", "Niccolò <b>Ricci</b>"}
	if len(s.Names) > 0 {
		names = s.Names
	}
	for i := range s.N {
		loc := s.Locales[i%len(s.Locales)]
		_ = cw.Write([]string{Email(i, loc), names[i%len(names)], loc, strconv.Itoa(i % 23)})
	}
	cw.Flush()
	fixture.Write(t, filepath.Join(dir, "recipients.csv"), buf.String())
	unsub := ""
	if s.Unsub {
		unsub = "list_unsubscribe: \"https://altea.example/unsubscribe?id={id}\"\n"
	}
	y := fmt.Sprintf(`name: %s
environment: %s
template: welcome
templates_dir: %s
locales_dir: %s
default_locale: en
recipients: recipients.csv
from: %q
reply_to: support@altea.example
%sbatches:
  canary_per_locale: %d
  size: %d
  interval: 0s
  approve_after_canary: %t
%srate: %s
auto_pause:
  error_rate: %s
  window: 20
  min_attempts: 10
retry:
  max_attempts: 1
data:
  reregister_url: "https://altea.example/re-register?t=test"
%s`, s.Name, EnvName, filepath.Join(root, "templates"), locales, s.From, unsub, s.Canary, s.Size, s.Approve, gate, s.Rate, s.ErrRate, s.Extra)
	file := filepath.Join(dir, "campaign.yaml")
	fixture.Write(t, file, y)
	return file
}

// Stage writes the campaign and stages it with the real `tidings send`.
func (w *World) Stage(t testing.TB, s Spec) string {
	t.Helper()
	file := w.WriteCampaign(t, s)
	if out, code := w.CLI(t, "send", file, "--env", EnvName, "--skip-refused", "--skip-invalid", "--rejects", filepath.Join(w.Dir, s.Name+".rejects.csv")); code != 0 {
		t.Fatalf("tidings send %s: exit %d\n%s", s.Name, code, out)
	}
	return file
}

// CLI runs tidings in-process with this world's config file and returns
// its combined output and exit code.
func (w *World) CLI(t testing.TB, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	code := cli.Main(t.Context(), append([]string{"--config", w.Config, "--log-level", "warn"}, args...), bytes.NewReader(nil), &out, &out)
	return out.String(), code
}

// StartWorker runs a real worker (worker.New(...).Run) until the test ends
// or stop is called.
func (w *World) StartWorker(t testing.TB) (stop func()) {
	t.Helper()
	wk, err := worker.New(worker.Config{
		Redis: w.Redis.Client(), Concurrency: 2, Env: EnvName,
		SMTP: send.Config{Host: w.SMTP.Host(), Port: w.SMTP.Port(), TLS: send.TLSNone},
	})
	if err != nil {
		t.Fatalf("new worker: %v", err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() { done <- wk.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("worker: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// WaitState polls the campaign's state until it is want, failing the test
// after timeout.
func (w *World) WaitState(t testing.TB, c string, want store.State, timeout time.Duration) *store.Status {
	t.Helper()
	var st *store.Status
	wait.For(t, timeout, fmt.Sprintf("campaign %s to be %s", c, want), func() bool {
		var err error
		st, err = w.Store.Status(t.Context(), c)
		if err != nil {
			t.Fatalf("status of %s: %v", c, err)
		}
		return st.State == want
	})
	return st
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	fixture.Write(t, to, string(b))
}
