package console_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestLostAnswerSaysTheActionMayHaveTakenEffect: on-call presses an
// action and its answer never arrives (the connection drops after the
// console applied it: a proxy's timeout, a network change on a phone),
// or arrives as a proxy's page rather than the console's JSON (502). The
// console did act: the campaign is paused, or cancelled. The page must
// not say "nothing was changed by this click. Try again." (on-call would
// believe the send still runs, or cancel twice): it says the action may
// have taken effect and to look at the campaign's state before pressing
// again, as the console's own answer does when Redis did not answer.
// Before, a dropped answer said that nothing was changed, and a proxy's
// page said only "HTTP 502".
func TestLostAnswerSaysTheActionMayHaveTakenEffect(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		// answer replaces the console's answer to the action, after the
		// console ran it.
		answer func(w http.ResponseWriter)
	}{
		{"connection dropped", func(w http.ResponseWriter) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}},
		{"a proxy's page", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const c = "lost"
			w := consoletest.New(t, nil)
			s := stagedSite(t, w, consoletest.Spec{Name: c, N: 6})
			console := s.Config.Handler
			// The network between the browser and the console: it
			// passes everything, but loses the answer to the pause.
			front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost && r.URL.Path == "/c/"+c+"/pause" {
					console.ServeHTTP(httptest.NewRecorder(), r)
					tt.answer(rw)
					return
				}
				console.ServeHTTP(rw, r)
			}))
			t.Cleanup(front.Close)

			ctx := browser(t)
			browserSignIn(t, ctx, front.URL, operatorToken)
			do(t, ctx, "open the campaign", chromedp.Navigate(front.URL+"/c/"+c), chromedp.WaitVisible(`#state`))
			reason := `form[action$="/pause"] input[name=reason]`
			do(t, ctx, "pause", chromedp.SetValue(reason, "bounces climbing"), chromedp.Click(`form[action$="/pause"] button`))
			poll(t, ctx, "the answer", `!document.getElementById('flash').hidden`, 10*time.Second)

			st, err := w.Store.Status(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != store.StatePaused {
				t.Fatalf("the console did not pause %s (state %s): the test's network should lose the answer only", c, st.State)
			}
			got := eval[string](t, ctx, `document.getElementById('flash').textContent`)
			if strings.Contains(got, "nothing was changed") {
				t.Errorf("the answer says %q, but the campaign was paused", got)
			}
			for _, want := range []string{"may have taken effect", "Reload the page"} {
				if !strings.Contains(got, want) {
					t.Errorf("the answer says %q, want it to say %q", got, want)
				}
			}
		})
	}
}
