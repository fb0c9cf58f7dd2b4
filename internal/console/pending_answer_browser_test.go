package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPendingActionSaysItWaits: on-call presses Pause while Redis takes
// its writes slowly (here a real one whose writes are held with CLIENT
// PAUSE WRITE: the console's answer then takes 10 to 20 seconds, its
// reads go on). Until the answer comes, the page says that the pause was
// sent and that it may or may not have taken effect yet, and no longer
// shows the answer to the press before (here "Resumed."), which would
// read as the campaign's state; once the answer comes, that is what it
// shows. Before, the page showed nothing but a greyed button for as long
// as Redis took, under the earlier answer.
func TestPendingActionSaysItWaits(t *testing.T) {
	t.Parallel()
	const c = "slowwrites"
	r, _, s := siteOfItsOwn(t, c)
	ctx := browser(t)
	browserSignIn(t, ctx, s.URL, operatorToken)
	do(t, ctx, "open the campaign", chromedp.Navigate(s.URL+"/c/"+c), chromedp.WaitVisible(`#state`))
	poll(t, ctx, "the live stream", `document.getElementById('livestate').textContent === 'live'`, 10*time.Second)

	flash, pending := `document.getElementById('flash')`, `document.getElementById('pending')`
	reason := `form[action$="/pause"] input[name=reason]`
	do(t, ctx, "pause", chromedp.SetValue(reason, "bounces"), chromedp.Click(`form[action$="/pause"] button`))
	poll(t, ctx, "the page to show it paused", `document.getElementById('state').textContent === 'paused' && !`+flash+`.hidden`, 10*time.Second)
	do(t, ctx, "resume", chromedp.Click(`form[action$="/resume"] button`))
	poll(t, ctx, "the answer to the resume", `!`+flash+`.hidden && `+flash+`.textContent.indexOf('Resumed') === 0 && document.getElementById('state').textContent !== 'paused'`, 10*time.Second)

	admin := r.Client()
	if err := admin.Do(t.Context(), "CLIENT", "PAUSE", "600000", "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	unpause := func() { _ = admin.Do(context.WithoutCancel(t.Context()), "CLIENT", "UNPAUSE").Err() }
	t.Cleanup(unpause)
	do(t, ctx, "pause while Redis holds writes", chromedp.SetValue(reason, "bounces again"), chromedp.Click(`form[action$="/pause"] button`))
	// The button is disabled in the same step as the page says what it
	// waits for: once it is, the page says it (Redis holds the write
	// until this test lets it go).
	poll(t, ctx, "the press to be under way", `document.querySelector('form[action$="/pause"] button').disabled`, 10*time.Second)
	shown := eval[string](t, ctx, `[`+flash+`, `+pending+`].filter(function (e) { return e && !e.hidden; }).map(function (e) { return e.textContent; }).join(' | ')`)
	if strings.Contains(shown, "Resumed") {
		t.Errorf("while the pause waits for its answer the page still shows the answer before: %q", shown)
	}
	if !strings.Contains(shown, "pause") || !strings.Contains(shown, "waiting for") || !strings.Contains(shown, "may or may not have taken effect") {
		t.Errorf("while the pause waits for its answer the page shows %q, want it to say that the pause is waiting for its answer and may or may not have taken effect", shown)
	}

	unpause()
	poll(t, ctx, "the answer to the pause", `!`+flash+`.hidden && `+flash+`.textContent.indexOf('Resumed') < 0`, 60*time.Second)
	if eval[bool](t, ctx, `!!`+pending+` && !`+pending+`.hidden`) {
		t.Errorf("the page still says the pause is waiting once its answer came: %q", eval[string](t, ctx, pending+`.textContent`))
	}
}
