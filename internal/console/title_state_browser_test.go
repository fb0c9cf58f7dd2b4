package console_test

import (
	"strings"
	"testing"
	"time"

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
	said := eval[string](t, ctx, `(function () {
		var out = '';
		document.querySelectorAll('[role=status], [role=alert], [aria-live]').forEach(function (e) {
			if (e.closest('#live') || e.closest('[hidden]')) return; // drawn anew with each update, or not shown: never announced
			out += e.textContent + '\n';
		});
		return out; })()`)
	if !strings.Contains(said, "altea is now paused") {
		t.Errorf("once paused by a colleague, the page's status regions say %q, want them to say altea is now paused", said)
	}
}
