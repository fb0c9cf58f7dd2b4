package console_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/preview"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestRun runs console processes as `tidings console` and `tidings preview
// --serve` do: who may sign in, where it listens, and its typed errors.
func TestRun(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	file := w.WriteCampaign(t, consoletest.Spec{Name: "run-file", N: 3})
	b, err := bundle.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	cf := &console.CampaignFile{Campaign: b.Campaign, Engine: b.Engine, Recipients: b.Recipients, Path: file}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	withOperator := map[string]string{"TIDINGS_CONSOLE_OPERATOR_TOKEN": "alice " + operatorToken}
	tests := []struct {
		name    string
		vars    map[string]string // nil: no environment
		file    bool
		addr    string
		viewers *console.TokenList
		wantErr func(error) bool
		check   func(*testing.T, console.Started)
	}{
		{name: "environment without tokens", vars: map[string]string{}, addr: "127.0.0.1:0",
			wantErr: func(err error) bool { return errors.Is(err, console.ErrNoUsers) }},
		{name: "file beyond loopback without tokens", file: true, addr: "0.0.0.0:0",
			wantErr: func(err error) bool { return errors.Is(err, console.ErrNobodyBeyondLoopback) }},
		{name: "bad token list", file: true, addr: "127.0.0.1:0", viewers: &console.TokenList{Data: "short", Source: "tokens.txt"},
			wantErr: func(err error) bool {
				var te *console.TokenError
				return errors.As(err, &te) && te.Source == "tokens.txt"
			}},
		{name: "busy address", vars: withOperator, addr: busy.Addr().String(),
			wantErr: func(err error) bool { var le *console.ListenError; return errors.As(err, &le) }},
		{name: "file on loopback: a sign-in link", file: true, addr: "127.0.0.1:0", check: func(t *testing.T, s console.Started) {
			token, ok := strings.CutPrefix(s.Link, s.Base+"/login#token=")
			if !s.Loopback || !ok || s.Addr == "127.0.0.1:0" || s.NotifyErr != nil {
				t.Fatalf("started %+v: want loopback, the port chosen, a sign-in link", s)
			}
			// The link is valid while the console runs, not once: opened on
			// a phone, then on a laptop, it signs in on both.
			for _, device := range []string{"phone", "laptop"} {
				c := (&site{Server: &httptest.Server{URL: s.Base}}).signIn(t, token)
				if code, body, _ := c.get("/file/gallery"); code != http.StatusOK || !strings.Contains(body, "run-file") {
					t.Errorf("gallery on the %s, signed in with the link's token: %d\n%s", device, code, body)
				}
			}
		}},
		{name: "environment with an operator", vars: withOperator, addr: "127.0.0.1:0", check: func(t *testing.T, s console.Started) {
			if !s.Loopback || s.Link != "" {
				t.Fatalf("started %+v: want loopback and no sign-in link", s)
			}
			c := (&site{Server: &httptest.Server{URL: s.Base}}).signIn(t, operatorToken)
			if code, _, _ := c.get("/"); code != http.StatusOK {
				t.Errorf("campaigns page: %d", code)
			}
			// Every series of /metrics names the environment, the Go
			// runtime's and the process's (go_, process_) as well.
			_, body, _ := c.get("/metrics")
			labelled(t, body, consoletest.EnvName, "go_", "process_", "tidings_")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := console.Options{Addr: tt.addr, Viewers: tt.viewers, Who: "tester",
				Server: console.Config{Compose: compose, Samples: preview.DefaultSamples()}}
			connected := false
			if tt.vars != nil {
				e, err := environment.Load(nil, "", consoletest.EnvName, func(k string) string { return tt.vars[k] })
				if err != nil {
					t.Fatal(err)
				}
				o.Env = e
				o.Connect = func(context.Context) (*store.Store, error) {
					connected = true
					return store.New(redis.NewClient(w.Redis.Options())), nil
				}
			}
			if tt.file {
				o.Server.File = cf
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			started := make(chan console.Started, 1)
			go func() { done <- console.Run(ctx, o, func(s console.Started) { started <- s }) }()
			select {
			case err := <-done:
				if tt.wantErr == nil || !tt.wantErr(err) {
					t.Fatalf("Run: %v", err)
				}
				if connected && errors.Is(err, console.ErrNoUsers) {
					t.Error("Run connected to Redis although nobody could sign in")
				}
				return
			case s := <-started:
				if tt.wantErr != nil {
					t.Fatalf("Run started %+v, want an error", s)
				}
				tt.check(t, s)
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run after the context ended: %v, want nil", err)
			}
		})
	}
}

// labelled reports every sample of a /metrics body named with one of
// prefixes that lacks environment="env", and a prefix with no sample.
func labelled(t *testing.T, body, env string, prefixes ...string) {
	t.Helper()
	want := `environment="` + env + `"`
	for _, p := range prefixes {
		n := 0
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, p) {
				n++
				if !strings.Contains(l, want) {
					t.Errorf("/metrics: %s has no %s", l, want)
				}
			}
		}
		if n == 0 {
			t.Errorf("/metrics has no %s sample:\n%s", p, body)
		}
	}
}
