package render

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	texttemplate "text/template"
	"text/template/parse"

	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

// hostileNames, hostileCounts and hostileURLs are recipient and campaign
// values that would show an escaping context changed by folding.
var (
	hostileNames = []string{
		"Ana", "", `<script>alert("x")</script>`, `"'&<>=` + "`", "javascript:alert(1)", "\r\nBcc: victim@example.com",
		"a\u2028b\u2029c\u0085", "Zoë 👩‍👩‍👧 ليلى", "{{.Email}}", " spaced  name ", "a/b?c#d%41+e", "</title><!--", "\x00\xff",
	}
	hostileCounts = []string{"1", "2", "5", "21", "1.5", " 7 ", "-3", "1000000"}
	hostileURLs   = []any{
		"https://altea.example/re-register?t=1&x=<y>", "javascript:alert(1)", `" onmouseover="x`,
		"https://x.example/é ü?q=\"'<>#f", "", "//evil.example/%0a", htmltemplate.URL("javascript:typed()"),
		htmltemplate.HTML("<b>bold</b>"), 42,
	}
)

// TestFoldedEqualsReference renders the bundled template in every covered
// language, with engines that fold the campaign's data (for hostile
// campaign values) and one that does not, for a table of hostile recipient
// values, and compares every rendering with the plain reference (the
// template files through html/template and text/template, every message
// through go-i18n). It fails if folding ever changes a byte.
func TestFoldedEqualsReference(t *testing.T) {
	t.Parallel()
	plain := newEngine(t, locales.FS, Policy{})
	ref := newReference(t, plain, templates.FS, locales.FS)
	type engine struct {
		e    *Engine
		data map[string]any // its Config.Data
	}
	engines := []engine{{e: plain}}
	for _, u := range hostileURLs {
		data := map[string]any{"reregister_url": u}
		e, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: "welcome", DefaultLocale: "en", Data: data})
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, engine{e, data})
	}
	for _, c := range plain.Languages() {
		if !c.Covered {
			continue
		}
		t.Run(c.Lang, func(t *testing.T) {
			t.Parallel()
			for _, en := range engines {
				m, err := en.e.Resolve(c.Lang)
				if err != nil {
					t.Fatal(err)
				}
				for i, name := range hostileNames {
					d := Data{ID: name, Email: name, Name: name, Campaign: name,
						Fields: map[string]string{"posts": hostileCounts[i%len(hostileCounts)]}}
					// Folded data (when the engine has it), other data
					// (the standard templates), and no data (an error).
					for _, data := range []map[string]any{en.data, {"reregister_url": name}, nil} {
						if data == nil && en.data != nil {
							continue
						}
						d.Data = data
						if data == nil {
							d.Data = map[string]any{"reregister_url": hostileURLs[i%len(hostileURLs)]}
						}
						assertSameRendering(t, en.e, ref, m, d)
					}
					d.Data = nil
					assertSameRendering(t, en.e, ref, m, d)
				}
			}
		})
	}
}

// foldCatalog is the catalog of the context cases.
const foldCatalog = `
[plain]
other = "Tom & Jerry's <b>\"quoted\"</b> + 1 = ` + "`2`" + `"
[url]
other = "https://e.example/?q="
[path]
other = "https://e.example/p"
[js]
other = "javascript:alert(1)"
[color]
other = "red; background: url(javascript:x)"
[hi]
other = "Hello {{.Name}}"
`

