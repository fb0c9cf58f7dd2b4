package worker

import (
	"context"
	"fmt"
	"sync"

	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/store"
)

// Renderer is what the worker needs of the template engine; *render.Engine
// implements it.
type Renderer interface {
	Resolve(requested string) (render.Match, error)
	Render(m render.Match, d render.Data) (render.Rendered, error)
	Hash() string
}

// campaignState is everything the handler needs about one staged campaign,
// loaded once per staging epoch.
type campaignState struct {
	name     string
	epoch    int64
	meta     *store.Meta
	camp     *campaign.Campaign
	engine   Renderer
	ledger   *store.Ledger
	policy   store.Policy
	compose  *Composer
	limit    redis_rate.Limit
	limited  bool
	bulk     int    // tokens taken per rate-limiter call
	mismatch string // non-empty: this worker refuses the campaign (template hash)
	batches  []store.BatchInfo

	counters sync.Map // lang + "\x00" + kind -> prometheus.Counter of tidings_messages_total
}

// counter returns the tidings_messages_total counter of lang and outcome
// kind, looking its labels up once per campaign state.
func (cs *campaignState) counter(m *metrics, lang string, k store.Kind) prometheus.Counter {
	key := lang + "\x00" + string(k)
	if c, ok := cs.counters.Load(key); ok {
		return c.(prometheus.Counter)
	}
	c := m.messages.WithLabelValues(cs.name, lang, outcomeLabel(k))
	cs.counters.Store(key, c)
	return c
}

// campaign returns the cached state of c at epoch, loading it on a miss.
func (w *Worker) campaign(ctx context.Context, c string, epoch int64) (*campaignState, error) {
	w.mu.Lock()
	cs := w.campaigns[c]
	if cs != nil && (epoch == 0 || cs.epoch == epoch) {
		w.mu.Unlock()
		return cs, nil
	}
	lk := w.loading[c]
	if lk == nil {
		lk = &sync.Mutex{}
		w.loading[c] = lk
	}
	w.mu.Unlock()
	lk.Lock()
	defer lk.Unlock()
	w.mu.Lock()
	cs = w.campaigns[c]
	w.mu.Unlock()
	if cs != nil && (epoch == 0 || cs.epoch == epoch) {
		return cs, nil
	}
	cs, err := w.load(ctx, c)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.campaigns[c] = cs
	w.mu.Unlock()
	return cs, nil
}

func (w *Worker) load(ctx context.Context, c string) (*campaignState, error) {
	meta, err := w.st.Meta(ctx, c, true)
	if err != nil {
		return nil, err
	}
	camp, err := campaign.FromDefinition(meta.Definition)
	if err != nil {
		return nil, fmt.Errorf("load campaign %s: definition: %w", c, err)
	}
	cs := &campaignState{name: c, epoch: meta.Epoch, meta: meta, camp: camp, ledger: w.st.Ledger(c, meta.Epoch)}
	cs.policy = store.Policy{
		MaxAttempts: camp.Retry.MaxAttempts, Backoff: camp.Retry.Backoff,
		Window: camp.AutoPause.Window, ErrorRate: camp.AutoPause.ErrorRate, MinAttempts: camp.AutoPause.MinAttempts,
		Host: w.cfg.Host, Env: w.cfg.Env,
	}
	cs.compose = NewComposer(camp)
	if !camp.Rate.Unlimited() {
		cs.limited = true
		perSec := camp.Rate.PerSecond()
		cs.bulk = max(1, min(20, int(perSec/20)))
		cs.limit = redis_rate.Limit{Rate: camp.Rate.Count, Period: camp.Rate.Per, Burst: cs.bulk}
	}
	rcfg := render.Config{
		Template: camp.Template, DefaultLocale: camp.DefaultLocale,
		Policy: render.Policy{Aliases: camp.LocalePolicy.Aliases, MissingLocale: camp.LocalePolicy.MissingLocale},
	}
	source := "the approved snapshot stored with the campaign"
	if w.cfg.Templates != nil {
		rcfg.Templates, rcfg.Locales = w.cfg.Templates, w.cfg.Locales
		source = "its --templates/--locales"
	} else {
		rcfg.Templates, rcfg.Locales = render.FromSnapshot(meta.Snapshot)
	}
	eng, err := render.New(rcfg)
	if err != nil {
		fix := "fix the templates on that worker"
		if w.cfg.Templates == nil {
			// The snapshot is what was approved and cannot be edited: this
			// worker's tidings cannot read it.
			fix = "run workers of the same tidings version as the one that staged the campaign"
		}
		cs.mismatch = fmt.Sprintf("worker %s on %s cannot load %s: %s; %s, then tidings resume %s", w.cfg.WorkerID, w.cfg.Host, source, err.Error(), fix, c)
		return cs, nil
	}
	cs.engine = eng
	if h := eng.Hash(); h != meta.Hash {
		cs.mismatch = fmt.Sprintf("template mismatch: worker %s on %s renders %s with hash %s, but the approved hash is %s; deploy the approved templates and catalogs (or run the worker without --templates to use the approved snapshot), then tidings resume %s",
			w.cfg.WorkerID, w.cfg.Host, source, h, meta.Hash, c)
	}
	return cs, nil
}

// forget drops cached campaign states of campaigns no longer active.
func (w *Worker) forget(active map[string]bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for c := range w.campaigns {
		if !active[c] {
			delete(w.campaigns, c)
		}
	}
}
