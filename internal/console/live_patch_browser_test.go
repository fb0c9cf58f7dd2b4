package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestLivePageFollowsPatches: a campaign's page in Chromium follows two
// changes: a pause (the first change after the page loaded: the whole
// live part, as the page has not its lines) and a resume (a patch of the
// lines that changed, TestLiveSendsAChangeAsItsLines). After both, the
// page shows the campaign running, the resume in its audit log, and the
// live part exactly as a page loaded now shows it.
func TestLivePageFollowsPatches(t *testing.T) {
	t.Parallel()
	s, w, ctx := liveCampaignPage(t, consoletest.Spec{Name: "follows", N: 12, Size: 2}, viewerToken)
	actor := store.Actor{Who: "alice", Host: "laptop", Env: consoletest.EnvName}
	if _, err := w.Store.Pause(t.Context(), "follows", actor, "first change"); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the page to show the pause", `document.getElementById('state').textContent === 'paused'`, 10*time.Second)
	if _, err := w.Store.Resume(t.Context(), "follows", actor, "second change"); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the page to show the resume", `document.getElementById('state').textContent === 'running'`, 10*time.Second)
	got := eval[string](t, ctx, `document.getElementById('live').innerHTML`)
	if !strings.Contains(got, "second change") {
		t.Errorf("the page's audit log lacks the resume:\n%s", got)
	}
	// The same live part, as the browser parses a page loaded now.
	do(t, ctx, "load the page anew", chromedp.Navigate(s.URL+"/c/follows"), chromedp.WaitVisible(`#state`))
	want := eval[string](t, ctx, `document.getElementById('live').innerHTML`)
	if got != want {
		t.Errorf("the live part after the patch:\n%s\nwant as a page loaded now shows it:\n%s", got, want)
	}
}
