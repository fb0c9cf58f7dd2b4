package console_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// notLiveRE is the element that says the console cannot read Redis: the
// live part's (data-not-live) or a page's that reloads itself once Redis
// answers (data-reload).
var notLiveRE = regexp.MustCompile(`<[a-z]+[^>]*\bdata-(?:not-live|reload)\b[^>]*>`)

// TestRedisDownIsAnAlert: when the console cannot read Redis, what says so
// is an alert (role="alert"), which a screen reader announces when it
// appears, on every page that says it: the campaigns page and a campaign's
// (opened while Redis is down, and their live part's update), the gallery
// and the recipients page. Before, it was a plain paragraph: a blind
// on-call heard nothing when Redis went away, and the figures read out
// were stale.
func TestRedisDownIsAnAlert(t *testing.T) {
	t.Parallel()
	r, _, s := siteOfItsOwn(t, "alerted")
	v := s.signIn(t, viewerToken)
	if err := r.Client().ConfigSet(t.Context(), "requirepass", "now-a-password-0123456789").Err(); err != nil {
		t.Fatal(err)
	}
	_ = r.Client().Do(t.Context(), "CLIENT", "KILL", "TYPE", "normal").Err()
	for _, path := range []string{"/", "/c/alerted", "/c/alerted/gallery", "/c/alerted/recipients", "/live", "/c/alerted/live"} {
		t.Run(path, func(t *testing.T) {
			var body string
			if strings.HasSuffix(path, "live") {
				body = firstSpecEvent(t, v, path)
			} else {
				var code int
				code, body, _ = v.get(path)
				if code != http.StatusServiceUnavailable {
					t.Fatalf("GET %s while Redis refuses the console: %d, want 503:\n%s", path, code, body)
				}
			}
			el := notLiveRE.FindString(body)
			if el == "" {
				t.Fatalf("GET %s: nothing says that Redis cannot be read:\n%s", path, body)
			}
			if !strings.Contains(el, `role="alert"`) {
				t.Errorf("GET %s: what says Redis cannot be read is %s, without role=\"alert\": a screen reader does not announce it", path, el)
			}
		})
	}
}

// TestRedisGoingDownIsAnnounced: a campaign's page open in Chromium,
// live; Redis (a server of the test's own) then refuses the console. What
// the live part shows in place of the figures is inside an alert, as the
// browser has it after the update, so that a screen reader says it when it
// appears.
func TestRedisGoingDownIsAnnounced(t *testing.T) {
	t.Parallel()
	r, _, s := siteOfItsOwn(t, "announced")
	ctx := browser(t)
	browserSignIn(t, ctx, s.URL, viewerToken)
	do(t, ctx, "open the campaign", chromedp.Navigate(s.URL+"/c/announced"), chromedp.WaitVisible(`#state`))
	poll(t, ctx, "the live stream", `document.getElementById('livestate').textContent === 'live'`, 10*time.Second)
	if err := r.Client().ConfigSet(t.Context(), "requirepass", "now-a-password-0123456789").Err(); err != nil {
		t.Fatal(err)
	}
	_ = r.Client().Do(t.Context(), "CLIENT", "KILL", "TYPE", "normal").Err()
	poll(t, ctx, "the live part to say it cannot read Redis", `!!document.querySelector('#live [data-not-live]')`, 20*time.Second)
	if got := eval[string](t, ctx, `(function (e) { var a = e.closest('[role=alert],[aria-live]'); return a ? (a.getAttribute('role') || 'aria-live=' + a.getAttribute('aria-live')) : 'none'; })(document.querySelector('#live [data-not-live]'))`); got != "alert" {
		t.Errorf("the live part says it cannot read Redis inside %q, want an alert", got)
	}
}