// TestFoldContexts puts a constant message (or the campaign's data) where
// html/template escapes differently: URL attributes (alone and followed by
// recipient data in the same attribute), script, JS strings and template
// literals, event handlers, unquoted attributes, style, srcset, comments and
// RCDATA. Whatever is folded, every rendering equals the plain reference
// for hostile data; where folding the constant would move the following
// data into another context, it stays an action.
func TestFoldContexts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, html string
		// folded is the number of actions html.tmpl folds with campaign
		// data (Go 1.26); -1 where the test only checks the rendering.
		folded int
	}{
		{"url attribute", `<a href="{{t "url" .}}">{{.Name}}</a>`, 1},
		{"url then data in one attribute", `<a href="{{t "url" .}}{{.Name}}">x</a>`, 0},
		{"path then data in one attribute", `<a href="{{t "path" .}}{{.Name}}">x</a>`, 0},
		{"campaign url then data", `<a href="{{.Data.u}}{{.Name}}">x</a><a href="{{.Data.u}}">y</a>`, 1},
		{"query constant then data", `<a href="/s?a={{t "plain" .}}&b={{.Name}}">x</a>`, 1},
		{"javascript url", `<a href="{{t "js" .}}">{{.Name}}</a>`, 1},
		{"script value", `<script>var a = {{t "plain" .}}; var b = {{.Name}};</script>`, 1},
		{"script string", `<script>var a = "{{t "plain" .}}{{.Name}}"; var c = '{{.Data.u}}';</script>`, 2},
		{"template literal", "<script>var s = `{{t \"plain\" .}} ${x} {{.Name}}`;</script>", -1},
		{"event handler", `<a onclick="f({{t "plain" .}}, {{.Name}})">x</a>`, 1},
		{"unquoted attribute", `<p title={{t "plain" .}} class={{.Name}}>x</p>`, 1},
		{"unquoted then data", `<p title={{t "plain" .}}{{.Name}}>x</p>`, -1},
		{"style element", `<style>p { color: {{t "color" .}}; } p::after { content: "{{.Name}}" }</style>`, 1},
		{"style attribute", `<p style="color: {{t "color" .}}; width: {{.Name}}">x</p>`, -1},
		{"srcset", `<img srcset="{{t "url" .}} 1x, {{.Name}} 2x">`, -1},
		{"comment", `<!-- {{t "plain" .}} -->{{.Name}}`, 1},
		{"rcdata", `<title>{{t "plain" .}} {{.Name}}</title><textarea>{{t "plain" .}}</textarea>`, 2},
		{"attribute name", `<p {{t "path" .}}="x" {{.Name}}="y">x</p>`, -1},
		{"branches", `{{if .Fields.flag}}<a href="{{t "url" .}}">{{else}}<a title="{{t "plain" .}}">{{end}}{{.Name}}</a>`, 2},
		{"range and with", `{{range .Fields}}<i>{{t "plain" $}} {{$.Locale}} {{.}}</i>{{end}}{{with .Name}}<b title="{{$.Dir}}">{{.}}</b>{{end}}`, 3},
		{"message with data", `<p title="{{t "hi" .}}">{{t "hi" .}}</p>`, 0},
	}
	datas := []map[string]any{nil, {"u": "https://d.example/?a=1&b=<2>"}, {"u": "javascript:x()"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl := fstest.MapFS{
				"c/subject.tmpl": {Data: []byte(`{{t "plain" .}}`)},
				"c/html.tmpl":    {Data: []byte(tt.html)},
				"c/text.tmpl":    {Data: []byte(`{{t "url" .}}{{.Name}}`)},
			}
			loc := fstest.MapFS{"en.toml": {Data: []byte(foldCatalog)}, "ar.toml": {Data: []byte(foldCatalog)}}
			for _, data := range datas {
				e, err := New(Config{Templates: tmpl, Locales: loc, Template: "c", Data: data})
				if err != nil {
					t.Fatal(err)
				}
				ref := newReference(t, e, tmpl, loc)
				for _, lang := range []string{"en", "ar"} {
					m, _ := e.Resolve(lang)
					for _, name := range hostileNames {
						for _, flag := range []string{"", "on"} {
							d := Data{Name: name, Email: name, Fields: map[string]string{"flag": flag, "x": name}, Data: data}
							if data == nil {
								d.Data = map[string]any{"u": name}
							}
							assertSameRendering(t, e, ref, m, d)
						}
					}
				}
				if got := e.byLang["en"].tmpl.html.folded; tt.folded >= 0 && data != nil && got != tt.folded {
					t.Errorf("%s folds %d actions with data %v, want %d", tt.html, got, data, tt.folded)
				}
			}
		})
	}
}

