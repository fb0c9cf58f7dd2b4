package render

import (
	"errors"
	htmltemplate "html/template"
	"strconv"
	"testing"
	"testing/fstest"

	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

// equivCounts are plural counts that reach every form of every bundled
// language, both sides of the precomputed table (smallCounts) and counts
// only go-i18n answers (negative, large, millions).
func equivCounts() []string {
	var out []string
	for i := 0; i <= 130; i++ {
		out = append(out, strconv.Itoa(i))
	}
	for _, n := range []int{200, 201, 202, 205, 211, 1000, 1001, 1002, 1011, 1100, 1101, 1102, 2001, 12345,
		100000, 1000000, 1000001, 2000000, 3000000, -1, -2, -5, -21} {
		out = append(out, strconv.Itoa(n))
	}
	return append(out, " 7 ", "+3", "007")
}

// assertSameRendering renders m, d through the compiled path (Render) and
// through go-i18n with the generic templates (the reference) and fails on
// any difference, including in errors.
func assertSameRendering(t *testing.T, e *Engine, m Match, d Data) {
	t.Helper()
	fast, ferr := e.Render(m, d)
	ref, rerr := e.render(m, d, true)
	if (ferr == nil) != (rerr == nil) {
		t.Fatalf("%s %+v: compiled error %v, go-i18n error %v", m.Lang, d.Fields, ferr, rerr)
	}
	if ferr != nil {
		var fr, rr *Refusal
		if errors.As(ferr, &fr) != errors.As(rerr, &rr) || (fr != nil && *fr != *rr) {
			t.Fatalf("%s %+v: compiled error %v, go-i18n error %v", m.Lang, d.Fields, ferr, rerr)
		}
		return
	}
	if fast != ref {
		t.Fatalf("%s %+v: compiled rendering differs from go-i18n's\n--- compiled ---\n%+v\n--- go-i18n ---\n%+v", m.Lang, d.Fields, fast, ref)
	}
}

// TestCompiledEqualsI18n proves the fast path (compiled catalogs,
// specialised templates, programs) equal to rendering every message through
// go-i18n with the generic templates, for every bundled template, every
// covered bundled language and every plural count of equivCounts, with the
// bundled sample recipients.
func TestCompiledEqualsI18n(t *testing.T) {
	t.Parallel()
	s := loadSamples(t)
	for _, name := range templateNames(templates.FS) {
		e, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: name, DefaultLocale: "en"})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range e.Languages() {
			if !c.Covered {
				continue
			}
			t.Run(name+"/"+c.Lang, func(t *testing.T) {
				t.Parallel()
				r, ok := s.Recipients[c.Lang]
				if !ok {
					t.Fatalf("testdata/samples.json has no recipient for %s", c.Lang)
				}
				m, err := e.Resolve(r.Locale)
				if err != nil {
					t.Fatal(err)
				}
				if l := e.byLang[c.Lang]; l.tmpl.subjectProg == nil || l.tmpl.htmlProg == nil || l.tmpl.textProg == nil {
					t.Errorf("%s: the bundled template does not compile to programs", c.Lang)
				}
				for _, n := range equivCounts() {
					fields := map[string]string{}
					for k, v := range r.Fields {
						fields[k] = v
					}
					for k := range fields {
						fields[k] = n // every column a count, whatever it is called
					}
					fields["posts"] = n
					assertSameRendering(t, e, m, Data{ID: r.ID, Email: r.Email, Name: r.Name, Campaign: s.Campaign, Fields: fields, Data: s.Data})
				}
				// Every message of the catalog, alone, in every form.
				l := e.byLang[c.Lang]
				v := &view{Name: r.Name, Email: r.Email, Locale: c.Lang, RequestedLocale: r.Locale, Fields: r.Fields, Data: s.Data, lang: l}
				for _, msg := range l.cat.messages {
					for _, n := range equivCounts() {
						cnt, err := toCount(n)
						if err != nil {
							t.Fatal(err)
						}
						cp := *v
						cp.Count = cnt
						got, gerr := l.localize(msg.ID, &cp, cnt, true)
						want, werr := l.localizeI18n(msg.ID, &cp, cnt)
						if got != want || (gerr == nil) != (werr == nil) {
							t.Fatalf("%s %s count %d: compiled %q, %v; go-i18n %q, %v", c.Lang, msg.ID, cnt, got, gerr, want, werr)
						}
					}
					got, gerr := l.localize(msg.ID, v, 0, false)
					want, werr := l.localizeI18n(msg.ID, v, nil)
					if got != want || (gerr == nil) != (werr == nil) {
						t.Fatalf("%s %s: compiled %q, %v; go-i18n %q, %v", c.Lang, msg.ID, got, gerr, want, werr)
					}
				}
			})
		}
	}
}

