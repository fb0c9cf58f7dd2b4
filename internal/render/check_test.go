package render

import (
	htmltemplate "html/template"
	"io"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

// assertCheckAgrees fails unless Check(m, d) returns what Render(m, d)
// returned (renderErr): nil for nil, the same error text otherwise. Every
// equivalence test of Render (assertSameRendering) runs it.
func assertCheckAgrees(t testing.TB, e *Engine, m Match, d Data, renderErr error) {
	t.Helper()
	err := e.Check(m, d)
	if (err == nil) != (renderErr == nil) || (err != nil && err.Error() != renderErr.Error()) {
		t.Fatalf("%s %+v: Check returned %v, Render %v", m.Lang, d.Fields, err, renderErr)
	}
}

// TestCheckTotal: the bundled templates, folded with the sample campaign
// data (as plan's and the worker's engines fold the campaign's) and with
// their messages hoisted, cannot fail once the messages are evaluated, in
// every covered language (so plan's check of a row does not execute them);
// without the data folded they read it, and are not total; templates
// whose actions could fail are not taken for total; and Check agrees with
// Render on rows that fail in the messages, in a column read outside a
// message, and in the locale rule.
func TestCheckTotal(t *testing.T) {
	t.Parallel()
	s := loadSamples(t)
	for _, name := range templateNames(templates.FS) {
		e, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: name, DefaultLocale: "en", Data: s.Data})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range e.Languages() {
			if l := e.byLang[strings.ToLower(c.Lang)]; c.Covered && !l.tmpl.total {
				t.Errorf("%s in %s: not total", name, c.Lang)
			}
		}
	}
	noData, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: "welcome", DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if noData.byLang["en"].tmpl.total {
		t.Error("welcome without its data folded (it reads .Data.reregister_url) was taken for total")
	}
	edge, err := New(Config{Templates: edgeTemplate, Locales: edgeLocales(), Template: "e"})
	if err != nil {
		t.Fatal(err)
	}
	if edge.byLang["en"].tmpl.total {
		t.Error("the edge template (if, range, template, maps) was taken for total")
	}

	cat := "[s]\nother = \"Hi {{.Name}}\"\n[n]\none = \"{{.Count}} post\"\nother = \"{{.Count}} posts\"\n"
	loc := fstest.MapFS{"en.toml": {Data: []byte(cat)}, "de.toml": {Data: []byte(cat)}}
	tests := []struct {
		name      string
		html      string
		total     bool
		fields    []map[string]string
		failsWith []string // per fields: a part of the error, "" for none
	}{
		{"messages and strings", `<p title="{{.Name}}">{{t "s" .}} {{tc "n" .Fields.n .}} {{.Email}}</p>`, true,
			[]map[string]string{{"n": "2"}, {"n": "two"}, {}},
			[]string{"", `"two"`, "n"}},
		{"a column outside a message", `<p>{{t "s" .}} {{.Fields.plan}}</p>`, false,
			[]map[string]string{{"plan": "gold"}, {}},
			[]string{"", "plan"}},
		{"a call the hoisting leaves", `{{if .Name}}<p>{{t "s" .}}</p>{{end}}`, false,
			[]map[string]string{{}},
			[]string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fsys := fstest.MapFS{"x/subject.tmpl": {Data: []byte(`{{t "s" .}}`)}, "x/html.tmpl": {Data: []byte(tt.html)},
				"x/text.tmpl": {Data: []byte(`{{t "s" .}} {{.Name}}`)}}
			e, err := New(Config{Templates: fsys, Locales: loc, Template: "x", DefaultLocale: "en"})
			if err != nil {
				t.Fatal(err)
			}
			if got := e.byLang["de"].tmpl.total; got != tt.total {
				t.Errorf("total = %v, want %v", got, tt.total)
			}
			m, err := e.Resolve("de")
			if err != nil {
				t.Fatal(err)
			}
			for i, f := range tt.fields {
				d := Data{Name: "Ana", Email: "a@example.com", Fields: f}
				_, rerr := e.Render(m, d)
				if want := tt.failsWith[i]; (want == "") != (rerr == nil) || (rerr != nil && !strings.Contains(rerr.Error(), want)) {
					t.Fatalf("fields %v: Render error %v, want one naming %q", f, rerr, want)
				}
				assertCheckAgrees(t, e, m, d, rerr)
			}
			// The locale rule: a match the engine would not make.
			forged := Match{Requested: "pt", Lang: "de"}
			_, rerr := e.Render(forged, Data{Name: "Ana"})
			if rerr == nil {
				t.Fatal("a forged match rendered")
			}
			assertCheckAgrees(t, e, forged, Data{Name: "Ana"}, rerr)
		})
	}
}