// foldingFor starts the folding of html.tmpl in en for a one-file template.
func foldingFor(t *testing.T, html string, probes func(*engineLang) []*view) *folding {
	t.Helper()
	tmpl := fstest.MapFS{
		"c/subject.tmpl": {Data: []byte(`x`)},
		"c/html.tmpl":    {Data: []byte(html)},
		"c/text.tmpl":    {Data: []byte(`x`)},
	}
	e, err := New(Config{Templates: tmpl, Locales: fstest.MapFS{"en.toml": {Data: []byte(foldCatalog)}}, Template: "c"})
	if err != nil {
		t.Fatal(err)
	}
	l := e.byLang["en"]
	tt, err := texttemplate.New("html.tmpl").Funcs(map[string]any{"t": l.t, "tc": l.tc}).Option("missingkey=error").Parse(html)
	if err != nil {
		t.Fatal(err)
	}
	ff := &foldFile{name: "html.tmpl", html: true, funcs: map[string]any{"t": l.t, "tc": l.tc}, trees: []*parse.Tree{tt.Tree}}
	fo, _, err := l.startFold(ff, probes(l), false)
	if err != nil || fo == nil {
		t.Fatalf("startFold: %v, %v", fo, err)
	}
	return fo
}

// try reports whether folding the candidates in set passes the checks.
func (fo *folding) try(set []int) bool {
	_, _, ok := fo.check(fo.folded(set))
	return ok
}

// TestFoldVerificationRejects shows each check failing on its own: a
// literal whose bytes are wrong, a literal that moves the data after it
// into another context (caught by the probes without the tree comparison,
// and by the tree comparison with a probe too tame to show it).
func TestFoldVerificationRejects(t *testing.T) {
	t.Parallel()
	all := func(l *engineLang) []*view {
		return l.probes(foldRefs{fields: map[string]bool{}, counts: map[string]bool{}}, nil)
	}
	tame := func(l *engineLang) []*view {
		var out []*view
		for range 4 {
			out = append(out, &view{Name: "Ana", Locale: "en", Dir: "ltr", Count: "0", Fields: map[string]string{}, Data: map[string]any{}})
		}
		return out
	}

	fo := foldingFor(t, `<a href="{{t "url" .}}">{{.Name}}</a> <p title="{{t "plain" .}}">`, all)
	if ok := fo.try([]int{0, 1}); !ok {
		t.Fatal("the genuine literals do not pass")
	}
	fo.literals[1] = append([]byte(nil), fo.literals[1]...)
	fo.literals[1][0] ^= 1
	if ok := fo.try([]int{1}); ok {
		t.Error("a wrong literal passes")
	}

	for _, html := range []string{`<a href="{{t "url" .}}{{.Name}}">x</a>`, `<a href="{{t "path" .}}{{.Name}}">x</a>`} {
		fo = foldingFor(t, html, all)
		fo.noShape = true
		if ok := fo.try([]int{0}); ok {
			t.Errorf("%s: the probes alone accept a literal that changes the next action's context", html)
		}
		fo = foldingFor(t, html, tame)
		if ok := fo.try([]int{0}); ok {
			t.Errorf("%s: the tree comparison accepts a literal that changes the next action's context", html)
		}
		fo.noShape = true
		if ok := fo.try([]int{0}); !ok {
			t.Errorf("%s: the tame probe should not notice (the test shows nothing)", html)
		}
	}
}

