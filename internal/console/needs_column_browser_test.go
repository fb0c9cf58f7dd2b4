package console_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestNeedsColumnReadableOnADesktop: on a laptop's screen, the campaigns
// list's "Needs a human" column, where on-call reads what to do at 2 a.m.,
// is wide enough to read (at least 16em), and the list still fits the
// window. Before, the table's automatic layout squeezed it to the width
// of a word or less (its text may break anywhere, so that it fits a
// phone): an interrupted staging's advice stood one word, or part of
// one, a line, a row a thousand pixels tall.
func TestNeedsColumnReadableOnADesktop(t *testing.T) {
	t.Parallel()
	w := unfinishedStagings(t)
	s, ctx := newSite(t, w, false), browser(t)
	browserSignIn(t, ctx, s.URL, operatorToken)
	for _, width := range []int{1366, 1152} {
		do(t, ctx, fmt.Sprint("a ", width, " px window"), chromedp.EmulateViewport(int64(width), 800, chromedp.EmulateScale(1)), chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(`td.needs-cell`))
		got := eval[string](t, ctx, `(function () {
			var cell = document.querySelector('tr[data-campaign="again"] td.needs-cell');
			var em = parseFloat(getComputedStyle(cell).fontSize);
			var w = cell.getBoundingClientRect().width;
			var out = [];
			if (w < 16 * em) out.push('the column is ' + Math.round(w) + ' px wide (' + (w / em).toFixed(1) + ' em)');
			if (document.documentElement.scrollWidth > window.innerWidth) out.push('the page is ' + document.documentElement.scrollWidth + ' px wide');
			return out.join('; ');
		})()`)
		if got != "" {
			t.Errorf("campaigns list in a %d px window: %s", width, got)
		}
	}
}
