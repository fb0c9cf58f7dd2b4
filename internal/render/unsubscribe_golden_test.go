package render

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

// unsubscribeTemplates is the bundled welcome template with the footer's
// unsubscribe link ({{.Unsubscribe}}) in both bodies, as README shows it.
func unsubscribeTemplates(t *testing.T) fs.FS {
	t.Helper()
	read := func(name string) string {
		b, err := fs.ReadFile(templates.FS, "welcome/"+name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return fstest.MapFS{
		"unsub/subject.tmpl": {Data: []byte(read("subject.tmpl"))},
		"unsub/text.tmpl":    {Data: []byte(read("text.tmpl") + "{{if .Unsubscribe}}{{.Unsubscribe}}\n{{end}}")},
		"unsub/html.tmpl": {Data: []byte(read("html.tmpl") +
			`{{if .Unsubscribe}}<p style="font-size:12px;"><a href="{{.Unsubscribe}}">{{.Unsubscribe}}</a></p>{{end}}` + "\n")},
	}
}

// TestGoldenUnsubscribeLink renders the welcome template with the body's
// unsubscribe link in every bundled language, with the sample recipient's
// https List-Unsubscribe URL (a percent-escaped id, a token, an & that
// HTML escapes) and with none (a mailto List-Unsubscribe: no link), and
// compares with testdata/golden/unsubscribe/<lang>.golden, folded and
// not: the locale rule and the language's text are those of TestGolden.
// Refresh with: go test ./internal/render -run TestGoldenUnsubscribeLink -update
func TestGoldenUnsubscribeLink(t *testing.T) {
	s := loadSamples(t)
	tmpls := unsubscribeTemplates(t)
	for _, mode := range []struct {
		name string
		data map[string]any
	}{{"", nil}, {"/campaign-data", s.Data}} {
		e, err := New(Config{Templates: tmpls, Locales: locales.FS, Template: "unsub", DefaultLocale: "en", Data: mode.data})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range e.Languages() {
			t.Run(c.Lang+mode.name, func(t *testing.T) {
				r, m := s.sample(t, e, c.Lang)
				got := ""
				for _, link := range []string{"https://altea.example/unsubscribe?id=" + r.ID + "%20x&token=3q2-7w_AbCdEfGhIjKlMnO", ""} {
					out, err := e.Render(m, Data{ID: r.ID, Email: r.Email, Name: r.Name, Campaign: s.Campaign, Fields: r.Fields, Data: s.Data, Unsubscribe: link})
					if err != nil {
						t.Fatal(err)
					}
					got += fmt.Sprintf("===== .Unsubscribe %q =====\nLang: %s\nSubject: %s\n\n===== text =====\n%s\n===== html =====\n%s\n", link, out.Lang, out.Subject, out.Text, out.HTML)
				}
				path := filepath.Join("testdata", "golden", "unsubscribe", c.Lang+".golden")
				if mode.data == nil {
					golden.Check(t, path, got)
				} else {
					golden.Compare(t, path, got)
				}
			})
		}
	}
}
