package console_test

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestOnCallPagesAnswerWhileRedisStalls: when Redis accepts connections
// and answers nothing (a stalled server, here a real one paused with
// CLIENT PAUSE for ten minutes), the campaigns page, a campaign's page,
// its gallery and its recipients say that Redis does not answer (503),
// as their live parts do, in a page that tries again by itself
// (data-not-live: the live part; data-reload: the gallery and the
// recipients, reloaded once Redis answers), instead of leaving on-call
// before a blank tab for the minute and more that every read's timeouts
// and retries add up to. Before, the gallery and the recipients page
// waited on Redis without a bound.
//
// Each also says what to do meanwhile: workers that still reach Redis
// may go on sending, so it names the command that stops the campaign from
// a host that reaches Redis, and the one that says what is wrong. Before,
// they said only "retrying every second", leaving on-call nothing to do
// but wait.
func TestOnCallPagesAnswerWhileRedisStalls(t *testing.T) {
	t.Parallel()
	r, _, s := siteOfItsOwn(t, "stalled")
	op := s.signIn(t, operatorToken)
	admin := r.Client()
	if err := admin.Do(t.Context(), "CLIENT", "PAUSE", "600000", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Do(context.WithoutCancel(t.Context()), "CLIENT", "UNPAUSE").Err() })

	// The page's own bound is a few seconds; the client's is far longer,
	// so that only a page that waits on Redis without one fails here.
	hc := *op.c
	hc.Timeout = 40 * time.Second
	stop := `tidings pause stalled --env test --reason "..."`
	for _, tt := range []struct{ path, retries, stop string }{
		{"/", "data-not-live", `tidings pause CAMPAIGN --env test --reason "..."`},
		{"/c/stalled", "data-not-live", stop},
		{"/c/stalled/gallery", "data-reload", stop},
		{"/c/stalled/gallery?r=" + consoletest.Email(3, "en"), "data-reload", stop},
		{"/c/stalled/recipients", "data-reload", stop},
		{"/c/stalled/recipients?format=csv", "data-reload", stop},
	} {
		path := tt.path
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), "GET", s.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := hc.Do(req)
			if err != nil {
				var ne interface{ Timeout() bool }
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatalf("GET %s: no answer while Redis stalls (%v): the page waits on Redis without a bound", path, err)
				}
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body := html.UnescapeString(string(b))
			if want := "Cannot read Redis right now"; resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, want) || !strings.Contains(body, tt.retries) {
				t.Errorf("GET %s: %d, want 503 saying %q, in a page that tries again (%s)\n%s", path, resp.StatusCode, want, tt.retries, body)
			}
			for _, want := range []string{tt.stop, "from a host that reaches Redis", "tidings doctor --env test"} {
				if !strings.Contains(body, want) {
					t.Errorf("GET %s while Redis stalls does not say what to do meanwhile: lacks %q\n%s", path, want, body)
				}
			}
		})
	}
}

// siteOfItsOwn is a console on a redis-server of the test's own (one the
// test may stall, turn into a replica, ...), with campaign c staged (six
// recipients).
func siteOfItsOwn(t *testing.T, c string) (*redistest.Redis, *consoletest.World, *site) {
	t.Helper()
	r := redistest.StartServer(t, "../redistest/testdata/plain.conf")
	w := consoletest.NewOn(t, r, nil)
	return r, w, stagedSite(t, w, consoletest.Spec{Name: c, N: 6})
}

// stagedSite stages campaign spec in w and serves a console of w.
func stagedSite(t *testing.T, w *consoletest.World, spec consoletest.Spec) *site {
	t.Helper()
	w.Stage(t, spec)
	return newSite(t, w, false)
}
