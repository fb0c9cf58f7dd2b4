// Package notify tells people about the campaign events that need them:
// an automatic pause (with its reason and the most frequent SMTP error), a
// canary waiting for approval, a campaign done or cancelled, and a running
// campaign that has made no progress for a while. It posts each event to a
// Slack-compatible incoming webhook and/or a generic JSON webhook, with a
// link to the campaign's page in the console.
//
// Any number of processes run a Notifier (every worker and every console):
// the events come from the campaigns' audit logs in Redis, and each
// delivery is claimed in Redis before it is attempted (internal/store's
// ClaimNotification), so each event reaches each webhook once however many
// notifiers see it. A failed delivery is released and retried with backoff
// by whichever notifier comes next. A notifier that dies after the webhook
// accepted an event but before recording it lets the event be delivered
// again when its lease ends: the payload carries the event id (and the
// X-Tidings-Event header) for receivers that must deduplicate.
package notify

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/store"
)

// Event kinds.
const (
	KindAutoPause        = "auto-pause"
	KindAwaitingApproval = "awaiting-approval"
	KindDone             = "done"
	KindCancelled        = "cancelled"
	KindNoProgress       = "no-progress"
)

// kindOf maps an audit-log action to the event kind it announces ("" for
// actions nobody needs to hear about: start, pause, resume, approve, retry).
func kindOf(action string) string {
	switch action {
	case "auto-pause", "state-loss", "journal", "refuse":
		// The error rate, or a worker that stopped the campaign: Redis lost
		// state, its journal failed, it cannot render what was approved.
		return KindAutoPause
	case "await-approval":
		return KindAwaitingApproval
	case "done":
		return KindDone
	case "cancel":
		return KindCancelled
	}
	return ""
}

// Config configures a Notifier.
type Config struct {
	// Store is the environment's store (required).
	Store *store.Store
	// Env is the environment's name; Production marks it production in
	// every message.
	Env        string
	Production bool
	// ConsoleURL is the console's base URL (e.g. https://tidings.example);
	// messages link to ConsoleURL/c/<campaign>. Empty: no link.
	ConsoleURL string
	// SlackURL is a Slack-compatible incoming webhook ({"text": ...}).
	SlackURL string
	// WebhookURL receives the generic JSON payload (Event).
	WebhookURL string
	// NoProgressAfter is how long a running campaign with work waiting may
	// make no progress before a no-progress event (default 10m).
	NoProgressAfter time.Duration
	// Interval is how often campaigns are checked (default 5s).
	Interval time.Duration
	// MaxAge: an event older than this that no notifier has tried to
	// deliver yet is not announced (it is logged), so a notifier started
	// late does not replay history (default 1h). It does not apply to a
	// delivery that was attempted: a failed one is retried, with backoff,
	// until the webhook accepts it, however long that takes.
	MaxAge time.Duration
	// Lease is how long a claimed delivery is held before another process
	// may take it over (default 30s; above the HTTP timeout).
	Lease time.Duration
	// Backoff is the delay before the first retry of a failed delivery,
	// doubled per failure up to MaxBackoff (defaults 5s and 10m).
	Backoff, MaxBackoff time.Duration
	// HTTPClient posts the webhooks (default: 10 s timeout).
	HTTPClient *http.Client
	// Logger receives structured logs (default: discard).
	Logger *slog.Logger
	// Clock returns the current time (default time.Now).
	Clock func() time.Time
	// Owner identifies this process in claims (default host-pid-random).
	Owner string
}

// Notifier delivers campaign events to webhooks.
type Notifier struct {
	cfg   Config
	log   *slog.Logger
	sinks []sink
}

// sink is one webhook.
type sink struct {
	name    string // "slack" or "webhook": part of the delivery id
	url     string // a secret: never logged
	payload func(Event) ([]byte, error)
}

// New applies defaults and validates cfg.
func New(cfg Config) (*Notifier, error) {
	if cfg.Store == nil {
		return nil, errors.New("new notifier: Config.Store is required")
	}
	if cfg.NoProgressAfter <= 0 {
		cfg.NoProgressAfter = 10 * time.Minute
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = time.Hour
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Lease <= 0 {
		cfg.Lease = max(30*time.Second, 3*cfg.HTTPClient.Timeout)
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 5 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		cfg.Owner = fmt.Sprintf("notify-%s-%d-%08x", host, os.Getpid(), rand.Uint32())
	}
	cfg.ConsoleURL = strings.TrimRight(cfg.ConsoleURL, "/")
	n := &Notifier{cfg: cfg, log: cfg.Logger}
	for _, s := range []sink{{"slack", cfg.SlackURL, slackPayload}, {"webhook", cfg.WebhookURL, jsonPayload}} {
		if s.url == "" {
			continue
		}
		if u, err := url.Parse(s.url); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, &URLError{Sink: s.name}
		}
		n.sinks = append(n.sinks, s)
	}
	return n, nil
}

