package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestKeyboardPauseKeepsFocus: on-call pauses with the keyboard alone
// (type the reason, Enter). The Pause form is then hidden, as a paused
// campaign offers no Pause; the focus goes to the answer (the flash,
// which a screen reader announces), not to the page's start, so that the
// next Tab reaches what the paused campaign offers (Resume). Before,
// hiding the focused form left the focus nowhere.
func TestKeyboardPauseKeepsFocus(t *testing.T) {
	t.Parallel()
	_, ctx := pausedByKeyboard(t, "keys")
	if got := eval[string](t, ctx, `(function (a) { return a.id || a.tagName + (a.name ? ' ' + a.name : '') })(document.activeElement)`); got != "flash" {
		t.Errorf("focus after a pause by keyboard: %q, want the flash that says what happened", got)
	}
	do(t, ctx, "Tab", chromedp.KeyEvent("\t"))
	if got := eval[string](t, ctx, `(function (a) { var f = a.closest('form'); return f ? f.getAttribute('action') : a.tagName })(document.activeElement)`); got != "/c/keys/resume" {
		t.Errorf("Tab after the pause reaches %q, want the Resume form", got)
	}
}

// pausedByKeyboard opens campaign c's page as an operator, pauses it
// with the keyboard alone (type the reason, Enter) and waits for the page
// to show it paused, with the answer.
func pausedByKeyboard(t *testing.T, c string) (*consoletest.World, context.Context) {
	t.Helper()
	_, w, ctx := liveCampaignPage(t, consoletest.Spec{Name: c}, operatorToken)
	reason := `form[action$="/pause"] input[name=reason]`
	do(t, ctx, "type a reason and press Enter", chromedp.Focus(reason), chromedp.SendKeys(reason, "bounces climbing\r"))
	poll(t, ctx, "the page to show it paused", `document.getElementById('state').textContent === 'paused' && !document.getElementById('flash').hidden`, 10*time.Second)
	return w, ctx
}

// TestLivePageSaysItsFiguresAreNotCurrent: when the console stops
// answering (it was stopped, the network between went away), the
// campaign page keeps what it last showed, and says, above it, that it
// is not current and as of when, and greys it: on-call never reads a
// frozen "running, 0 failed" as now. Before, only the small badge beside
// the name said "reconnecting…".
func TestLivePageSaysItsFiguresAreNotCurrent(t *testing.T) {
	t.Parallel()
	s, _, ctx := liveCampaignPage(t, consoletest.Spec{Name: "frozen"}, viewerToken)
	note := `document.getElementById('stale')`
	if eval[bool](t, ctx, `!!`+note+` && !`+note+`.hidden`) {
		t.Fatal("the page says it is not current while it is live")
	}

	// The console goes away: nothing listens, and the open stream ends.
	_ = s.Listener.Close()
	s.CloseClientConnections()
	poll(t, ctx, "the page to say its figures are not current", `!!`+note+` && !`+note+`.hidden && `+note+`.textContent.indexOf('Not current') === 0 && document.getElementById('live').classList.contains('stale')`, 20*time.Second)
	if got := eval[string](t, ctx, note+`.textContent`); !strings.Contains(got, "as of") || !strings.Contains(got, "reconnecting") {
		t.Errorf("the note says %q, want it to say as of when and that the page is reconnecting", got)
	}
}

// liveCampaignPage stages campaign spec (six recipients unless it says),
// serves a console of it, and opens its page in Chromium signed in with
// token, once its stream is live.
func liveCampaignPage(t *testing.T, spec consoletest.Spec, token string) (*site, *consoletest.World, context.Context) {
	t.Helper()
	if spec.N == 0 {
		spec.N = 6
	}
	w := consoletest.New(t, nil)
	s, ctx := stagedSite(t, w, spec), browser(t)
	browserSignIn(t, ctx, s.URL, token)
	do(t, ctx, "open the campaign", chromedp.Navigate(s.URL+"/c/"+spec.Name), chromedp.WaitVisible(`#state`))
	poll(t, ctx, "the live stream", `document.getElementById('livestate').textContent === 'live'`, 10*time.Second)
	return s, w, ctx
}

