package render

import (
	"errors"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"unicode"

	"github.com/tidings-mail/tidings/internal/oneline"
	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

// fuzzEngine is the bundled sample with an alias, shared by the fuzz
// iterations, with its plain reference rendering and, per language, the
// number of '<' in its HTML (markup only: data and messages are escaped).
var fuzzEngine struct {
	once sync.Once
	e    *Engine
	ref  *reference
	lt   map[string]int
	err  error
}

func loadFuzzEngine(t testing.TB) (*Engine, *reference, map[string]int) {
	t.Helper()
	fuzzEngine.once.Do(func() {
		e, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: "welcome", DefaultLocale: "en",
			Policy: Policy{Aliases: map[string]string{"gsw": "de"}}})
		if err != nil {
			fuzzEngine.err = err
			return
		}
		fuzzEngine.e = e
		fuzzEngine.ref = newReference(t, e, templates.FS, locales.FS)
		fuzzEngine.lt = map[string]int{}
		for _, c := range e.Languages() {
			m, err := e.Resolve(c.Lang)
			if err != nil {
				continue
			}
			r, err := e.Render(m, Data{Name: "x", Email: "x", Fields: map[string]string{"posts": "1"}, Data: map[string]any{"reregister_url": "x"}})
			if err != nil {
				fuzzEngine.err = err
				return
			}
			fuzzEngine.lt[c.Lang] = strings.Count(r.HTML, "<")
		}
	})
	if fuzzEngine.err != nil {
		t.Fatal(fuzzEngine.err)
	}
	return fuzzEngine.e, fuzzEngine.ref, fuzzEngine.lt
}

// dataEngines caches, by language and URL, an engine for that language's
// catalog alone that folds the campaign data {"reregister_url": URL}, and
// its plain reference (one language keeps New fast enough to build one per
// fuzz input).
var dataEngines struct {
	sync.Mutex
	m map[string]*dataEngine
}

type dataEngine struct {
	e   *Engine
	ref *reference
}

func loadDataEngine(t testing.TB, lang, url string) *dataEngine {
	t.Helper()
	dataEngines.Lock()
	defer dataEngines.Unlock()
	key := lang + "\x00" + url
	if de := dataEngines.m[key]; de != nil {
		return de
	}
	if len(dataEngines.m) >= 64 || dataEngines.m == nil {
		dataEngines.m = map[string]*dataEngine{}
	}
	src, err := fs.ReadFile(locales.FS, lang+".toml")
	if err != nil {
		t.Fatal(err)
	}
	loc := fstest.MapFS{lang + ".toml": {Data: src}}
	e, err := New(Config{Templates: templates.FS, Locales: loc, Template: "welcome", DefaultLocale: lang,
		Data: map[string]any{"reregister_url": url}})
	if err != nil {
		t.Fatal(err)
	}
	de := &dataEngine{e: e, ref: newReference(t, e, templates.FS, loc)}
	dataEngines.m[key] = de
	return de
}

