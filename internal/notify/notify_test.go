package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/notify"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// hook is a local webhook receiver that records every request.
type hook struct {
	*httptest.Server
	mu     sync.Mutex
	slack  []map[string]string
	events []notify.Event
	ids    []string
	fail   int // answer 500 to this many requests first
	logs   logBuffer
}

// logBuffer collects the logs of the notifiers a test runs.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newHook(t *testing.T) *hook {
	t.Helper()
	h := &hook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.fail > 0 {
			h.fail--
			http.Error(w, "try later", http.StatusInternalServerError)
			return
		}
		h.ids = append(h.ids, r.URL.Path+" "+r.Header.Get("X-Tidings-Event"))
		switch r.URL.Path {
		case "/slack":
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				t.Errorf("slack payload %s: %v", b, err)
			}
			h.slack = append(h.slack, m)
		case "/json":
			var ev notify.Event
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Errorf("json payload %s: %v", b, err)
			}
			h.events = append(h.events, ev)
		}
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) kinds() (slack []string, events []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.slack {
		slack = append(slack, m["text"])
	}
	for _, e := range h.events {
		events = append(events, e.Kind)
	}
	return slack, events
}

// notifier is a Notifier of world w posting to h, with clock now.
func notifier(t *testing.T, w *consoletest.World, h *hook, owner string, now func() time.Time) *notify.Notifier {
	t.Helper()
	n, err := notify.New(notify.Config{
		Store: w.Store, Env: consoletest.EnvName, ConsoleURL: "https://console.example/",
		SlackURL: h.URL + "/slack", WebhookURL: h.URL + "/json", Owner: owner, Clock: now,
		Backoff: time.Minute, NoProgressAfter: 10 * time.Minute, Logger: newLogger(&h.logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAutoPauseOnceAcrossThreeNotifiers: a real worker auto-pauses a
// campaign whose every recipient is rejected; three notifiers (as three
// workers run them) poll at the same time, repeatedly; the webhook receives
// exactly one auto-pause notification per sink, with the reason, the top
// SMTP error and the console link.
func TestAutoPauseOnceAcrossThreeNotifiers(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, func(string) error { return smtpcapture.Reject(550, "5.1.1 mailbox unknown") })
	w.Stage(t, consoletest.Spec{Name: "autopause", N: 60})
	stop := w.StartWorker(t)
	st := w.WaitState(t, "autopause", store.StatePaused, 30*time.Second)
	stop()
	if st.By != "auto-pause" && !strings.Contains(st.Reason, "auto-pause") {
		t.Fatalf("paused by %q (%q), want an automatic pause", st.By, st.Reason)
	}
	// Stop the worker before the notifiers run, so the status they read no
	// longer changes (the audit entries are what they announce).
	h := newHook(t)
	var wg sync.WaitGroup
	for i := range 3 {
		n := notifier(t, w, h, "worker-"+string(rune('a'+i)), time.Now)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if err := n.Poll(t.Context()); err != nil {
					t.Errorf("poll: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	slack, events := h.kinds()
	if len(events) != 1 || events[0] != notify.KindAutoPause {
		t.Fatalf("generic webhook received %v (ids %v), want exactly one auto-pause; audit log %+v", events, h.ids, st.Audit)
	}
	if len(slack) != 1 {
		t.Fatalf("slack webhook received %d messages %q, want exactly one", len(slack), slack)
	}
	ev := h.events[0]
	if ev.Campaign != "autopause" || ev.Env != consoletest.EnvName || ev.State != "paused" || !strings.Contains(ev.Reason, "error rate") {
		t.Errorf("event %+v: want campaign autopause, env test, state paused, the auto-pause reason", ev)
	}
	if ev.TopError == nil || !strings.HasPrefix(ev.TopError.Code, "550") || !strings.Contains(ev.TopError.Response, "mailbox unknown") {
		t.Errorf("top error %+v, want 550 mailbox unknown", ev.TopError)
	}
	if ev.URL != "https://console.example/c/autopause" {
		t.Errorf("url %q, want the campaign's console page", ev.URL)
	}
	for _, want := range []string{"[test] autopause: paused automatically", "Top SMTP error: 550", "<https://console.example/c/autopause|Open in the console>"} {
		if !strings.Contains(slack[0], want) {
			t.Errorf("slack text %q lacks %q", slack[0], want)
		}
	}
	if h.ids[0] == "" || !strings.HasSuffix(h.ids[0], "autopause/a1") && !strings.Contains(h.ids[0], "autopause/a") {
		t.Errorf("X-Tidings-Event %q, want the event id", h.ids[0])
	}
	if ev.Cause != "failures" {
		t.Errorf("cause %q, want failures", ev.Cause)
	}

	// A worker then stops the same campaign (its journal failed): announced
	// with its own cause and reason, without the SMTP error, which is not
	// why it stopped.
	for _, p := range []store.TransitionParams{
		{From: []store.State{store.StatePaused}, To: store.StateRunning, Actor: store.Actor{Who: "oncall"}, Action: "resume", Reason: "bounces explained"},
		{From: []store.State{store.StateRunning}, To: store.StatePaused, Actor: store.Actor{Who: "tidings-worker"}, Action: "journal", Reason: "worker w1 cannot write its delivery journal"},
	} {
		if _, moved, err := w.Store.Transition(t.Context(), "autopause", p); err != nil || !moved {
			t.Fatalf("%s: moved %v, %v", p.Action, moved, err)
		}
	}
	if err := notifier(t, w, h, "worker-a", time.Now).Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	slack, _ = h.kinds()
	if len(h.events) != 2 || h.events[1].Cause != "journal" || h.events[1].TopError == nil {
		t.Fatalf("events %+v, want a second one caused by the journal (its top error still in the payload)", h.events)
	}
	if want := "[test] autopause: stopped by a worker: worker w1 cannot write its delivery journal."; !strings.HasPrefix(slack[1], want) || strings.Contains(slack[1], "SMTP") {
		t.Errorf("slack text %q, want it to start %q and name no SMTP error", slack[1], want)
	}
}

// TestFailedDeliveryIsRetriedOnce: the webhook fails the first delivery;
// the claim is released and, once the backoff has passed, another notifier
// delivers it; nobody delivers it twice.
func TestFailedDeliveryIsRetriedOnce(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "cancelled", N: 20})
	if _, _, err := w.Store.Cancel(t.Context(), "cancelled", store.Actor{Who: "alice", Host: "laptop", Env: consoletest.EnvName}, "wrong file"); err != nil {
		t.Fatal(err)
	}
	h := newHook(t)
	h.fail = 1
	now := time.Now()
	clock := func() time.Time { return now }
	a := notifier(t, w, h, "a", clock)
	b := notifier(t, w, h, "b", clock)
	for _, n := range []*notify.Notifier{a, b, a, b} {
		if err := n.Poll(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	// Slack's first delivery failed (the hook's first request); the generic
	// webhook has the event.
	if slack, events := h.kinds(); len(slack) != 0 || len(events) != 1 || events[0] != notify.KindCancelled {
		t.Fatalf("before the backoff passed: slack %q, events %v; want nothing on slack, one cancelled event", slack, events)
	}
	now = now.Add(2 * time.Minute)
	for _, n := range []*notify.Notifier{b, a, b} {
		if err := n.Poll(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	slack, events := h.kinds()
	if len(slack) != 1 || len(events) != 1 || events[0] != notify.KindCancelled {
		t.Fatalf("after the backoff: slack %q, events %v; want one cancelled notification each", slack, events)
	}
	if ev := h.events[0]; ev.By != "alice" || ev.Reason != "wrong file" {
		t.Errorf("cancel event by %q reason %q, want alice / wrong file", ev.By, ev.Reason)
	}
}

// TestNoProgressAndMaxAge: a running campaign whose released batch makes no
// progress for NoProgressAfter is announced once per stall; events older
// than MaxAge when first seen are not announced.
func TestNoProgressAndMaxAge(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	// One message a minute: the batch is released and then waits on the rate.
	w.Stage(t, consoletest.Spec{Name: "stall", N: 30, Rate: "1/m"})
	stop := w.StartWorker(t)
	wait.For(t, 30*time.Second, "the first message", func() bool { return w.SMTP.Count() >= 1 })
	stop()
	h := newHook(t)
	now := time.Now()
	clock := func() time.Time { return now }
	n := notifier(t, w, h, "a", clock)
	poll := func() {
		t.Helper()
		if err := n.Poll(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	poll()
	if _, events := h.kinds(); len(events) != 0 {
		t.Fatalf("events %v right after progress, want none", events)
	}
	now = now.Add(11 * time.Minute)
	poll()
	poll()
	_, events := h.kinds()
	if len(events) != 1 || events[0] != notify.KindNoProgress {
		t.Fatalf("after 11 minutes without progress: events %v, want one no-progress", events)
	}
	// At 1/m the next message was due a minute after the last: ten
	// minutes of no progress, counted from then.
	if h.events[0].Since.IsZero() || !strings.Contains(h.events[0].Reason, "no progress for 10m") || !strings.Contains(h.events[0].Reason, "(recipients due since ") {
		t.Errorf("no-progress event %+v: want since, the duration from when the next message was due, and that time named in the reason", h.events[0])
	}

	// A cancel seen first two hours later is history: not announced.
	if _, _, err := w.Store.Cancel(t.Context(), "stall", store.Actor{Who: "bob"}, "old"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	poll()
	if _, events := h.kinds(); len(events) != 1 {
		t.Errorf("events %v: an event older than MaxAge was announced", events)
	}
	if l := h.logs.String(); !strings.Contains(l, "event too old to announce") || !strings.Contains(l, "event=cancelled") {
		t.Errorf("logs %q: the cancel older than MaxAge was skipped without a word", l)
	}
}

// TestURLsAreSecret: webhook URLs carry tokens; no error names them.
func TestURLsAreSecret(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	_, err := notify.New(notify.Config{Store: w.Store, SlackURL: "hooks.example/T000/SECRET-TOKEN"})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("bad slack URL: error %v, want one that does not print the URL", err)
	}
	var logs strings.Builder
	w.Stage(t, consoletest.Spec{Name: "secret", N: 5})
	if _, _, err := w.Store.Cancel(t.Context(), "secret", store.Actor{Who: "bob"}, "x"); err != nil {
		t.Fatal(err)
	}
	n, err := notify.New(notify.Config{Store: w.Store, WebhookURL: "http://127.0.0.1:1/SECRET-TOKEN",
		Logger: newLogger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	_ = n.Poll(context.WithoutCancel(t.Context()))
	if !strings.Contains(logs.String(), "not delivered") || strings.Contains(logs.String(), "SECRET") {
		t.Errorf("logs %q: want the failure logged without the URL", logs.String())
	}
}

func newLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// TestNoProgressWithoutWorkers: a running campaign that no worker ever
// picked up (nothing released) is announced too.
func TestNoProgressWithoutWorkers(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "orphan", N: 9})
	h := newHook(t)
	now := time.Now()
	n := notifier(t, w, h, "a", func() time.Time { return now })
	for _, step := range []time.Duration{0, 11 * time.Minute, time.Second} {
		now = now.Add(step)
		if err := n.Poll(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if _, events := h.kinds(); len(events) != 1 || events[0] != notify.KindNoProgress {
		t.Fatalf("events %v, want one no-progress for a campaign no worker picked up", events)
	}
}

// TestWorkerPausesAreAnnounced: a campaign a worker stopped (Redis lost
// state, its journal failed, it cannot render the approved templates) is
// announced like an auto-pause, with the worker's reason; a person's pause
// is not (they know).
func TestWorkerPausesAreAnnounced(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	h := newHook(t)
	n := notifier(t, w, h, "a", time.Now)
	for i, action := range []string{"state-loss", "journal", "refuse", "pause"} {
		c := "wp" + string(rune('a'+i))
		w.Stage(t, consoletest.Spec{Name: c, N: 3})
		if _, _, err := w.Store.Transition(t.Context(), c, store.TransitionParams{From: []store.State{store.StateRunning, store.StateAwaitingApproval},
			To: store.StatePaused, Actor: store.Actor{Who: "tidings-worker"}, Action: action, Reason: action + " reason"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range h.events {
		got = append(got, string(ev.Kind)+":"+ev.Reason)
	}
	slices.Sort(got)
	want := []string{"auto-pause:journal reason", "auto-pause:refuse reason", "auto-pause:state-loss reason"}
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

// TestNoProgressCountsFromWhenWorkBecameDue: a notifier that first looks at
// a running campaign no worker picked up 11 minutes after it was staged
// announces no progress at once, counted from when its recipients became
// due (README, "On-call", as tidings status counts), not from its own first
// look.
func TestNoProgressCountsFromWhenWorkBecameDue(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "unseen", N: 9})
	h := newHook(t)
	now := time.Now().Add(11 * time.Minute)
	n := notifier(t, w, h, "a", func() time.Time { return now })
	if err := n.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, events := h.kinds()
	if len(events) != 1 || events[0] != notify.KindNoProgress {
		t.Fatalf("events %v, want one no-progress at the first look, 11 minutes after the campaign became due", events)
	}
	if ev := h.events[0]; !strings.Contains(ev.Reason, "no progress for 11m") || !strings.Contains(ev.Reason, "(recipients due since ") {
		t.Errorf("no-progress event reason %q: want 11 minutes counted from when its recipients became due", ev.Reason)
	}
}