// TestCheckTotalNeedsEscaping: an html template not executed yet is not
// escaped, so not total, even without actions (this one cannot be escaped
// at all: it ends inside an attribute); executed, its escaped tree is
// judged.
func TestCheckTotalNeedsEscaping(t *testing.T) {
	t.Parallel()
	bad := htmltemplate.Must(htmltemplate.New("html.tmpl").Parse(`<a href="`))
	f := newFileTemplate(bad)
	f.src = bad.Tree.Copy()
	if f.total() {
		t.Error("an html template never executed (and unescapable) was taken for total")
	}
	good := htmltemplate.Must(htmltemplate.New("html.tmpl").Parse(`<p title="{{.Name}}">{{.Email}}</p>`))
	g := newFileTemplate(good)
	g.src = good.Tree.Copy()
	if g.total() {
		t.Error("an html template not escaped yet was taken for total")
	}
	if err := good.Execute(io.Discard, &view{Name: "a", Email: "b"}); err != nil {
		t.Fatal(err)
	}
	if !g.total() {
		t.Error("the escaped template, which only prints string fields, was not taken for total")
	}
}

// TestCheckStandardTemplates: with campaign data folded, a row whose data
// differs gets the standard templates; those are judged too, and Check
// agrees with Render on them.
func TestCheckStandardTemplates(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"x/subject.tmpl": {Data: []byte(`Hi {{.Name}}`)}, "x/html.tmpl": {Data: []byte(`<p>{{.Name}} {{.Data.url}}</p>`)},
		"x/text.tmpl": {Data: []byte(`{{.Name}}`)}}
	loc := fstest.MapFS{"en.toml": {Data: []byte("[s]\nother = \"x\"\n")}}
	e, err := New(Config{Templates: fsys, Locales: loc, Template: "x", DefaultLocale: "en", Data: map[string]any{"url": "https://a.example/"}})
	if err != nil {
		t.Fatal(err)
	}
	l := e.byLang["en"]
	if !l.tmpl.total || l.std == nil || l.std.total {
		t.Fatalf("folded total %v, standard %v; want the folded templates total and the standard ones (they read .Data.url) not", l.tmpl.total, l.std)
	}
	m, err := e.Resolve("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range []map[string]any{{"url": "https://a.example/"}, {"url": "https://b.example/"}, {"other": 1}} {
		d := Data{Name: "Ana", Data: data}
		_, rerr := e.Render(m, d)
		assertCheckAgrees(t, e, m, d, rerr)
	}
	// Standard templates that only print string fields are total.
	fsys["x/html.tmpl"] = &fstest.MapFile{Data: []byte(`<p>{{.Name}}</p>`)}
	e, err = New(Config{Templates: fsys, Locales: loc, Template: "x", DefaultLocale: "en", Data: map[string]any{"url": "https://a.example/"}})
	if err != nil {
		t.Fatal(err)
	}
	if l := e.byLang["en"]; l.std == nil || !l.std.total {
		t.Errorf("standard templates printing .Name only: %+v, want total", l.std)
	}
}
