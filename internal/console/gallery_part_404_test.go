package console_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/preview"
)

// TestGalleryURLsNoEmailSayWhy: a gallery URL names a campaign, a
// language, a part and perhaps a recipient (?r=). One whose language the
// campaign does not have (a locale swapped by hand in the frame's URL), a
// language that is refused (its catalog incomplete), a recipient of
// another language, one refused at staging, one not in the campaign, a
// part that is no part, or a path with no page answered a bare "404 page
// not found" (text/plain), or a render error worded for a file to fix,
// with a link to the campaigns only. Each now answers 404 with a page that
// says what was asked, why there is no such email (the campaign has no
// such language; the locale is refused and nobody is sent another
// language: PRODUCT.md's locale rule), and links back to the gallery.
func TestGalleryURLsNoEmailSayWhy(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	spec := consoletest.Spec{Name: "probe", N: 8, Locales: []string{"de", "en", "pt", "nl"}, Incomplt: true}
	file := w.Stage(t, spec)
	staged := newSite(t, w, false).signIn(t, viewerToken)
	fileSite := newFileSite(t, w, file)
	de, nl := consoletest.Email(0, "de"), consoletest.Email(3, "nl")
	const g = "/c/probe/gallery"
	tests := []struct {
		name, path string
		file       bool
		back       string
		want       []string
	}{
		{"a language the campaign has not", g + "/zz/html", false, g, []string{`"zz"`, "campaign probe has no language", "its languages are ar, de, en", "in another language"}},
		{"a region the catalogs have not", g + "/de-CH/eml", false, g, []string{`"de-CH"`, "campaign probe has no language"}},
		{"a refused language", g + "/pt/html", false, g, []string{`"pt"`, "refused", "lacks welcome.reregister", "never sent another language"}},
		{"a recipient of another language", g + "/en/html?r=" + url.QueryEscape(de), false, g + "?r=" + url.QueryEscape(de), []string{de, `locale "de"`, "in de, not en"}},
		{"a recipient refused at staging", g + "/de/eml?r=" + url.QueryEscape(nl), false, g + "?r=" + url.QueryEscape(nl), []string{nl, `locale "nl"`, "not staged", "refused"}},
		{"a recipient not in the campaign", g + "/de/html?r=nobody%40example.com", false, g + "?r=nobody%40example.com", []string{`"nobody@example.com"`, "No recipient"}},
		{"no such part", g + "/de/xyz", false, g, []string{`"xyz"`, "html", "eml"}},
		{"no part", g + "/de", false, "/c/probe", []string{`"/c/probe/gallery/de"`, "no such page"}},
		{"a page of the campaign that is none", "/c/probe/foo", false, "/c/probe", []string{`"/c/probe/foo"`, "no such page"}},
		{"the file gallery, a language the campaign has not", "/file/gallery/zz/html", true, "/file/gallery", []string{`"zz"`, "campaign probe has no language", "in another language"}},
		{"the file gallery, a recipient refused by the plan", "/file/gallery/de/html?r=" + url.QueryEscape(nl), true, "/file/gallery?r=" + url.QueryEscape(nl), []string{nl, `locale "nl"`, "refused"}},
		{"the file gallery, no part", "/file/gallery/de", true, "/file/gallery", []string{`"/file/gallery/de"`, "no such page"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := staged
			if tc.file {
				v = fileSite
			}
			code, body, h := v.get(tc.path)
			text := strings.Join(strings.Fields(html.UnescapeString(body)), " ")
			if code != http.StatusNotFound || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
				t.Errorf("GET %s: %d %s, want 404 with a page:\n%s", tc.path, code, h.Get("Content-Type"), text)
			}
			if i := strings.Index(text, "<main>"); i >= 0 {
				t.Log(text[i:min(len(text), i+700)])
			}
			for _, want := range append(tc.want, `href="`+tc.back+`"`) {
				if !strings.Contains(text, html.UnescapeString(want)) {
					t.Errorf("GET %s lacks %q:\n%s", tc.path, want, text)
				}
			}
		})
	}
}

// newFileSite serves the gallery of campaign file file alone, as tidings
// console --campaign FILE does, to a signed-in viewer.
func newFileSite(t *testing.T, w *consoletest.World, file string) *client {
	t.Helper()
	b, err := bundle.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := console.New(console.Config{Users: users(t), Compose: compose, Samples: preview.DefaultSamples(), // as tidings console
		File: &console.CampaignFile{Campaign: b.Campaign, Engine: b.Engine, Recipients: b.Recipients, Path: file}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return (&site{Server: ts, w: w}).signIn(t, viewerToken)
}
