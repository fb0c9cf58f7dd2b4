package console_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/chromedp"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// controlRoles are the roles of what a person operates or reads a value
// from: each needs an accessible name, or a screen reader says "edit
// text" or "button" and nothing of what it is for.
var controlRoles = []string{"button", "textbox", "searchbox", "combobox", "listbox", "checkbox", "radio", "spinbutton", "slider", "progressbar", "link"}

// TestEveryControlHasAnAccessibleName: on every page of the console, as
// an operator sees it (every action form shown and every closed list
// opened, whatever the campaign's state), each input, button, select,
// link and progress bar has an accessible name, as Chromium's
// accessibility tree computes it. Before, the progress bars had none, and
// so had the reply-code field of "Retry permanent failures" (its label
// text was overridden by an aria-label that said something else).
func TestEveryControlHasAnAccessibleName(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "named", N: 6})
	s := newSite(t, w, false)
	ctx := browser(t)
	browserSignIn(t, ctx, s.URL, operatorToken)
	for _, path := range []string{"/", "/c/named", "/c/named/gallery", "/c/named/recipients", "/login"} {
		do(t, ctx, "open "+path, chromedp.Navigate(s.URL+path), chromedp.WaitReady(`body`))
		// Every form the state may offer, and every closed list, shown.
		eval[bool](t, ctx, `(function () {
			document.querySelectorAll('main [hidden]').forEach(function (e) { if (e.id !== 'flash' && e.id !== 'stale') e.hidden = false; });
			document.querySelectorAll('details').forEach(function (d) { d.open = true; });
			return true; })()`)
		tree := axTree(t, ctx)
		checked := 0
		for _, n := range tree.Nodes {
			role := axString(n.Role)
			if n.Ignored || !slices.Contains(controlRoles, role) {
				continue
			}
			checked++
			if axString(n.Name) != "" {
				continue
			}
			html, _ := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (string, error) {
				res, err := cdp.Call(ctx, tg, dom.GetOuterHTML, dom.GetOuterHTMLParams{BackendNodeID: n.BackendDOMNodeID})
				return res.OuterHTML, err
			})
			if len(html) > 300 {
				html = html[:300] + "…"
			}
			t.Errorf("%s: a %s without an accessible name: %s", path, role, html)
		}
		// A visible label is in the name (WCAG's "label in name"): an
		// aria-label never says something else than the label beside it,
		// so that "click Only reply code" by voice finds the field.
		for _, bad := range eval[[]string](t, ctx, `(function () {
			var bad = [], norm = function (s) { return s.replace(/\s+/g, ' ').trim().toLowerCase(); };
			document.querySelectorAll('input, select, textarea, button').forEach(function (el) {
				var aria = el.getAttribute('aria-label');
				if (!aria || !el.labels || !el.labels.length) return;
				var label = el.labels[0].cloneNode(true);
				label.querySelectorAll('input, select, textarea, button').forEach(function (c) { c.remove(); });
				if (norm(aria).indexOf(norm(label.textContent)) < 0) bad.push(el.outerHTML + ' labelled ' + JSON.stringify(norm(label.textContent)));
			});
			return bad; })()`) {
			t.Errorf("%s: an aria-label that does not hold its visible label: %s", path, bad)
		}
		if checked < 3 {
			t.Errorf("%s: only %d controls in the accessibility tree: the page did not render", path, checked)
		}
	}
}

// axString is an accessibility value's text ("" when absent).
func axString(v *accessibility.Value) string {
	if v == nil || len(v.Value) == 0 {
		return ""
	}
	var s string
	if err := json.Unmarshal(v.Value, &s); err != nil {
		return string(v.Value)
	}
	return s
}

// axTree is the page's whole accessibility tree, as Chromium gives it to
// a screen reader.
func axTree(t *testing.T, ctx context.Context) *accessibility.GetFullAXTreeResult {
	t.Helper()
	tree, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (*accessibility.GetFullAXTreeResult, error) {
		res, err := cdp.Call(ctx, tg, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
		return &res, err
	})
	if err != nil {
		t.Fatalf("read the accessibility tree: %v", err)
	}
	return tree
}