// TestCompiledEqualsI18nEdges covers what the bundled template does not:
// messages in every HTML context, inside if and range, with actions in
// character-by-character and other contexts, custom delimiters, typed and
// missing data, hostile data, and refusals.
func TestCompiledEqualsI18nEdges(t *testing.T) {
	t.Parallel()
	tmpl := fstest.MapFS{
		"e/subject.tmpl": {Data: []byte("{{t \"s\" .}} {{tc \"n\" .Fields.n .}} [{{.Locale}}]\n")},
		"e/html.tmpl": {Data: []byte(`<html lang="{{.Locale}}" dir="{{.Dir}}"><title>{{t "s" .}} {{tc "n" .Fields.n .}}</title>
<p title="{{t "g" .}}" data-x={{t "plain" .}}>{{t "g" .}} {{t "plain" .}} {{t "amp" .}}</p>
<a href="{{t "url" .}}">{{t "urlmsg" .}}</a> <a href="/q?n={{tc "n" .Fields.n .}}&v={{t "g" .}}">x</a>
<a href="{{.Data.url}}">{{.Data.url}}</a> <img srcset="{{.Data.url}}">
<script>var g = {{t "g" .}}; var p = "{{t "plain" .}}"; var n = {{tc "n" .Fields.n .}};</script>
<style>p { color: {{t "color" .}} }</style>
{{if .Fields.flag}}<b>{{t "g" .}}</b>{{else}}<i>{{t "plain" .}}</i>{{end}}
{{range $k, $v := .Fields}}<li>{{$k}}={{$v}} {{t "g" $}}</li>{{end}}
{{with .Data}}{{$.Name}}{{end}} {{t "data" .}} {{t "delims" .}} {{t "logic" .}} {{.Data.html}} {{.Count}} {{.RequestedLocale}} {{.ID}} {{.Campaign}}
<textarea>{{t "g" .}}</textarea><p>{{tc "n" .Fields.n .}}</p>
`)},
		"e/text.tmpl": {Data: []byte(`{{t "g" .}} {{t "plain" .}} {{tc "n" .Fields.n .}} {{.Data.url}} {{t "data" .}} {{t "delims" .}} {{t "logic" .}}
{{if .Fields.flag}}yes {{t "g" .}}{{end}}{{range .Fields}}{{.}} {{end}}{{.Data.html}} {{.Email}}
`)},
	}
	const catalog = `
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
other = "custom << .Name >> and <<.Fields.who>> text"
[logic]
other = "{{if .Fields.flag}}flag {{.Fields.flag}}{{else}}no flag{{end}} {{printf \"%05d\" .Count}}"
[n]
zero = "zero {{.Count}} <z>"
one = "one {{.Name}} {{.Count}} <o>"
two = "two {{.Count}}"
few = "few {{.Count}} & {{.Fields.who}}"
many = "many {{.Count}} {{.Data.url}}"
other = "other {{.Count}} \"{{.Name}}\""
`
	loc := fstest.MapFS{}
	for _, lang := range []string{"en", "de", "ar", "ru", "pl", "ja", "fr", "cy"} {
		loc[lang+".toml"] = &fstest.MapFile{Data: []byte(catalog)}
	}
	loc["pt.toml"] = &fstest.MapFile{Data: []byte("[s]\nother = \"x\"\n")} // incomplete
	e, err := New(Config{Templates: tmpl, Locales: loc, Template: "e"})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"Ana", `<script>"x"&'y'+1</script>`, "Zoë 👩‍👩‍👧 \x00 \xff", "ليلى", ""}
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
					for _, n := range []string{"0", "1", "2", "3", "5", "6", "11", "21", "22", "25", "101", "1000000", "2000001", "-3"} {
						fields := map[string]string{}
						for k, v := range f {
							fields[k] = v
						}
						if _, ok := f["n"]; ok && f["n"] != "many" {
							fields["n"] = n
						}
						if f == nil {
							fields = nil
						}
						assertSameRendering(t, e, m, Data{ID: "id<1>", Email: "a+b@example.com", Name: name, Campaign: "c&d", Fields: fields, Data: dat})
					}
				}
			}
		}
	}
	// A refused language stays refused on both paths, and a forged match
	// too.
	assertSameRendering(t, e, Match{Requested: "pt", Lang: "pt"}, Data{})
	assertSameRendering(t, e, Match{Requested: "pt-BR", Lang: "en"}, Data{})
}

