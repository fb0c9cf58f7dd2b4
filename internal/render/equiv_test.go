package render

import (
	"errors"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

// equivCounts are plural counts that reach every form of every bundled
// language: small and large whole numbers, padded ones and decimals given
// as text (tc refuses a count below 0: TestCounts).
func equivCounts() []string {
	var out []string
	for i := 0; i <= 130; i++ {
		out = append(out, strconv.Itoa(i))
	}
	for _, n := range []int{200, 201, 202, 205, 211, 1000, 1001, 1002, 1011, 1023, 1024, 1025, 1100, 1101, 1102, 2001, 12345,
		100000, 1000000, 1000001, 2000000, 3000000} {
		out = append(out, strconv.Itoa(n))
	}
	return append(out, " 7 ", "+3", "007", "1.5", "0.0", "1.0", "2.50", "21.1", "0.01", "1.11", "3.14", " 2.5 ", "+0.5")
}

// TestRenderEqualsReference proves Render (per-language message tables,
// templates bound per language and folded, go-i18n's rule through the
// probe) equal to the plain reference rendering (the template files as they
// are, every message through go-i18n), for every bundled template, every
// covered bundled language and every count of equivCounts, with the bundled
// sample recipients, by an engine without and one with the sample campaign
// data; and every catalog message alone, in every form, equal to go-i18n's
// localization of it.
func TestRenderEqualsReference(t *testing.T) {
	t.Parallel()
	s := loadSamples(t)
	for _, name := range templateNames(templates.FS) {
		e, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: name, DefaultLocale: "en"})
		if err != nil {
			t.Fatal(err)
		}
		withData, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: name, DefaultLocale: "en", Data: s.Data})
		if err != nil {
			t.Fatal(err)
		}
		ref := newReference(t, e, templates.FS, locales.FS)
		for _, c := range e.Languages() {
			if !c.Covered {
				continue
			}
			t.Run(name+"/"+c.Lang, func(t *testing.T) {
				t.Parallel()
				r, m := s.sample(t, e, c.Lang)
				for _, n := range equivCounts() {
					fields := map[string]string{}
					for k := range r.Fields {
						fields[k] = n // every column a count, whatever it is called
					}
					fields["posts"] = n
					d := Data{ID: r.ID, Email: r.Email, Name: r.Name, Campaign: s.Campaign, Fields: fields, Data: s.Data}
					assertSameRendering(t, e, ref, m, d)
					assertSameRendering(t, withData, ref, m, d)
				}
				// Every message of the catalog, alone, in every form.
				l := e.byLang[c.Lang]
				v := newView(l, m, Data{Name: r.Name, Email: r.Email, Fields: r.Fields, Data: s.Data})
				rv := ref.view(m, Data{Name: r.Name, Email: r.Email, Fields: r.Fields, Data: s.Data})
				for _, msg := range l.cat.messages {
					for _, n := range equivCounts() {
						cnt, err := toCount(n)
						if err != nil {
							t.Fatal(err)
						}
						got, gerr := l.localize(msg.ID, v, &cnt)
						want, werr := ref.localize(msg.ID, rv, &cnt)
						if got != want || (gerr == nil) != (werr == nil) {
							t.Fatalf("%s %s count %s: Render's %q, %v; go-i18n's %q, %v", c.Lang, msg.ID, n, got, gerr, want, werr)
						}
					}
					got, gerr := l.localize(msg.ID, v, nil)
					want, werr := ref.localize(msg.ID, rv, nil)
					if got != want || (gerr == nil) != (werr == nil) {
						t.Fatalf("%s %s: Render's %q, %v; go-i18n's %q, %v", c.Lang, msg.ID, got, gerr, want, werr)
					}
				}
			})
		}
	}
}