// TestFoldHappens checks that the bundled template is folded in every
// covered language, with and without the campaign's data: every action the
// same for every recipient became text (a Go release that stops it shows
// here, before anyone notices the speed), the subject is constant, the
// messages left are read from the hoisted ones, and the templates without
// hoisted messages keep their calls.
func TestFoldHappens(t *testing.T) {
	t.Parallel()
	treeOf := func(x executor) string {
		switch x := x.(type) {
		case *htmltemplate.Template:
			return x.Tree.Root.String()
		case *texttemplate.Template:
			return x.Tree.Root.String()
		}
		return ""
	}
	for _, data := range []map[string]any{nil, {"reregister_url": "https://altea.example/re-register"}} {
		e, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: "welcome", Data: data})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range e.langs {
			if l.tmpl == nil {
				continue
			}
			if l.tmpl.subject.exec != nil || l.tmpl.subjectLine == "" {
				t.Errorf("%s: the subject is not constant", l.cat.lang)
			}
			if (l.std != nil) != (data != nil) {
				t.Errorf("%s: standard templates kept = %v with data %v", l.cat.lang, l.std != nil, data)
			}
			if l.tmpl.messages == nil || l.tmpl.fallback == nil {
				t.Fatalf("%s: no hoisted messages", l.cat.lang)
			}
			for _, f := range []struct {
				name         string
				ft, fallback fileTemplate
			}{{"html.tmpl", l.tmpl.html, l.tmpl.fallback.html}, {"text.tmpl", l.tmpl.text, l.tmpl.fallback.text}} {
				src, err := fs.ReadFile(templates.FS, "welcome/"+f.name)
				if err != nil {
					t.Fatal(err)
				}
				tt, err := texttemplate.New(f.name).Funcs(map[string]any{"t": l.t, "tc": l.tc}).Parse(string(src))
				if err != nil {
					t.Fatal(err)
				}
				if want := len(l.foldSlots(tt.Tree.Root, data != nil)); f.ft.folded != want || f.fallback.folded != want || want < 3 {
					t.Errorf("%s %s (data %v): folded %d of %d constant actions", l.cat.lang, f.name, data != nil, f.ft.folded, want)
				}
				tree, fallback := treeOf(f.ft.exec), treeOf(f.fallback.exec)
				for _, gone := range []string{".Locale", ".Dir", `"welcome.intro"`, `"welcome.footer"`, "{{t ", "{{tc "} {
					if strings.Contains(tree, gone) {
						t.Errorf("%s %s still has %s", l.cat.lang, f.name, gone)
					}
				}
				if strings.Contains(tree, ".Data") == (data != nil) || strings.Contains(fallback, ".Data") == (data != nil) {
					t.Errorf("%s %s: .Data folded = %v, want %v", l.cat.lang, f.name, !strings.Contains(tree, ".Data"), data != nil)
				}
				if !hoistedRead.MatchString(tree) {
					t.Errorf("%s %s reads no hoisted message:\n%s", l.cat.lang, f.name, tree)
				}
				if !strings.Contains(fallback, `tc "welcome.posts" .Fields.posts .`) || hoistedRead.MatchString(fallback) {
					t.Errorf("%s %s: the templates without hoisted messages lost the plural message", l.cat.lang, f.name)
				}
			}
		}
	}
}

