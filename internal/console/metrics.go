package console

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

// Campaign metrics, read from Redis on every scrape (every campaign of the
// environment, whichever worker sends it), each with the label environment
// (Config.Env) besides those below. Documented in docs/console.md.
var (
	descState = prometheus.NewDesc("tidings_campaign_state",
		"1 for the campaign's current state, 0 for the others (staged, running, awaiting-approval, paused, cancelled, done; being-staged while its first staging runs, staging-interrupted and restaging-interrupted when its staging stopped before its end, and no worker sends it).",
		[]string{"campaign", "state"}, nil)
	descRecipients = prometheus.NewDesc("tidings_campaign_recipients",
		"Recipients by matched language and outcome (sent, failed, in-doubt, refused, invalid, skipped, cancelled, pending); lang is empty for rows rejected before a language was matched.",
		[]string{"campaign", "lang", "outcome"}, nil)
	descTotal = prometheus.NewDesc("tidings_campaign_rows",
		"Rows of the campaign's recipients file (staged plus rejected).", []string{"campaign"}, nil)
	descSince = prometheus.NewDesc("tidings_campaign_seconds_since_progress",
		"Seconds since the campaign last recorded an outcome; with none recorded yet, since recipients became due to be sent.", []string{"campaign"}, nil)
	descWaiting = prometheus.NewDesc("tidings_campaign_work_waiting",
		"1 while recipients wait that workers should be sending now: a released batch with recipients never attempted, no batch released yet, the next batch's time come, or retries due (a running campaign without such work waits on purpose: batch interval, approval, retries or its rate not due yet).",
		[]string{"campaign"}, nil)
	descPausedAuto = prometheus.NewDesc("tidings_campaign_paused_automatically",
		"1 while the campaign is paused by tidings itself (the error window, a batch gate, a worker that stopped it), not by a person (tidings pause, the console's Pause); 0 otherwise.",
		[]string{"campaign"}, nil)
	descAwaiting = prometheus.NewDesc("tidings_campaign_awaiting_approval",
		"1 while the campaign waits for approval after its canary.", []string{"campaign"}, nil)
	descRate = prometheus.NewDesc("tidings_campaign_send_rate",
		"Outcomes recorded per second over the last 10 seconds.", []string{"campaign"}, nil)
	descETA = prometheus.NewDesc("tidings_campaign_eta_seconds",
		"Estimated seconds until every recipient has an outcome: the pending ones at the recent (or configured) rate plus the intervals before the batches still to be released (absent when unknown or waiting for an approval).", []string{"campaign"}, nil)
	descRetries = prometheus.NewDesc("tidings_campaign_retries_waiting",
		"Recipients waiting for a retry after a temporary failure.", []string{"campaign"}, nil)
	descBatch = prometheus.NewDesc("tidings_campaign_current_batch",
		"The highest released batch (0 is the canary; -1 before the first release).", []string{"campaign"}, nil)
	descUp = prometheus.NewDesc("tidings_console_redis_up",
		"1 when the console could read the campaigns from Redis during this scrape.", nil, nil)
)

var states = []store.State{store.StateStaged, store.StateRunning, store.StateAwaitingApproval, store.StatePaused, store.StateCancelled, store.StateDone,
	store.StateBeingStaged, store.StateStagingInterrupted, store.StateRestagingInterrupted, store.StateControlLost}

// collector reads every campaign's status on one scrape. It is built per
// request so that reading Redis follows the scrape's context (Collect takes
// none).
type collector struct {
	s   *Server
	ctx context.Context
}

// metrics serves /metrics: the console's registry plus the campaigns, read
// now.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	g := prometheus.Gatherers{s.reg}
	if s.cfg.Store != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		reg := prometheus.NewRegistry()
		var r prometheus.Registerer = reg
		if s.cfg.Env != "" {
			// One Prometheus may scrape several environments' consoles.
			r = prometheus.WrapRegistererWith(prometheus.Labels{"environment": s.cfg.Env}, reg)
		}
		r.MustRegister(&collector{s: s, ctx: ctx})
		g = append(g, reg)
	}
	promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorLog: slogAdapter{s.log}}).ServeHTTP(w, r)
}

// slogAdapter lets promhttp log through slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Println(v ...any) { a.l.Warn("console: metrics", "err", fmt.Sprint(v...)) }

// descs are every campaign metric the console serves.
var descs = []*prometheus.Desc{descState, descPausedAuto, descRecipients, descTotal, descSince, descWaiting, descAwaiting, descRate, descETA, descRetries, descBatch, descUp}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range descs {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	list, err := c.s.overviews(c.ctx)
	up := 1.0
	if err != nil {
		up = 0
	}
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	g(descUp, up)
	for _, o := range list {
		st := o.St
		if st == nil {
			continue
		}
		now := statusview.ReadAt(st, c.s.cfg.Clock()) // Redis's, as st's times
		name := st.Campaign
		for _, s := range states {
			v := 0.0
			if st.State == s {
				v = 1
			}
			g(descState, v, name, string(s))
		}
		g(descPausedAuto, b2f(statusview.PausedAutomatically(st)), name)
		g(descAwaiting, b2f(st.State == store.StateAwaitingApproval), name)
		g(descWaiting, b2f(st.WorkWaiting(now)), name)
		g(descTotal, float64(st.Total), name)
		rest := map[string]int64{}
		for k, v := range st.Counts {
			rest[k] = v
		}
		for _, l := range st.Languages {
			for _, out := range store.Outcomes {
				g(descRecipients, float64(l.Counts[out]), name, l.Lang, out)
				rest[out] -= l.Counts[out]
			}
		}
		for _, out := range store.Outcomes {
			g(descRecipients, float64(rest[out]), name, "", out)
		}
		if since := cmp.Or(o.Since, st.DueSince); !since.IsZero() && !since.After(now) {
			g(descSince, now.Sub(since).Seconds(), name)
		}
		g(descRate, st.Rate, name)
		if st.ETASeconds > 0 {
			g(descETA, st.ETASeconds, name)
		}
		g(descRetries, float64(st.Retries), name)
		g(descBatch, float64(st.CurBatch), name)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