// edgeTemplate puts messages in every HTML context, inside if and range,
// in defined templates and blocks, next to typed and missing data.
var edgeTemplate = fstest.MapFS{
	"e/subject.tmpl": {Data: []byte("{{t \"s\" .}} {{tc \"n\" .Fields.n .}} [{{.Locale}}]\n")},
	"e/html.tmpl": {Data: []byte(`<html lang="{{.Locale}}" dir="{{.Dir}}"><title>{{t "s" .}} {{tc "n" .Fields.n .}}</title>
<p title="{{t "g" .}}" data-x={{t "plain" .}}>{{t "g" .}} {{t "plain" .}} {{t "amp" .}}</p>
<a href="{{t "url" .}}">{{t "urlmsg" .}}</a> <a href="/q?n={{tc "n" .Fields.n .}}&v={{t "g" .}}">x</a>
<a href="{{.Data.url}}">{{.Data.url}}</a> <img srcset="{{.Data.url}}">
<script>var g = {{t "g" .}}; var p = "{{t "plain" .}}"; var n = {{tc "n" .Fields.n .}};</script>
<style>p { color: {{t "color" .}} }</style>
{{if .Fields.flag}}<b>{{t "g" .}}</b>{{else}}<i>{{t "plain" .}}</i>{{end}}
{{range $k, $v := .Fields}}<li>{{$k}}={{$v}} {{t "g" $}}</li>{{end}}
{{with .Data}}{{$.Name}}{{end}} {{t "data" .}} {{t "delims" .}} {{t "literal" .}} {{.Data.html}} {{.Count}} {{.RequestedLocale}} {{.ID}} {{.Campaign}}
<textarea>{{t "g" .}}</textarea><p>{{tc "n" .Fields.n .}}</p>
{{define "foot"}}<small title="{{t "plain" .}}">{{t "amp" .}} {{t "g" .}}</small>{{end}}{{template "foot" .}} {{block "b" .}}<i>{{t "plain" .}}</i>{{end}}
<p onclick="f({{t "plain" .}})">{{if .Fields.flag}}{{t "amp" .}}{{else}}<a href='{{t "url" .}}'>{{t "plain" .}}</a>{{end}}</p>
`)},
	"e/text.tmpl": {Data: []byte(`{{t "g" .}} {{t "plain" .}} {{tc "n" .Fields.n .}} {{.Data.url}} {{t "data" .}} {{t "delims" .}} {{t "literal" .}}
{{if .Fields.flag}}yes {{t "g" .}}{{end}}{{range .Fields}}{{.}} {{end}}{{.Data.html}} {{.Email}}
`)},
}

// edgeCatalog is the catalog of edgeTemplate, for every language.
const edgeCatalog = `
[s]
other = "Subject for {{.Name}} <{{.Email}}>"
[g]
other = "Hello {{.Name}} & {{.Fields.who}} ({{.Email}}) {{.Count}}"
[plain]
other = "Tom & Jerry's <b>\"quoted\"</b> + 1"
[amp]
other = "&amp; stays text"
[url]
other = "https://example.com/a b?x=1&y=<2>"
[urlmsg]
other = "javascript:alert(1)"
[color]
other = "red; background: url(javascript:x)"
[data]
other = "data {{.Data.url}} {{.Data.html}}"
[delims]
leftDelim = "<<"
rightDelim = ">>"
other = "custom << .Name >> and <<.Fields.who>> text {{ not an action }}"
[literal]
other = "{{\"{{\"}} literal {{/* a comment */}} {{- .Locale -}} !"
[n]
zero = "zero {{.Count}} <z>"
one = "one {{.Name}} {{.Count}} <o>"
two = "two {{.Count}}"
few = "few {{.Count}} & {{.Fields.who}}"
many = "many {{.Count}} {{.Data.url}}"
other = "other {{.Count}} \"{{.Name}}\""
`

// edgeLocales returns edgeCatalog in several languages, and an incomplete pt.
func edgeLocales() fstest.MapFS {
	loc := fstest.MapFS{}
	for _, lang := range []string{"en", "de", "ar", "ru", "pl", "ja", "fr", "cy"} {
		loc[lang+".toml"] = &fstest.MapFile{Data: []byte(edgeCatalog)}
	}
	loc["pt.toml"] = &fstest.MapFile{Data: []byte("[s]\nother = \"x\"\n")} // incomplete
	return loc
}

