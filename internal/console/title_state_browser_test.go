package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestCampaignPageTitleAndAnnouncementFollowTheState: a campaign's page
// is titled with its name and its state (the tab on-call switches to at
// 2 a.m., and the first thing a screen reader reads), and when the state
// changes under the page (a colleague, or tidings itself, pauses it) the
// title follows and a status region, which a screen reader announces,
// says it: "altea is now paused". Before, the title named the campaign
// alone, and a state changed by someone else was announced nowhere.
func TestCampaignPageTitleAndAnnouncementFollowTheState(t *testing.T) {
	t.Parallel()
	_, w, ctx := liveCampaignPage(t, consoletest.Spec{Name: "altea"}, viewerToken)
	if got := eval[string](t, ctx, `document.title`); !strings.Contains(got, "altea") || !strings.Contains(got, "running") {
		t.Errorf("the running campaign's page is titled %q, want its name and state", got)
	}
	if _, err := w.Store.Pause(t.Context(), "altea", store.Actor{Who: "colleague", Host: "laptop", Env: consoletest.EnvName}, "relay maintenance"); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the page to show the pause", `document.getElementById('state').textContent === 'paused'`, 10*time.Second)
	if got := eval[string](t, ctx, `document.title`); !strings.Contains(got, "altea") || !strings.Contains(got, "paused") || strings.Contains(got, "running") {
		t.Errorf("once paused, the page is titled %q, want its name and paused (and not running)", got)
	}
	if said := announced(t, ctx); !strings.Contains(said, "altea is now paused") {
		t.Errorf("once paused by a colleague, the page's status regions say %q, want them to say altea is now paused", said)
	}
}

// TestListAnnouncesAStateChange: on the list of campaigns, when one
// campaign's state changes under the page (tidings pauses it, a
// colleague does), a status region a screen reader announces says which
// and how: "borea is now paused", and nothing of the others, unchanged.
// Before, the row's badge changed in silence.
func TestListAnnouncesAStateChange(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	for _, c := range []string{"altea", "borea"} {
		w.Stage(t, consoletest.Spec{Name: c, N: 3})
	}
	s := newSite(t, w, false)
	ctx := browser(t)
	browserSignIn(t, ctx, s.URL, viewerToken)
	do(t, ctx, "open the list", chromedp.Navigate(s.URL+"/"), chromedp.WaitReady(`body`))
	poll(t, ctx, "the live list", `document.getElementById('livestate').textContent === 'live'`, 10*time.Second)
	if _, err := w.Store.Pause(t.Context(), "borea", store.Actor{Who: "colleague", Host: "laptop", Env: consoletest.EnvName}, "relay maintenance"); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the list to show borea paused", `document.querySelector('tr[data-campaign="borea"] .state').textContent === 'paused'`, 10*time.Second)
	said := announced(t, ctx)
	if !strings.Contains(said, "borea is now paused") {
		t.Errorf("once borea is paused by a colleague, the list's status regions say %q, want them to say borea is now paused", said)
	}
	if strings.Contains(said, "altea") {
		t.Errorf("the list's status regions say %q: altea, unchanged, is announced", said)
	}
}

// announced is what the page's status regions say now, those a screen
// reader announces: not those drawn anew with each live update (a region
// inserted is not announced), nor hidden ones.
func announced(t *testing.T, ctx context.Context) string {
	t.Helper()
	return eval[string](t, ctx, `(function () {
		var out = '';
		document.querySelectorAll('[role=status], [role=alert], [aria-live]').forEach(function (e) {
			if (e.closest('#live') || e.closest('[hidden]')) return;
			out += e.textContent + '\n';
		});
		return out; })()`)
}