// TestOpenBatchesStayOpen: on-call opens the list of batches of a
// campaign with more than six (it starts closed) while the page updates
// itself; the next update keeps it open. Before, every update (each
// second while a campaign sends) closed it again, so on-call could not
// read it while it mattered.
func TestOpenBatchesStayOpen(t *testing.T) {
	t.Parallel()
	_, w, ctx := liveCampaignPage(t, consoletest.Spec{Name: "batches", N: 8, Size: 1}, viewerToken)
	batches := `document.querySelector('#live details.batch-list')`
	if eval[bool](t, ctx, batches+`.open`) {
		t.Fatal("the list of 8 batches is open before anyone opens it")
	}
	do(t, ctx, "open the batches", chromedp.Click(`#live details.batch-list summary`))
	if _, err := w.Store.Pause(t.Context(), "batches", store.Actor{Who: "alice", Host: "laptop", Env: consoletest.EnvName}, "a change the page shows"); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the page to show the pause", `document.getElementById('state').textContent === 'paused'`, 10*time.Second)
	if !eval[bool](t, ctx, batches+`.open`) {
		t.Error("the list of batches closed when the page updated")
	}
}

// TestPageOpenedWhileRedisIsDownComesBack: on-call opens a campaign's
// page while the console cannot read Redis (here it refuses the
// console: a password set under it). The page says so (503) and keeps
// trying as its live part does; once Redis answers again, it shows the
// campaign and its actions without a reload. Before, it was a page of
// its own, "reload the page in a moment", that stayed as it was.
func TestPageOpenedWhileRedisIsDownComesBack(t *testing.T) {
	t.Parallel()
	ctx, answer := openWhileRedisRefuses(t, "down", "/c/down")
	poll(t, ctx, "the page to say it cannot read Redis and keeps trying", `!!document.getElementById('live') && document.getElementById('live').textContent.indexOf('Cannot read Redis') >= 0 && document.getElementById('livestate').textContent === 'not live: cannot read Redis; retrying'`, 10*time.Second)
	answer()
	poll(t, ctx, "the campaign and its Pause, without a reload", `document.getElementById('livestate').textContent === 'live' && document.getElementById('state').textContent === 'running' && !document.querySelector('form[action$="/pause"]').hidden`, 20*time.Second)
}

// TestGalleryAndRecipientsOpenedWhileRedisIsDownComeBack: the gallery
// and the recipients page opened while the console cannot read Redis say
// so (503) and reload themselves once Redis answers, as the live pages
// fill in by themselves; before, they were a page of their own that
// stayed as it was until someone reloaded it.
func TestGalleryAndRecipientsOpenedWhileRedisIsDownComeBack(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ path, ready string }{
		{"/c/back/gallery", `document.querySelectorAll('section.card').length > 0`},
		{"/c/back/recipients", `document.querySelectorAll('table.recipients tbody tr').length === 6`},
	} {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			ctx, answer := openWhileRedisRefuses(t, "back", tt.path)
			if !eval[bool](t, ctx, `!!document.querySelector('[data-reload]') && document.body.textContent.indexOf('Cannot read Redis') >= 0`) {
				t.Errorf("%s while Redis refuses the console does not say it cannot read Redis, or does not try again", tt.path)
			}
			answer()
			// The page reloads itself: an evaluation may meet the navigation.
			wait.For(t, 20*time.Second, tt.path+" filled in without a reload by hand", func() bool {
				sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				ok, err := chromedp.Run(sctx, chromedp.Evaluate[bool](tt.ready))
				return err == nil && ok
			})
		})
	}
}

