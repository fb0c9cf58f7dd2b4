package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestGalleryControlsNameTheirLanguage: in the gallery, each language's
// card has a "Download the .eml" link and a "Plain text" disclosure; in
// the name Chromium gives a screen reader, each says which language's
// message it is ("Download the .eml of the de message"), so that a list
// of links is not "Download the .eml" nine times. The visible words stay
// first in the name. Before, every card's were named alike.
func TestGalleryControlsNameTheirLanguage(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "many", N: 9})
	s := newSite(t, w, false)
	ctx := browser(t)
	browserSignIn(t, ctx, s.URL, viewerToken)
	do(t, ctx, "open the gallery", chromedp.Navigate(s.URL+"/c/many/gallery"), chromedp.WaitReady(`body`))
	tree := axTree(t, ctx)
	seen := map[string]int{}
	for _, n := range tree.Nodes {
		role := axString(n.Role)
		if n.Ignored || (role != "link" && role != "DisclosureTriangle") {
			continue
		}
		seen[role+": "+strings.Join(strings.Fields(axString(n.Name)), " ")]++
	}
	for _, l := range consoletest.Langs {
		for _, want := range []string{"link: Download the .eml of the " + l + " message", "DisclosureTriangle: Plain text of the " + l + " message"} {
			if seen[want] != 1 {
				t.Errorf("%d controls named %q in the gallery, want one", seen[want], want)
			}
		}
	}
	for name, k := range seen {
		if k > 1 {
			t.Errorf("%d controls of the gallery are named %q: a screen reader cannot tell them apart", k, name)
		}
	}
}