// TestRenderEqualsReferenceEdges covers what the bundled template does not:
// messages in every HTML context, inside if and range, custom delimiters,
// quoted strings and comments, typed and missing data, hostile data, and
// refusals.
func TestRenderEqualsReferenceEdges(t *testing.T) {
	t.Parallel()
	e, err := New(Config{Templates: edgeTemplate, Locales: edgeLocales(), Template: "e"})
	if err != nil {
		t.Fatal(err)
	}
	ref := newReference(t, e, edgeTemplate, edgeLocales())
	names := []string{"Ana", `<script>"x"&'y'+1</script>`, "Zoë 👩‍👩‍👧 \x00 \xff", "ليلى", "", "{{.Email}}"}
	datas := []map[string]any{
		{"url": "https://altea.example/r?a=1&b=2", "html": "<b>bold</b>"},
		{"url": "javascript:alert(1)", "html": htmltemplate.HTML("<b>typed</b>")},
		{"url": htmltemplate.URL("javascript:typed()"), "html": 42},
		{"url": "https://x.example/é ü?q=\"'<>"}, // html missing: an error
	}
	fieldSets := []map[string]string{
		{"n": "1", "who": "Bo & <Co>", "flag": "on"},
		{"n": "2", "who": "x", "flag": ""},
		{"who": "no count"}, // an error
		{"n": "many", "who": "x"},
		nil,
	}
	for _, lang := range []string{"en", "de", "ar", "ru", "pl", "ja", "fr", "cy", "pt"} {
		m := Match{Requested: lang, Lang: lang, Via: ViaExact}
		for _, name := range names {
			for _, dat := range datas {
				for _, f := range fieldSets {
					counts := []string{""}
					if n, ok := f["n"]; ok && n != "many" {
						counts = []string{"0", "1", "2", "3", "5", "6", "11", "21", "22", "25", "101", "1000000", "2000001", "-3", "1.5", "0.1"}
					}
					for _, n := range counts {
						var fields map[string]string
						if f != nil {
							fields = map[string]string{}
							for k, v := range f {
								fields[k] = v
							}
							if n != "" {
								fields["n"] = n
							}
						}
						assertSameRendering(t, e, ref, m, Data{ID: "id<1>", Email: "a+b@example.com", Name: name, Campaign: "c&d", Fields: fields, Data: dat})
					}
				}
			}
		}
	}
	// Engines that fold each campaign data, rendering recipients with it
	// (the folded templates) and with the next one (the standard ones).
	for i, dat := range datas {
		ed, err := New(Config{Templates: edgeTemplate, Locales: edgeLocales(), Template: "e", Data: dat})
		if err != nil {
			t.Fatal(err)
		}
		for _, lang := range []string{"en", "ar", "ru", "cy", "pt"} {
			m := Match{Requested: lang, Lang: lang, Via: ViaExact}
			for _, name := range names {
				for _, f := range fieldSets {
					for _, n := range []string{"1", "2", "5", "1.5"} {
						var fields map[string]string
						if f != nil {
							fields = map[string]string{"n": n}
							for k, v := range f {
								if k != "n" {
									fields[k] = v
								}
							}
						}
						for _, d := range []map[string]any{dat, datas[(i+1)%len(datas)]} {
							assertSameRendering(t, ed, ref, m, Data{ID: "id<1>", Email: "a+b@example.com", Name: name, Campaign: "c&d", Fields: fields, Data: d})
						}
					}
				}
			}
		}
	}

	// A refused language stays refused on both paths, and a forged match
	// too.
	assertSameRendering(t, e, ref, Match{Requested: "pt", Lang: "pt"}, Data{})
	assertSameRendering(t, e, ref, Match{Requested: "pt-BR", Lang: "en"}, Data{})

	// Custom delimiters are honoured: {{ }} is text in a << >> message.
	m, _ := e.Resolve("de")
	r, err := e.Render(m, Data{Name: "Ana", Fields: map[string]string{"n": "1", "who": "Bo", "flag": ""}, Data: map[string]any{"url": "u", "html": "h"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "custom Ana and Bo text {{ not an action }}") || !strings.Contains(r.Text, "{{ literal de!") {
		t.Errorf("delimiters, quoted strings or comments mishandled:\n%s", r.Text)
	}
}

// TestCatalogKeepsRefusals checks that a key a language lacks is never
// rendered from another language: each language's table holds only that
// language's messages, and go-i18n alone would fall back.
func TestCatalogKeepsRefusals(t *testing.T) {
	t.Parallel()
	e := newEngine(t, testdataLocales(t), Policy{})
	pt := e.byLang["pt"]
	if _, ok := pt.msgs["welcome.reregister"]; ok {
		t.Fatal("pt's message table holds a message pt.toml lacks")
	}
	for key := range pt.msgs {
		if pt.cat.byID[key] == nil {
			t.Errorf("pt's message table holds %s from elsewhere", key)
		}
	}
	v := &view{RequestedLocale: "pt"}
	c, _ := toCount(3)
	_, err := pt.localize("welcome.reregister", v, &c)
	var ref *Refusal
	if !errors.As(err, &ref) || ref.Code != CodeIncomplete {
		t.Fatalf("localize of a missing key = %v; want an incomplete refusal", err)
	}
	if pt.tmpl != nil {
		t.Error("an incomplete language has templates to render")
	}
}

// TestRenderConcurrent renders from many goroutines at once (run with
// -race), with and without folded campaign data: message tables, the
// plural memo, output sizes and pooled buffers and views are shared.
func TestRenderConcurrent(t *testing.T) {
	t.Parallel()
	for _, data := range []map[string]any{nil, {"reregister_url": "https://x.example/?a=1&b=2"}} {
		e, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: "welcome", Data: data})
		if err != nil {
			t.Fatal(err)
		}
		renderConcurrently(t, e)
	}
}

