package console_test

import (
	"html"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestFileGalleryNamesACatalogFileSpelledOtherwise: a translator delivers
// the Hebrew catalog as iw.toml (the code Hebrew had until 1989, still
// written by older systems). tidings reads it as the he catalog, so its
// card in the gallery QA signs off is "he"; the card says which file that
// is, so that QA looking for iw finds it. A card whose file is named for
// its language says nothing more.
func TestFileGalleryNamesACatalogFileSpelledOtherwise(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	file := w.WriteCampaign(t, consoletest.Spec{Name: "qa-iw", N: 4, Locales: []string{"en", "iw"}})
	// The campaign's own locales directory: en, and de's text as iw.toml.
	loc := filepath.Join(filepath.Dir(file), "catalogs")
	for name, from := range map[string]string{"en.toml": "en.toml", "iw.toml": "de.toml"} {
		b, err := os.ReadFile(filepath.Join(consoletest.RepoRoot(t), "locales", from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(loc, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(loc, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	y, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^locales_dir: .*$`)
	if !re.Match(y) {
		t.Fatalf("setup: no locales_dir in\n%s", y)
	}
	if err := os.WriteFile(file, re.ReplaceAll(y, []byte("locales_dir: "+loc)), 0o644); err != nil {
		t.Fatal(err)
	}

	v := newFileSite(t, w, file)
	code, body, _ := v.get("/file/gallery")
	if code != http.StatusOK {
		t.Fatalf("gallery: %d\n%s", code, body)
	}
	cards := regexp.MustCompile(`(?s)<section class="card[^"]*" data-lang="([^"]+)">(.*?)</section>`).FindAllStringSubmatch(body, -1)
	seen := map[string]string{}
	for _, c := range cards {
		seen[c[1]] = html.UnescapeString(c[2])
	}
	he, ok := seen["he"]
	if !ok || len(seen) != 2 {
		t.Fatalf("cards %v; want en and he", func() []string {
			var k []string
			for l := range seen {
				k = append(k, l)
			}
			return k
		}())
	}
	if want := "Catalog locales/iw.toml (its name, iw, is he)"; !strings.Contains(he, want) {
		t.Errorf("the he card does not say %q:\n%s", want, he)
	}
	if strings.Contains(seen["en"], "Catalog ") {
		t.Errorf("the en card names its catalog file, which is named for its language:\n%s", seen["en"])
	}

	// As QA sees it in Chromium: the line is shown on the he card.
	ctx := browser(t)
	browserSignIn(t, ctx, v.base, viewerToken)
	do(t, ctx, "open the gallery", chromedp.Navigate(v.base+"/file/gallery"), chromedp.WaitReady(`section[data-lang="he"]`))
	shown := eval[string](t, ctx, `(function () {
		var p = document.querySelector('section[data-lang="he"] p.catalog');
		if (!p) return 'none';
		var r = p.getBoundingClientRect();
		return (r.width > 0 && r.height > 0 && getComputedStyle(p).visibility !== 'hidden') ? p.innerText : 'hidden';
	})()`)
	if shown != "Catalog locales/iw.toml (its name, iw, is he)" {
		t.Errorf("in the browser, the he card's catalog line is %q", shown)
	}
}