// TestCampaignDataNeverStale: an engine given campaign data renders a
// recipient with other data, no data, or the caller's map changed after New,
// with that data, never the folded one.
func TestCampaignDataNeverStale(t *testing.T) {
	t.Parallel()
	data := map[string]any{"reregister_url": "https://altea.example/folded"}
	e, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: "welcome", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	ref := newReference(t, e, templates.FS, locales.FS)
	m, _ := e.Resolve("de")
	d := Data{Name: "Ana", Email: "a@x", Fields: map[string]string{"posts": "2"}}
	for _, tt := range []struct {
		name string
		data map[string]any
		want string // in the HTML, or "" for an error
	}{
		{"same", map[string]any{"reregister_url": "https://altea.example/folded"}, "https://altea.example/folded"},
		{"other", map[string]any{"reregister_url": "https://altea.example/other"}, "https://altea.example/other"},
		{"typed", map[string]any{"reregister_url": htmltemplate.URL("https://altea.example/folded")}, "https://altea.example/folded"},
		{"extra key", map[string]any{"reregister_url": "https://altea.example/folded", "x": 1}, "https://altea.example/folded"},
		{"missing", nil, ""},
	} {
		d.Data = tt.data
		assertSameRendering(t, e, ref, m, d)
		r, err := e.Render(m, d)
		if (err == nil) != (tt.want != "") || !strings.Contains(r.HTML, tt.want) || (tt.name == "other" && strings.Contains(r.HTML+r.Text, "folded")) {
			t.Errorf("%s: %v, html has %q: %v", tt.name, err, tt.want, strings.Contains(r.HTML, tt.want))
		}
	}
	// The caller changes its map: the engine kept a copy.
	data["reregister_url"] = "https://altea.example/changed"
	d.Data = data
	assertSameRendering(t, e, ref, m, d)
	if r, _ := e.Render(m, d); !strings.Contains(r.HTML, "changed") || strings.Contains(r.HTML+r.Text, "folded") {
		t.Errorf("a changed map renders stale data:\n%s", r.Text)
	}
	// Data that is not plain is not folded.
	p := new(string)
	e2, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: "welcome", Data: map[string]any{"reregister_url": p}})
	if err != nil || e2.data != nil || e2.byLang["de"].std != nil {
		t.Errorf("a pointer in the data was folded: %v", err)
	}
}

// hoistedRead matches a template's read of a hoisted message, printed
// (with or without its escapers).
var hoistedRead = regexp.MustCompile(`\{\{\.M[0-9]+[ }]`)