// openWhileRedisRefuses stages campaign c on a Redis of the test's own,
// serves a console of it, signs in as an operator, makes Redis refuse the
// console (a password set under it) and opens path, which must answer
// 503. answer lets the console in again.
func openWhileRedisRefuses(t *testing.T, c, path string) (ctx context.Context, answer func()) {
	t.Helper()
	r, _, s := siteOfItsOwn(t, c)
	ctx = browser(t)
	browserSignIn(t, ctx, s.URL, operatorToken)
	const password = "now-a-password-0123456789"
	if err := r.Client().ConfigSet(t.Context(), "requirepass", password).Err(); err != nil {
		t.Fatal(err)
	}
	_ = r.Client().Do(t.Context(), "CLIENT", "KILL", "TYPE", "normal").Err()
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(s.URL+path))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusServiceUnavailable {
		t.Errorf("%s while Redis refuses the console: HTTP %d, want 503", path, resp.Status)
	}
	return ctx, func() {
		admin := redis.NewClient(&redis.Options{Addr: r.Addr, Password: password})
		defer admin.Close()
		if err := admin.ConfigSet(t.Context(), "requirepass", "").Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// rowState is a JavaScript expression: campaign c's state in the list of
// campaigns.
func rowState(c string) string {
	return `(document.querySelector('tr[data-campaign="` + c + `"]') || {dataset: {}}).dataset.state`
}

// TestPauseAndCancelFromTheList: on-call pauses a campaign from the list
// of campaigns without opening it (a reason is required, as on its page)
// and cancels another there after typing its name (the button is
// disabled before); both go through the same POST with the session's
// CSRF token and are recorded with the operator's name. What on-call
// types into a row stays, with the focus, while the list updates itself
// (here: another campaign changes state), and a row on which the pointer
// is pressed is not replaced under it (the click would be lost) until the
// pointer is up. A viewer's list has no action.
// Before, the list had no action at all.
func TestPauseAndCancelFromTheList(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "one", N: 6})
	w.Stage(t, consoletest.Spec{Name: "two", N: 6})
	s := newSite(t, w, false)

	if _, body, _ := s.signIn(t, viewerToken).get("/"); strings.Contains(body, `/pause"`) || strings.Contains(body, `/cancel"`) {
		t.Errorf("a viewer's list of campaigns offers an action:\n%s", body)
	}
	code, body, _ := s.signIn(t, operatorToken).get("/")
	if code != http.StatusOK || !strings.Contains(body, `action="/c/one/pause"`) || !csrfRE.MatchString(body) {
		t.Fatalf("an operator's list of campaigns: %d, want a Pause form with the CSRF token\n%s", code, body)
	}

	ctx := browser(t)
	browserSignIn(t, ctx, s.URL, operatorToken)
	do(t, ctx, "open the list", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(`#pause-reason-one`))
	poll(t, ctx, "the live stream", `document.getElementById('livestate').textContent === 'live'`, 10*time.Second)

	reason := `#pause-reason-one`
	do(t, ctx, "start typing a reason", chromedp.Focus(reason), chromedp.SendKeys(reason, "bounces"))
	if _, err := w.Store.Pause(t.Context(), "two", store.Actor{Who: "bob", Host: "laptop", Env: consoletest.EnvName}, "a change the list shows"); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the list to show two paused", rowState("two")+` === 'paused'`, 10*time.Second)
	if got := eval[string](t, ctx, `document.querySelector('`+reason+`').value + '|' + document.activeElement.id`); got != "bounces|pause-reason-one" {
		t.Errorf("after the list updated, the reason and the focus are %q, want what was typed, still focused", got)
	}
	do(t, ctx, "finish the reason, Enter", chromedp.SendKeys(reason, " climbing\r"))
	poll(t, ctx, "the list to show one paused, and the answer", rowState("one")+` === 'paused' && !document.getElementById('flash').hidden`, 10*time.Second)
	if got := eval[string](t, ctx, `document.getElementById('flash').textContent`); !strings.HasPrefix(got, "one: Paused.") {
		t.Errorf("the answer says %q, want it to name the campaign and say Paused", got)
	}
	if got := eval[string](t, ctx, `document.activeElement.id`); got != "flash" {
		t.Errorf("focus after the pause: %q, want the answer", got)
	}
	st, err := w.Store.Status(t.Context(), "one")
	if err != nil {
		t.Fatal(err)
	}
	if last := st.Audit[len(st.Audit)-1]; last.Who != "alice (console)" || last.Reason != "bounces climbing" {
		t.Errorf("the pause is recorded as %+v, want by alice (console), bounces climbing", last)
	}

	// A button pressed while the list updates: the row is not replaced
	// under the pointer (the click would be lost), only once it is up.
	eval[bool](t, ctx, `(function () { var s = document.querySelector('tr[data-campaign="two"] details.cancel summary'); s.pressed = true;
		s.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true})); return true; })()`)
	if _, err := w.Store.Resume(t.Context(), "two", store.Actor{Who: "bob", Host: "laptop", Env: consoletest.EnvName}, ""); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "an update held while the pointer is down", `document.getElementById('live').dataset.held === '1'`, 10*time.Second)
	if !eval[bool](t, ctx, `!!(document.querySelector('tr[data-campaign="two"] details.cancel summary') || {}).pressed`) {
		t.Error("the row under a pressed pointer was replaced by an update: the click would be lost")
	}
	eval[bool](t, ctx, `document.dispatchEvent(new PointerEvent('pointerup', {bubbles: true})) || true`)
	poll(t, ctx, "the list to show two running again, once the pointer is up", rowState("two")+` === 'running'`, 10*time.Second)

	do(t, ctx, "open two's Cancel", chromedp.Click(`tr[data-campaign="two"] details.cancel summary`), chromedp.WaitVisible(`#cancel-reason-two`))
	button := `document.querySelector('tr[data-campaign="two"] button.danger')`
	do(t, ctx, "give a reason", chromedp.SendKeys(`#cancel-reason-two`, "wrong file"))
	if !eval[bool](t, ctx, button+`.disabled`) {
		t.Error("Cancel can be pressed before the campaign's name is typed")
	}
	do(t, ctx, "type the name", chromedp.SendKeys(`#cancel-confirm-two`, "two"))
	poll(t, ctx, "Cancel to be enabled", `!`+button+`.disabled`, 5*time.Second)
	do(t, ctx, "press Cancel", chromedp.Click(`tr[data-campaign="two"] button.danger`))
	poll(t, ctx, "the list to show two cancelled", rowState("two")+` === 'cancelled'`, 10*time.Second)
}