// TestSpecialisedKeepsRefusals checks that a key a language lacks is never
// rendered from another language by the compiled path: the compiled catalog
// of a language holds only that language's messages.
func TestSpecialisedKeepsRefusals(t *testing.T) {
	t.Parallel()
	e := newEngine(t, testdataLocales(t), Policy{})
	pt := e.byLang["pt"]
	if _, ok := pt.msgs["welcome.reregister"]; ok {
		t.Fatal("pt's compiled catalog holds a message pt.toml lacks")
	}
	for key := range pt.msgs {
		if pt.cat.byID[key] == nil {
			t.Errorf("pt's compiled catalog holds %s from elsewhere", key)
		}
	}
	v := &view{RequestedLocale: "pt", lang: pt}
	_, err := pt.localize("welcome.reregister", v, 3, true)
	var ref *Refusal
	if !errors.As(err, &ref) || ref.Code != CodeIncomplete {
		t.Fatalf("compiled localize of a missing key = %v; want an incomplete refusal", err)
	}
}

// TestHTMLEscapeCopy checks that our copy of html/template's text escaping
// agrees with html/template on this Go release, so that Render uses it (the
// engine would silently take the slower exact path otherwise).
func TestHTMLEscapeCopy(t *testing.T) {
	t.Parallel()
	if !htmlEscapeVerified() {
		t.Fatal("writeHTMLEscaped disagrees with html/template's escapers")
	}
	for _, chain := range []string{"_html_template_htmlescaper", "_html_template_attrescaper", "_html_template_rcdataescaper",
		"_html_template_urlfilter | _html_template_urlnormalizer | _html_template_attrescaper"} {
		if escapeProbes()[chain] == nil {
			t.Errorf("no escape probe for %s", chain)
		}
	}
}

// TestRenderConcurrent renders from many goroutines at once (run with -race):
// the compiled tables, the escape cache and go-i18n's answers for large
// counts are shared.
func TestRenderConcurrent(t *testing.T) {
	t.Parallel()
	e := newEngine(t, locales.FS, Policy{})
	langs := []string{"de", "ar", "ru", "pl", "ja"}
	want := map[string]Rendered{}
	for _, l := range langs {
		m, _ := e.Resolve(l)
		r, err := e.render(m, Data{Name: "N", Fields: map[string]string{"posts": "2000003"}, Data: map[string]any{"reregister_url": "https://x.example/?a=1&b=2"}}, true)
		if err != nil {
			t.Fatal(err)
		}
		want[l] = r
	}
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 50; i++ {
				l := langs[(g+i)%len(langs)]
				m, _ := e.Resolve(l)
				r, err := e.Render(m, Data{Name: "N", Fields: map[string]string{"posts": "2000003"}, Data: map[string]any{"reregister_url": "https://x.example/?a=1&b=2"}})
				if err == nil && r != want[l] {
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

// BenchmarkRenderGoI18n is BenchmarkRender through the reference path
// (go-i18n for every message, the generic templates): what Render cost
// before the catalogs and templates were compiled, measured under the same
// conditions.
func BenchmarkRenderGoI18n(b *testing.B) {
	e, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: "welcome", DefaultLocale: "en"})
	if err != nil {
		b.Fatal(err)
	}
	m, err := e.Resolve("de-CH")
	if err != nil {
		b.Fatal(err)
	}
	d := Data{ID: "u1", Email: "juergen@example.de", Name: "Jürgen Groß", Campaign: "altea",
		Fields: map[string]string{"posts": "12"}, Data: map[string]any{"reregister_url": "https://altea.example/re-register"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.render(m, d, true); err != nil {
			b.Fatal(err)
		}
	}
}