// TestHoistedMessagesNotTemplateData: templates and catalog messages cannot
// read the view's hoisted messages (M0 to M15: not template data), and a recipient whose
// message fails renders like the standard templates, with the same error.
func TestHoistedMessagesNotTemplateData(t *testing.T) {
	t.Parallel()
	good := map[string]string{"w/subject.tmpl": `{{t "s" .}}`, "w/html.tmpl": `<p>{{t "s" .}} {{tc "n" .Fields.n .}}</p>`, "w/text.tmpl": `{{t "s" .}}`}
	files := func(name, src string) fstest.MapFS {
		m := fstest.MapFS{}
		for k, v := range good {
			m[k] = &fstest.MapFile{Data: []byte(v)}
		}
		if name != "" {
			m[name] = &fstest.MapFile{Data: []byte(src)}
		}
		return m
	}
	catalog := "[s]\nother = \"Hi {{.Name}} {{.Fields.nick}}\"\n[n]\none = \"{{.Count}} post\"\nother = \"{{.Count}} posts\"\n"
	loc := fstest.MapFS{"en.toml": {Data: []byte(catalog)}}
	for _, src := range []string{"{{.M0}}", "{{$.M0}}", "{{.M15}}", "{{.Messages.M0}}", "{{$.Messages.M0}}"} {
		if _, err := New(Config{Templates: files("w/html.tmpl", src), Locales: loc, Template: "w"}); err == nil || !strings.Contains(err.Error(), "unknown field") {
			t.Errorf("template %s: New = %v, want unknown field", src, err)
		}
	}
	// A template that calls one no file defines fails for every recipient:
	// said once, when the engine is built, with its file and line.
	if _, err := New(Config{Templates: files("w/html.tmpl", "<p>{{t \"s\" .}}</p>\n<p>{{template \"p\" .}}</p>"), Locales: loc, Template: "w"}); err == nil ||
		!strings.Contains(err.Error(), `templates/w/html.tmpl:2: {{template "p"}}: no template "p" is defined in this file`) {
		t.Errorf("a call of an undefined template: New = %v, want it named with its file and line", err)
	}
	if _, err := New(Config{Templates: files("w/html.tmpl", "{{define \"p\"}}<b>{{t \"s\" .}}</b>{{end}}<p>{{template \"p\" .}}</p>{{block \"q\" .}}{{t \"s\" .}}{{end}}"), Locales: loc, Template: "w"}); err != nil {
		t.Errorf("templates defined in the file: New = %v", err)
	}
	// The data as a whole, printed or made dot again, would show the
	// messages evaluated first: only t, tc and template may take it.
	for _, src := range []string{"{{.}}", "{{$}}", `{{printf "%v" .}}`, "{{with $}}{{.Messages.M0}}{{end}}", "{{range $i, $x := .Fields}}{{$}}{{end}}"} {
		if _, err := New(Config{Templates: files("w/html.tmpl", src), Locales: loc, Template: "w"}); err == nil || !strings.Contains(err.Error(), "the template data as a whole") {
			t.Errorf("template %s: New = %v, want the data as a whole refused", src, err)
		}
	}
	for _, src := range []string{`{{range .Fields}}{{t "s" $}}{{end}}`, `{{define "x"}}{{t "s" .}}{{end}}{{template "x" .}}`, `{{with .Fields.n}}{{.}}{{end}}`} {
		if _, err := New(Config{Templates: files("w/html.tmpl", src), Locales: loc, Template: "w"}); err != nil {
			t.Errorf("template %s: New = %v, want it accepted", src, err)
		}
	}
	for _, field := range []string{".M0", ".M15", ".Messages.M0"} {
		bad := fstest.MapFS{"en.toml": {Data: []byte("[s]\nother = \"{{" + field + "}}\"\n[n]\nother = \"x\"\n")}}
		if _, err := New(Config{Templates: files("", ""), Locales: bad, Template: "w"}); err == nil || !strings.Contains(err.Error(), "unknown field "+field) {
			t.Errorf("catalog %s: New = %v, want unknown field", field, err)
		}
	}

	e, err := New(Config{Templates: files("", ""), Locales: loc, Template: "w"})
	if err != nil {
		t.Fatal(err)
	}
	ref := newReference(t, e, files("", ""), loc)
	m, _ := e.Resolve("en")
	if e.byLang["en"].tmpl.messages == nil {
		t.Fatal("no hoisted messages")
	}
	for _, f := range []map[string]string{
		{"n": "1", "nick": "<b>"}, // hoisted
		{"n": "2"},                // nick missing: s fails
		{"nick": "x"},             // n missing: tc fails
		{"n": "lots", "nick": "x"},
		nil,
	} {
		assertSameRendering(t, e, ref, m, Data{Name: "Ana", Fields: f})
		_, gerr := e.Render(m, Data{Name: "Ana", Fields: f})
		_, werr := ref.render(m, Data{Name: "Ana", Fields: f})
		// The same failure: the template engine's error Render wraps.
		if (gerr == nil) != (werr == nil) || (gerr != nil && !strings.Contains(errors.Unwrap(gerr).Error(), strings.TrimPrefix(werr.Error(), "template: "))) {
			t.Errorf("fields %v: Render error %v, standard error %v", f, gerr, werr)
		}
	}
}