// FuzzRenderHostileData renders the bundled template for a random locale
// and random recipient data and checks: the rendering equals the plain
// reference (the template files through html/template and text/template,
// every message through go-i18n), also by an engine that folded the
// campaign data (the URL) into its templates, for that data and for other
// data; no '<' from data reaches the HTML unescaped; the subject is one
// line; and the language is the one the locale rule chose, never another (a
// forged Match is refused).
func FuzzRenderHostileData(f *testing.F) {
	f.Add("de-CH", "Jürgen <b>Groß</b>", "j@example.de", "12", "https://altea.example/r?a=1&b=2", "x")
	f.Add("ru", "\r\nBcc: victim@example.com", "=?UTF-8?B?QmNjOg==?=", "1.5", "javascript:alert(1)", "<script>")
	f.Add("gsw", "{{.Email}}", "<{{printf \"%0999999d\" 1}}>", "-21", "\" onmouseover=\"x", "</title><script>x</script>")
	f.Add("pt-BR", "Ana", "a@x", "1", "u", "v")
	f.Add("ar-EG", "\u202eليلى\x00\xff", "a@x", "1000000", "data:text/html,<b>", "&lt;&#60;")
	f.Add("", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, locale, name, email, posts, url, extra string) {
		e, ref, markup := loadFuzzEngine(t)
		d := Data{ID: extra, Email: email, Name: name, Campaign: extra,
			Fields: map[string]string{"posts": posts, "extra": extra}, Data: map[string]any{"reregister_url": url}}
		m, err := e.Resolve(locale)
		if err != nil {
			// Refused: no Match makes Render produce anything for it.
			for _, c := range e.Languages() {
				if r, err := e.Render(Match{Requested: locale, Lang: c.Lang}, d); err == nil || r != (Rendered{}) {
					t.Fatalf("locale %q refused by Resolve, but Render in %s gave %+v, %v", locale, c.Lang, r, err)
				}
			}
			return
		}
		for _, c := range e.Languages() {
			if !strings.EqualFold(c.Lang, m.Lang) {
				if _, err := e.Render(Match{Requested: locale, Lang: c.Lang, Via: ViaMatch}, d); !errors.Is(err, ErrLocaleNotCovered) {
					t.Fatalf("locale %q resolves to %s, but Render in %s gave %v", locale, m.Lang, c.Lang, err)
				}
			}
		}
		assertSameRendering(t, e, ref, m, d)
		r, err := e.Render(m, d)
		if err != nil {
			return // the reference failed the same way
		}
		if r.Lang != m.Lang || !strings.Contains(r.HTML, `<html lang="`+m.Lang+`"`) {
			t.Fatalf("rendered in %s (html lang %q), resolved %s", r.Lang, r.HTML[:min(len(r.HTML), 80)], m.Lang)
		}
		want, err := e.Message(m, "welcome.subject", "", d)
		if err != nil || r.Subject != oneline.Of(want) {
			t.Fatalf("subject %q is not %s's welcome.subject %q (%v)", r.Subject, m.Lang, want, err)
		}
		if n := strings.Count(r.HTML, "<"); n != markup[m.Lang] {
			t.Fatalf("HTML has %d '<', the markup has %d: data reached the HTML unescaped\n%s", n, markup[m.Lang], r.HTML)
		}
		for _, c := range r.Subject {
			if unicode.IsControl(c) || c == '\u2028' || c == '\u2029' {
				t.Fatalf("subject %q is not one line", r.Subject)
			}
		}

		// The campaign data folded: the same rendering, and other data is
		// never rendered with the folded URL.
		de := loadDataEngine(t, m.Lang, url)
		dm, err := de.e.Resolve(m.Lang)
		if err != nil {
			t.Fatalf("%s alone: %v", m.Lang, err)
		}
		assertSameRendering(t, de.e, de.ref, dm, d)
		rd, err := de.e.Render(dm, d)
		if err != nil {
			t.Fatalf("folded campaign data: %v", err)
		}
		if rd.HTML != r.HTML || rd.Text != r.Text || rd.Subject != r.Subject {
			t.Fatalf("folded campaign data renders differently\n--- folded ---\n%s\n--- standard ---\n%s", rd.HTML, r.HTML)
		}
		other := d
		other.Data = map[string]any{"reregister_url": url + "/other"}
		assertSameRendering(t, de.e, de.ref, dm, other)
	})
}

// FuzzCatalogMessage checks the catalog rule on random message sources: a
// message the rule accepts parses as the engine parses it, runs no code, and
// its output is bounded by its source and the data it names (issue 11's
// {{printf "%0999999d" 1}} made 2 MB of 22 bytes).
func FuzzCatalogMessage(f *testing.F) {
	for _, s := range []string{
		"Hallo {{.Name}},", `{{printf "%0999999d" 1}}`, "{{.Fields.posts}} {{.Data.url}}", `{{"{{"}}`, "{{/* c */}}",
		"{{if .Name}}x{{end}}", "{{range .Fields}}{{.}}{{end}}", `{{define "x"}}y{{end}}`, "{{.Name | len}}", "{{- .Count -}}",
		"{{$x := 1}}", "{{(.Name)}}", "{{.Data.a.b}}", "{{.}}", "{{call .Data.f}}", `{{index .Fields "x"}}`, "{{ .Name }",
	} {
		f.Add(s, "", "")
	}
	f.Add("<<.Name>> {{x}}", "<<", ">>")
	f.Add("[[ html .Name ]]", "[[", "]]")
	f.Fuzz(func(t *testing.T, src, left, right string) {
		if (left == "") != (right == "") || (left != "" && (strings.Contains(left, right) || strings.Contains(right, left))) {
			return // delimiters come in pairs and differ
		}
		mc, err := checkMessage(src, left, right)
		if err != nil || len(mc.violations) > 0 {
			return
		}
		form, err := compileForm(src, left, right)
		if err != nil {
			t.Fatalf("the rule accepts %q (delims %q %q), which does not parse: %v", src, left, right, err)
		}
		if form.tmpl == nil {
			if form.text != src {
				t.Fatalf("text message %q became %q", src, form.text)
			}
			return
		}
		const value = "0123456789abcdef" // every data value: 16 bytes
		fields := map[string]string{}
		data := map[string]any{}
		for f := range mc.fields {
			parts := strings.Split(f, ".")
			switch {
			case len(parts) == 3 && parts[1] == "Fields":
				fields[parts[2]] = value
			case len(parts) == 3 && parts[1] == "Data":
				data[parts[2]] = value
			}
		}
		v := &view{ID: value, Email: value, Name: value, Campaign: value, Locale: value, RequestedLocale: value, Dir: value,
			Count: value, Fields: fields, Data: data}
		var b strings.Builder
		if err := form.tmpl.Execute(&b, v); err != nil {
			t.Fatalf("accepted message %q fails on complete data: %v", src, err)
		}
		// Every action is at least 3 bytes of source plus the delimiters and
		// prints a 16-byte value or a quoted string shorter than itself.
		if limit := len(src) * 16; b.Len() > limit {
			t.Fatalf("accepted message %q (%d bytes) printed %d bytes", src, len(src), b.Len())
		}
	})
}
