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
// the live part shows in place of the figures is announced, as the
// browser has it after the update, through the alert region #alertnews,
// so that a screen reader says it when it appears, and once.
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
	// Announced through #alertnews, which stays on the page: an alert
	// inside the live part would be read out again each time an update
	// puts it in place anew (each second while a campaign runs).
	said := eval[string](t, ctx, `document.querySelector('#live [data-not-live]').textContent.trim()`)
	if got := eval[string](t, ctx, `(function (n) { return n && n.getAttribute('role') === 'alert' ? n.textContent : 'no #alertnews alert'; })(document.getElementById('alertnews'))`); said == "" || !strings.Contains(got, said) {
		t.Errorf("the alert region says %q, want the live part's %q", got, said)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('#live [role=alert]').length`); n != 0 {
		t.Errorf("%d alerts inside the live part, which each update puts in place anew; want 0 (announced once through #alertnews)", n)
	}
}

// TestHeldIsAnnouncedOnce: a campaign's page open in Chromium while Redis
// refuses the running campaign's writes. The Held banner is announced
// through #alertnews, and is no alert inside the live part, which the page
// puts in place anew at each update: before, it was, and a screen reader
// could read it out again at each update.
func TestHeldIsAnnouncedOnce(t *testing.T) {
	t.Parallel()
	r, _, s := siteOfItsOwn(t, "heldnews")
	if err := r.Client().ConfigSet(t.Context(), "min-replicas-to-write", "1").Err(); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	browserSignIn(t, ctx, s.URL, viewerToken)
	do(t, ctx, "open the campaign", chromedp.Navigate(s.URL+"/c/heldnews"), chromedp.WaitVisible(`#held`))
	poll(t, ctx, "the Held banner announced", `document.getElementById('alertnews').textContent.indexOf('Held:') === 0`, 10*time.Second)
	if n := eval[int](t, ctx, `document.querySelectorAll('#live [role=alert]').length`); n != 0 {
		t.Errorf("%d alerts inside the live part; want 0 (announced once through #alertnews)", n)
	}
}
