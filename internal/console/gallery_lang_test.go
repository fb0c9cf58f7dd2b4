package console_test

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestGalleryTextIsMarkedWithItsLanguage: in the gallery every text of
// a card's language (its subject, plain text and each plural message)
// is inside an element whose lang is that language and whose dir is the
// language's direction, as the message's own HTML says them. A browser
// chooses CJK glyphs by lang (zh-Hant, ja and zh-Hans draw the same code
// point differently), and a screen reader its voice; dir="auto" turns an
// Arabic message that starts with a Latin brand name or a digit left to
// right, which the recipient's mail (dir="rtl") does not.
//
// Found by red team 31 (QA signing off nine languages): the cells of
// "Plural messages at every form" had dir="auto" and no lang, so they
// were read in the page's English (lang="en") and drawn with its glyphs.
func TestGalleryTextIsMarkedWithItsLanguage(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "langs", N: 18})
	v := newSite(t, w, false).signIn(t, viewerToken)
	code, body, _ := v.get("/c/langs/gallery")
	if code != http.StatusOK {
		t.Fatalf("gallery: %d\n%s", code, body)
	}
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{"ar": "rtl"} // of consoletest.Langs; the others are ltr
	checked := map[string]int{}
	var walk func(n *html.Node, lang string)
	walk = func(n *html.Node, lang string) {
		if n.Type == html.ElementNode && n.Data == "section" && hasClass(n, "card") {
			lang = attr(n, "data-lang")
		}
		if n.Type == html.ElementNode && lang != "" && (hasClass(n, "subject") || hasClass(n, "text") || (n.Data == "td" && !hasClass(n, "n") && inPlurals(n))) {
			checked[lang]++
			wantDir := dirs[lang]
			if wantDir == "" {
				wantDir = "ltr"
			}
			if got := nearest(n, "lang"); got != lang {
				t.Errorf("%s card: %s %q is in lang %q; want %q", lang, describe(n), text(n), got, lang)
			}
			if got := nearest(n, "dir"); got != wantDir {
				t.Errorf("%s card: %s %q is in dir %q; want %q", lang, describe(n), text(n), got, wantDir)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, lang)
		}
	}
	walk(doc, "")
	for _, l := range []string{"ar", "ja", "ru", "pl"} {
		if checked[l] < 3 { // subject, text and at least one plural form
			t.Errorf("%s card: only %d texts checked; the gallery lacks its subject, text or plural table", l, checked[l])
		}
	}
}

// TestGalleryDirectionByScript: a catalog whose tag names a right-to-left
// script has dir="rtl" on its card, as the message's own HTML (render's
// .Dir). The console kept its own list of such scripts, which lacked Aran
// (Nastaliq: Urdu, Kashmiri, Persian as written in it): an ar-Aran card
// read dir="ltr" while its message said rtl. Now it asks render.Direction.
func TestGalleryDirectionByScript(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "aran", N: 4, Locales: []string{"ar-Aran", "en"}, As: map[string]string{"ar-Aran": "ar"}})
	v := newSite(t, w, false).signIn(t, viewerToken)
	code, body, _ := v.get("/c/aran/gallery")
	if code != http.StatusOK {
		t.Fatalf("gallery: %d\n%s", code, body)
	}
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{} // of each card, its subject's dir
	var walk func(n *html.Node, lang string)
	walk = func(n *html.Node, lang string) {
		if n.Type == html.ElementNode && n.Data == "section" && hasClass(n, "card") {
			lang = attr(n, "data-lang")
		}
		if n.Type == html.ElementNode && lang != "" && hasClass(n, "subject") {
			got[lang] = nearest(n, "dir")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, lang)
		}
	}
	walk(doc, "")
	for lang, want := range map[string]string{"ar-Aran": "rtl", "en": "ltr"} {
		if got[lang] != want {
			t.Errorf("the %s card has dir %q, want %q (cards: %v)", lang, got[lang], want, got)
		}
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// nearest is the value of attribute key on n or its closest ancestor
// that has it, as the browser inherits lang and dir.
func nearest(n *html.Node, key string) string {
	for ; n != nil; n = n.Parent {
		if n.Type != html.ElementNode {
			continue
		}
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val
			}
		}
	}
	return ""
}

func inPlurals(n *html.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && hasClass(p, "plurals") {
			return true
		}
	}
	return false
}

func describe(n *html.Node) string {
	if c := attr(n, "class"); c != "" {
		return n.Data + "." + c
	}
	return n.Data
}

func text(n *html.Node) string {
	var b strings.Builder
	var f func(*html.Node)
	f = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			f(c)
		}
	}
	f(n)
	if r := []rune(b.String()); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return b.String()
}
