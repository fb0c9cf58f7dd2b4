package console_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestListActionsNameTheirCampaign: on the list of campaigns, each row's
// Pause, Cancel… and Cancel campaign say, in the name Chromium gives a
// screen reader, which campaign they act on: "Pause campaign altea", not
// "Pause" three times, which a screen reader's list of buttons cannot
// tell apart. The visible word stays first in the name (voice control:
// "click Pause"). Before, the buttons were named "Pause", "Cancel…" and
// "Cancel campaign" on every row.
func TestListActionsNameTheirCampaign(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	names := []string{"altea", "borea", "cirra"}
	for _, c := range names {
		w.Stage(t, consoletest.Spec{Name: c, N: 3})
	}
	s := newSite(t, w, false)
	ctx := browser(t)
	browserSignIn(t, ctx, s.URL, operatorToken)
	do(t, ctx, "open the list", chromedp.Navigate(s.URL+"/"), chromedp.WaitReady(`body`))
	poll(t, ctx, "the rows", `document.querySelectorAll('tr[data-campaign] button.pause').length === 3`, 10*time.Second)
	// Each row's Cancel… opened, as on-call opens it.
	eval[bool](t, ctx, `(function () { document.querySelectorAll('#live details').forEach(function (d) { d.open = true; }); return true; })()`)
	tree := axTree(t, ctx)
	var got []string
	seen := map[string]int{}
	for _, n := range tree.Nodes {
		role := axString(n.Role)
		if n.Ignored || (role != "button" && role != "DisclosureTriangle") {
			continue
		}
		name := strings.Join(strings.Fields(axString(n.Name)), " ")
		got = append(got, role+": "+name)
		seen[name]++
	}
	for name, k := range seen {
		if k > 1 {
			t.Errorf("%d controls of the list are named %q: a screen reader cannot tell which campaign each acts on", k, name)
		}
	}
	for _, c := range names {
		for _, want := range []string{"button: Pause campaign " + c, "DisclosureTriangle: Cancel campaign " + c + "…", "button: Cancel campaign " + c} {
			if !slices.Contains(got, want) {
				t.Errorf("no control named as %q on the list; the named controls are %q", want, got)
			}
		}
	}
}
