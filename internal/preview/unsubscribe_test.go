package preview_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/preview"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/unsubscribe"
	"github.com/tidings-mail/tidings/worker"
)

// TestPreviewUnsubscribeLinkIsTheHeaders: each language's preview shows
// in its text and HTML the link of its .eml's List-Unsubscribe, {token}
// made with the preview key when no secret is given (the link's real
// shape, a token no site accepts), and nothing with a mailto URL.
func TestPreviewUnsubscribeLinkIsTheHeaders(t *testing.T) {
	t.Parallel()
	tmpl := fstest.MapFS{
		"m/subject.tmpl": {Data: []byte(`{{t "subject" .}}`)},
		"m/text.tmpl":    {Data: []byte(`{{t "hello" .}}` + "\n[{{.Unsubscribe}}]\n")},
		"m/html.tmpl":    {Data: []byte(`<p>{{t "hello" .}}</p><a href="{{.Unsubscribe}}">x</a>`)},
	}
	loc := fstest.MapFS{}
	for _, l := range []string{"en", "de"} {
		loc[l+".toml"] = &fstest.MapFile{Data: []byte(catalogs[l])}
	}
	e, err := render.New(render.Config{Templates: tmpl, Locales: loc, Template: "m", DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ list, want string }{
		{"https://altea.example/u?id={id}&t={token}", "https"},
		{"mailto:u@altea.example?subject={id}", ""},
	} {
		out := t.TempDir()
		c := &campaign.Campaign{Name: "c1", From: "news@example.org", ListUnsubscribe: tt.list}
		res, err := preview.Run(context.Background(), preview.Options{Engine: e, Campaign: "c1", Samples: preview.DefaultSamples(), Out: out,
			Composer: worker.PreviewComposer(c, ""), Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range res.Languages {
			read := func(name string) string {
				b, err := os.ReadFile(filepath.Join(out, name))
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
			text, eml := read(l.TextFile), read(l.EMLFile)
			start := strings.Index(text, "[")
			link := strings.TrimSuffix(strings.TrimSpace(text[start+1:]), "]")
			if tt.want == "" {
				if link != "" {
					t.Errorf("%s %s: body link %q, want none for a mailto List-Unsubscribe", tt.list, l.Lang, link)
				}
				continue
			}
			if !bytes.Contains([]byte(eml), []byte("\r\nList-Unsubscribe: <"+link+">\r\n")) {
				t.Errorf("%s %s: body link %q is not the .eml's List-Unsubscribe", tt.list, l.Lang, link)
			}
			u, err := url.Parse(link)
			if err != nil {
				t.Fatal(err)
			}
			id := u.Query().Get("id")
			if id != preview.DefaultSamples()[l.Lang].Email || u.Query().Get("t") != unsubscribe.Token([]byte(unsubscribe.PreviewSecret), id) {
				t.Errorf("%s %s: body link %q, want the sample's id and its token under the preview key", tt.list, l.Lang, link)
			}
		}
	}
}