// TestProbesTellEscapersApart checks the claims the probes rest on, in
// contexts where html/template escapes an action differently: in every pair
// of them, some probe value (a text, or a value of a content type) prints
// differently; and where no probe text does, no text of a wide corpus does
// either (every ASCII character alone and between letters, and more), so
// that with the campaign's data folded, when recipients' values are all
// text, the probe texts alone suffice. It reads which escapers
// html/template chose from the escaped tree, and what the action printed
// through a recording function, as folding does.
func TestProbesTellEscapersApart(t *testing.T) {
	t.Parallel()
	contexts := [][2]string{
		{`<p>`, `</p>`}, {`<title>`, `</title>`}, {`<textarea>`, `</textarea>`},
		{`<p title="`, `">`}, {`<p title='`, `'>`}, {`<p title=`, `>`}, {`<p `, `="x">`},
		{`<a href="`, `">`}, {`<a href="/p/`, `">`}, {`<a href="/p?q=`, `">`}, {`<a href=`, `>`}, {`<img srcset="`, `">`},
		{`<script>var x = `, `;</script>`}, {`<script>var x = "`, `";</script>`}, {`<script>var x = '`, `';</script>`},
		{`<script>var x = /`, `/;</script>`}, {"<script>var x = `", "`;</script>"}, {`<a onclick="f(`, `)">`},
		{`<a onclick="f('`, `')">`}, {`<style>p { color: `, ` }</style>`}, {`<style>p { content: "`, `" }</style>`},
		{`<style>p { background: url(`, `) }</style>`}, {`<p style="color: `, `">`}, {`<p style="content: '`, `'">`},
		{`<!-- `, ` -->`},
	}
	var texts, typed, wide []any
	for _, s := range foldTexts {
		texts = append(texts, s)
	}
	for _, ty := range foldTyped {
		for _, s := range foldTexts[1:3] {
			typed = append(typed, ty(s))
		}
	}
	for c := rune(0); c < 128; c++ {
		wide = append(wide, string(c), "a"+string(c)+"b", string(c)+"a")
	}
	for _, s := range []string{"\u2028", "\u2029", "\u0085", "é", "日本", "\ufeff", "\xff", "javascript:x", "data:x", "JaVaScRiPt:x", " javascript:x",
		"a b", "a&b", "a+b", "1px solid", "#fff", "a--b", "expression", "-->", "<!--", "a,b", "a 1x, b 2x", "%41", "a=b", "a;b", "a:b"} {
		wide = append(wide, s)
	}
	type result struct {
		chain              string   // the escapers, as the escaped tree shows them
		texts, typed, wide []string // what the action printed, by value
	}
	run := func(c [2]string, values []any) (string, []string) {
		rec := &foldRecorder{pending: -1, seen: make([][]string, 1)}
		mark := func(v any) any { rec.pending = 0; return v }
		h, err := htmltemplate.New("c").Funcs(map[string]any{"mark": mark}).Parse(c[0] + "{{.X | mark}}" + c[1])
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			if err := h.Execute(rec, map[string]any{"X": v}); err != nil {
				t.Fatalf("%s: %v", c[0], err)
			}
		}
		if len(rec.seen[0]) != len(values) {
			t.Fatalf("%s: recorded %d outputs of %d", c[0], len(rec.seen[0]), len(values))
		}
		return strings.Join(treeShape(h.Tree.Root, nil), " "), rec.seen[0]
	}
	results := make([]result, len(contexts))
	chains := map[string]bool{}
	for i, c := range contexts {
		r := &results[i]
		r.chain, r.texts = run(c, texts)
		_, r.typed = run(c, typed)
		_, r.wide = run(c, wide)
		chains[r.chain] = true
	}
	if len(chains) < 15 {
		t.Fatalf("only %d different escapings in %d contexts: the test shows nothing", len(chains), len(contexts))
	}
	for i := range results {
		for j := i + 1; j < len(results); j++ {
			a, b := results[i], results[j]
			if a.chain == b.chain {
				continue
			}
			name := fmt.Sprintf("%q+%q (%s) and %q+%q (%s)", contexts[i][0], contexts[i][1], a.chain, contexts[j][0], contexts[j][1], b.chain)
			if slices.Equal(a.texts, b.texts) && slices.Equal(a.typed, b.typed) {
				t.Errorf("no probe tells apart %s", name)
			}
			if slices.Equal(a.texts, b.texts) && !slices.Equal(a.wide, b.wide) {
				for k := range a.wide {
					if a.wide[k] != b.wide[k] {
						t.Errorf("the probe texts do not tell apart %s, the text %q does: %q, %q", name, wide[k], a.wide[k], b.wide[k])
						break
					}
				}
			}
		}
	}
}
