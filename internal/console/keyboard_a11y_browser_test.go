package console_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestPauseByKeyboardFromPageLoad: on-call opens a campaign's page and,
// without a mouse, reaches the pause reason with a few Tabs from the
// page's start, types why and presses Enter: the campaign is paused in
// Redis, and the focus is on the answer. A guard: the pause by keyboard
// is what on-call needs most, and a link or control added before it
// would push it further away.
func TestPauseByKeyboardFromPageLoad(t *testing.T) {
	t.Parallel()
	_, w, ctx := liveCampaignPage(t, consoletest.Spec{Name: "altea"}, operatorToken)
	const maxTabs = 8
	tabs := 0
	for ; tabs < maxTabs && !eval[bool](t, ctx, `document.activeElement.matches('form[action$="/pause"] input[name=reason]')`); tabs++ {
		do(t, ctx, "Tab", chromedp.KeyEvent("\t"))
	}
	if !eval[bool](t, ctx, `document.activeElement.matches('form[action$="/pause"] input[name=reason]')`) {
		t.Fatalf("%d Tabs from the page's start do not reach the pause reason (the focus is on %s)", maxTabs, eval[string](t, ctx, `document.activeElement.outerHTML.slice(0, 200)`))
	}
	do(t, ctx, "type a reason and press Enter", chromedp.KeyEvent("bounces climbing\r"))
	poll(t, ctx, "the answer", `!document.getElementById('flash').hidden`, 10*time.Second)
	st, err := w.Store.Status(t.Context(), "altea")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != store.StatePaused || st.Reason != "bounces climbing" {
		t.Errorf("after the pause by keyboard (%d Tabs, Enter), Redis has altea %s (%q), want paused for the reason typed", tabs, st.State, st.Reason)
	}
	if got := eval[string](t, ctx, `document.activeElement.id`); got != "flash" {
		t.Errorf("focus after the pause: %q, want the answer", got)
	}
}

// TestRefusedPauseTakesTheFocus: on-call presses Pause by keyboard on a
// page whose session has ended (the browser dropped its cookie): the
// pause is refused. The refusal is in the status region, which a screen
// reader announces, and takes the focus, as an answer that paused does:
// someone who reads with a screen reader and moves with the keyboard is
// at what says "not applied, sign in again", not still in the reason
// field believing it went. Before, the focus stayed in the field.
func TestRefusedPauseTakesTheFocus(t *testing.T) {
	t.Parallel()
	_, w, ctx := liveCampaignPage(t, consoletest.Spec{Name: "friday"}, operatorToken)
	if _, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (cdp.Empty, error) {
		return cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{})
	}); err != nil {
		t.Fatalf("drop the session's cookie: %v", err)
	}
	reason := `form[action$="/pause"] input[name=reason]`
	do(t, ctx, "type a reason and press Enter", chromedp.Focus(reason), chromedp.SendKeys(reason, "bounces climbing\r"))
	poll(t, ctx, "the refusal", `!document.getElementById('flash').hidden && document.getElementById('flash').textContent.indexOf('not applied') >= 0`, 10*time.Second)
	if st, err := w.Store.Status(t.Context(), "friday"); err != nil || st.State == store.StatePaused {
		t.Fatalf("after the refused pause: %v, %v; want it not paused", st.State, err)
	}
	if got := eval[string](t, ctx, `document.getElementById('flash').getAttribute('role')`); got != "status" && got != "alert" {
		t.Errorf("the refusal is in an element of role %q, which a screen reader does not announce", got)
	}
	if got := eval[string](t, ctx, `(function (a) { return a.id || a.outerHTML.slice(0, 200) })(document.activeElement)`); got != "flash" {
		t.Errorf("focus after the refused pause: %s, want the refusal", got)
	}
}
