package console_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestKeyboardPauseKeepsFocus: on-call pauses with the keyboard alone
// (type the reason, Enter). The Pause form is then hidden, as a paused
// campaign offers no Pause; the focus goes to the answer (the flash,
// which a screen reader announces), not to the page's start, so that the
// next Tab reaches what the paused campaign offers (Resume). Before,
// hiding the focused form left the focus nowhere.
func TestKeyboardPauseKeepsFocus(t *testing.T) {
	t.Parallel()
	s, ctx := stagedSite(t, consoletest.New(t, nil), "keys"), browser(t)
	browserSignIn(t, ctx, s.URL, operatorToken)
	reason := `form[action$="/pause"] input[name=reason]`
	do(t, ctx, "type a reason and press Enter", chromedp.Navigate(s.URL+"/c/keys"), chromedp.WaitVisible(reason),
		chromedp.Focus(reason), chromedp.SendKeys(reason, "bounces climbing\r"))
	poll(t, ctx, "the page to show it paused", `document.getElementById('state').textContent === 'paused' && !document.getElementById('flash').hidden`, 10*time.Second)
	if got := eval[string](t, ctx, `(function (a) { return a.id || a.tagName + (a.name ? ' ' + a.name : '') })(document.activeElement)`); got != "flash" {
		t.Errorf("focus after a pause by keyboard: %q, want the flash that says what happened", got)
	}
	do(t, ctx, "Tab", chromedp.KeyEvent("\t"))
	if got := eval[string](t, ctx, `(function (a) { var f = a.closest('form'); return f ? f.getAttribute('action') : a.tagName })(document.activeElement)`); got != "/c/keys/resume" {
		t.Errorf("Tab after the pause reaches %q, want the Resume form", got)
	}
}