// TestAnswerIsMarkedPastOnceTheStateChanges: on-call pauses a campaign
// from its page ("Paused. ..."); then someone else resumes it. The
// answer no longer stands as if it were current beside a campaign that
// runs: it says it is earlier, and what the campaign is now. Before,
// "Paused." stayed above "running".
func TestAnswerIsMarkedPastOnceTheStateChanges(t *testing.T) {
	t.Parallel()
	w, ctx := pausedByKeyboard(t, "past")
	flash := `document.getElementById('flash')`
	if eval[bool](t, ctx, flash+`.classList.contains('past')`) {
		t.Fatal("the answer is marked past while the campaign is paused")
	}
	if _, err := w.Store.Resume(context.WithoutCancel(t.Context()), "past", store.Actor{Who: "bob", Host: "laptop", Env: consoletest.EnvName}, ""); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the page to show it running", `document.getElementById('state').textContent === 'running'`, 10*time.Second)
	got := eval[string](t, ctx, `(`+flash+`.hidden ? 'hidden' : (`+flash+`.classList.contains('past') ? 'past ' : '') + `+flash+`.textContent)`)
	if !strings.HasPrefix(got, "past Earlier") || !strings.Contains(got, "No longer current: past is now running.") {
		t.Errorf("the answer once someone else resumed: %q, want it marked as earlier, saying the campaign is now running", got)
	}
}