// URLError reports a webhook URL that is not an http(s) URL. It does not
// carry the URL, which is a secret.
type URLError struct {
	Sink string // "slack" or "webhook"
}

func (e *URLError) Error() string {
	return fmt.Sprintf("the %s webhook URL is not an http(s) URL", e.Sink)
}

// Enabled reports whether at least one webhook is configured.
func (n *Notifier) Enabled() bool { return len(n.sinks) > 0 }

// Run checks every campaign each Interval and delivers the events due,
// until ctx ends. Errors are logged and retried on the next round.
func (n *Notifier) Run(ctx context.Context) error {
	t := time.NewTicker(n.cfg.Interval)
	defer t.Stop()
	for {
		if err := n.Poll(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("notifications: check campaigns", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Poll checks every campaign once and delivers the events due. It returns
// the first error met; other campaigns are still checked.
func (n *Notifier) Poll(ctx context.Context) error {
	names, err := n.cfg.Store.List(ctx, n.cfg.Env)
	if err != nil {
		return err
	}
	var first error
	for _, c := range names {
		if err := n.pollCampaign(ctx, c); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			n.log.Warn("notifications: check campaign", "campaign", c, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

func (n *Notifier) pollCampaign(ctx context.Context, c string) error {
	st, err := n.cfg.Store.Status(ctx, c)
	if errors.Is(err, store.ErrNotFound) {
		return nil // unstaged between List and Status
	}
	if err != nil {
		return err
	}
	now := n.cfg.Clock()
	if !n.Enabled() {
		return nil
	}
	cursor, err := n.cfg.Store.NotifyCursor(ctx, c)
	if err != nil {
		return err
	}
	next, blocked := cursor, false
	var passed []string
	for i := cursor; i < len(st.Audit); i++ {
		a := st.Audit[i]
		kind := kindOf(a.Action)
		done := true
		if kind != "" {
			ev := n.event(st, kind, a.Action, a.At, a.Reason, a.Who)
			ev.ID = auditEventID(c, i, a.At)
			var old []string
			done, old, err = n.deliver(ctx, c, fmt.Sprintf("a%d", i), i, now.Sub(a.At) > n.cfg.MaxAge, ev)
			if err != nil {
				return err
			}
			if len(old) > 0 && done && !blocked {
				// Not replayed as news, but never dropped without a word
				// (once: when the cursor passes it).
				n.log.Warn("notifications: event too old to announce (no notifier tried to deliver it within max_age of when it happened)",
					"campaign", c, "event", kind, "id", ev.ID, "sinks", strings.Join(old, ","), "at", a.At.UTC().Format(time.RFC3339), "reason", a.Reason, "max_age", n.cfg.MaxAge)
			}
		}
		if !done {
			blocked = true
		}
		if !blocked {
			next = i + 1
			for _, s := range n.sinks {
				passed = append(passed, fmt.Sprintf("a%d:%s", i, s.name))
			}
		}
	}
	if next > cursor {
		if err := n.cfg.Store.AdvanceNotifyCursor(ctx, c, next, passed); err != nil {
			return err
		}
	}
	if since := st.Stalled(); !since.IsZero() && now.Sub(since) >= n.cfg.NoProgressAfter {
		what := "last progress" // or work that became due later: an approval, a resume, the rate's next message
		if !since.Equal(st.LastProgress) {
			what = "recipients due since"
		}
		ev := n.event(st, KindNoProgress, "", now, fmt.Sprintf("no progress for %s while running (%s %s)",
			now.Sub(since).Round(time.Second), what, since.UTC().Format(time.RFC3339)), "")
		ev.Since = since.UTC()
		key := fmt.Sprintf("stall-%d", since.UnixMilli())
		ev.ID = c + "/" + key
		if _, _, err := n.deliver(ctx, c, key, -1, false, ev); err != nil {
			return err
		}
	}
	return nil
}

// deliver claims and posts the event to every sink not yet done. index is
// the event's audit-log index (-1 for others). tooOld: the event is older
// than MaxAge, so a sink whose delivery no notifier has attempted yet does
// not get it (a delivery that was attempted is retried however old). It
// reports whether every sink has it or was passed over as too old, and
// which sinks were.
func (n *Notifier) deliver(ctx context.Context, c, key string, index int, tooOld bool, ev Event) (bool, []string, error) {
	all := true
	var old []string
	for _, s := range n.sinks {
		id := key + ":" + s.name
		res, attempts, err := n.cfg.Store.ClaimNotification(ctx, c, store.Delivery{Event: id, Index: index, Owner: n.cfg.Owner, Lease: n.cfg.Lease, TooOld: tooOld}, n.cfg.Clock())
		if err != nil {
			return false, nil, err
		}
		switch res {
		case store.NotifyDelivered:
			continue
		case store.NotifyTooOld:
			old = append(old, s.name)
			continue
		case store.NotifyHeld, store.NotifyBackoff:
			all = false
			continue
		}
		log := n.log.With("campaign", c, "event", ev.Kind, "id", ev.ID, "sink", s.name)
		if err := n.post(ctx, s, ev); err != nil {
			all = false
			wait := min(n.cfg.MaxBackoff, n.cfg.Backoff<<min(attempts, 20))
			log.Warn("notification not delivered; retrying later", "attempt", attempts+1, "retry_in", wait, "err", err)
			if err := n.cfg.Store.EndNotification(context.WithoutCancel(ctx), c, id, n.cfg.Owner, n.cfg.Clock(), n.cfg.Clock().Add(wait)); err != nil {
				return false, nil, err
			}
			continue
		}
		if err := n.cfg.Store.EndNotification(context.WithoutCancel(ctx), c, id, n.cfg.Owner, n.cfg.Clock(), time.Time{}); err != nil {
			return false, nil, err
		}
		log.Info("notification delivered")
	}
	return all, old, nil
}

// auditEventID is the id of the event announcing audit entry i of campaign
// c, written at: "<campaign>/a<index>-<unix ms>". The index alone repeats
// when Redis loses the campaign and it is staged again (its audit log
// starts over); the entry's time does not, and, being the entry's own, it
// is the same for every notifier and every retry, and across restagings.
func auditEventID(c string, i int, at time.Time) string {
	return fmt.Sprintf("%s/a%d-%d", c, i, at.UnixMilli())
}

// postTimeout bounds a post when the HTTP client sets no timeout of its
// own.
const postTimeout = 10 * time.Second

// post sends ev to one sink. Errors never include the URL (a secret).
//
// A post under way is let finish when ctx ends (a worker stopped by a
// deploy, a console shut down): the webhook may already have the event,
// and a post cut off would be recorded as failed and posted again by the
// next notifier. It is bounded by the HTTP client's timeout (postTimeout
// without one), below the lease, so the process's shutdown still ends.
func (n *Notifier) post(ctx context.Context, s sink, ev Event) error {
	body, err := s.payload(ev)
	if err != nil {
		return fmt.Errorf("encode %s payload: %w", s.name, err)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cmp.Or(n.cfg.HTTPClient.Timeout, postTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post to the %s webhook: bad request", s.name)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tidings-notify")
	req.Header.Set("X-Tidings-Event", ev.ID)
	resp, err := n.cfg.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post to the %s webhook: %w", s.name, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post to the %s webhook: %w", s.name, &StatusError{Code: resp.StatusCode})
	}
	return nil
}

// StatusError is a webhook's non-2xx answer.
type StatusError struct {
	Code int
}

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP status %d", e.Code) }

// ForEnvironment returns the settings of environment e's notifier on st:
// its webhooks, its no-progress delay, and its console's public URL when
// the configuration names one (console.url); otherwise messages carry no
// link, since the console's address is only known where it runs.
func ForEnvironment(e *environment.Environment, st *store.Store) Config {
	c := Config{
		Store: st, Env: e.Name, Production: e.Production, NoProgressAfter: e.Notify.NoProgressAfter,
		SlackURL: e.Notify.SlackWebhookURL.Reveal(), WebhookURL: e.Notify.WebhookURL.Reveal(),
	}
	if e.Console.URL != "http://"+e.Console.Addr {
		c.ConsoleURL = e.Console.URL // set explicitly, not derived from the address
	}
	return c
}

// Start runs a Notifier with cfg in a goroutine of its own until ctx ends,
// when a webhook is configured. It returns New's error, and wait, which
// returns once the notifier has stopped after ctx ended: a post under way
// when ctx ends is let finish and recorded first (post), so a process that
// calls wait before it exits does not have its event posted again by
// another notifier. wait returns at once when no notifier runs.
func Start(ctx context.Context, cfg Config) (wait func(), err error) {
	n, err := New(cfg)
	if err != nil || !n.Enabled() {
		return func() {}, err
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = n.Run(ctx)
	}()
	return func() { <-stopped }, nil
}