// renderConcurrently renders from 8 goroutines at once and compares with
// the reference.
func renderConcurrently(t *testing.T, e *Engine) {
	t.Helper()
	ref := newReference(t, e, templates.FS, locales.FS)
	langs := []string{"de", "ar", "ru", "pl", "ja"}
	counts := []string{"1", "2", "5", "2000003", "1.5"}
	data := func(i int) Data {
		return Data{Name: "N" + strconv.Itoa(i), Fields: map[string]string{"posts": counts[i%len(counts)]}, Data: map[string]any{"reregister_url": "https://x.example/?a=1&b=2"}}
	}
	want := map[string]Rendered{}
	for _, l := range langs {
		m, _ := e.Resolve(l)
		for i := range counts {
			r, err := ref.render(m, data(i))
			if err != nil {
				t.Fatal(err)
			}
			want[l+strconv.Itoa(i)] = r
		}
	}
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 50; i++ {
				l := langs[(g+i)%len(langs)]
				m, _ := e.Resolve(l)
				r, err := e.Render(m, data(i%len(counts)))
				if err == nil && r != want[l+strconv.Itoa(i%len(counts))] {
					err = errors.New(l + ": concurrent rendering differs")
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestNoHTMLTemplateInternals keeps the repository off html/template's
// unexported names (its escapers' function names): escaping is
// html/template's own business.
func TestNoHTMLTemplateInternals(t *testing.T) {
	t.Parallel()
	needle := []byte("_html" + "_template_")
	err := filepath.WalkDir("../..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, ".md") && !strings.HasSuffix(p, ".tmpl") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if i := strings.Index(string(b), string(needle)); i >= 0 {
			t.Errorf("%s refers to html/template's unexported names", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkRenderReference is BenchmarkRender through the plain reference
// (the template files as they are, every message through go-i18n's
// Localize): what rendering costs without the engine's per-language tables
// and templates, under the same conditions.
func BenchmarkRenderReference(b *testing.B) {
	e, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: "welcome", DefaultLocale: "en"})
	if err != nil {
		b.Fatal(err)
	}
	ref := newReference(b, e, templates.FS, locales.FS)
	m, err := e.Resolve("de-CH")
	if err != nil {
		b.Fatal(err)
	}
	d := Data{ID: "u1", Email: "juergen@example.de", Name: "Jürgen Groß", Campaign: "altea",
		Fields: map[string]string{"posts": "12"}, Data: map[string]any{"reregister_url": "https://altea.example/re-register"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ref.render(m, d); err != nil {
			b.Fatal(err)
		}
	}
}
