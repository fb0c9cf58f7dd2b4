package notify_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/notify"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

func TestForEnvironment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		vars    map[string]string
		wantURL string
	}{
		{"console url derived from its address: no link", map[string]string{"TIDINGS_CONSOLE_ADDR": "127.0.0.1:7000"}, ""},
		{"console url configured", map[string]string{"TIDINGS_CONSOLE_URL": "https://tidings.example"}, "https://tidings.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.vars["TIDINGS_NOTIFY_WEBHOOK_URL"] = "https://hooks.example/json"
			tt.vars["TIDINGS_NOTIFY_SLACK_WEBHOOK_URL"] = "https://hooks.example/slack"
			tt.vars["TIDINGS_NOTIFY_NO_PROGRESS_AFTER"] = "5m"
			e, err := environment.Load(nil, "", "production", func(k string) string { return tt.vars[k] })
			if err != nil {
				t.Fatal(err)
			}
			c := notify.ForEnvironment(e, nil)
			got := [...]any{c.Env, c.Production, c.ConsoleURL, c.SlackURL, c.WebhookURL, c.NoProgressAfter}
			want := [...]any{"production", true, tt.wantURL, "https://hooks.example/slack", "https://hooks.example/json", 5 * time.Minute}
			if got != want {
				t.Errorf("ForEnvironment: env, production, console URL, slack, webhook, no progress after:\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestStart(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "started", N: 3})
	if _, _, err := w.Store.Cancel(t.Context(), "started", store.Actor{Who: "bob"}, "wrong file"); err != nil {
		t.Fatal(err)
	}
	// Nothing runs without a webhook or with a wrong one: wait returns at
	// once (the context has not ended).
	if stopped, err := notify.Start(t.Context(), notify.Config{Store: w.Store}); err != nil {
		t.Errorf("Start without a webhook: %v, want nil (nothing to do)", err)
	} else {
		stopped()
	}
	var ue *notify.URLError
	if stopped, err := notify.Start(t.Context(), notify.Config{Store: w.Store, WebhookURL: "hunter2"}); !errors.As(err, &ue) {
		t.Errorf("Start with a bad webhook URL: %v, want a *URLError", err)
	} else {
		stopped()
	}
	h := newHook(t)
	ctx, stop := context.WithCancel(t.Context())
	stopped, err := notify.Start(ctx, notify.Config{Store: w.Store, Env: consoletest.EnvName, WebhookURL: h.URL + "/json"})
	if err != nil {
		t.Fatal(err)
	}
	wait.For(t, 30*time.Second, "the cancelled event", func() bool {
		_, events := h.kinds()
		return len(events) == 1 && events[0] == notify.KindCancelled
	})
	stop()
	stopped() // returns once the notifier has stopped
}
