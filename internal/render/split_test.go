package render

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

// splitHostile are recipient values for TestSplitEqualsUnsplit: markup,
// entities, quotes, template delimiters, bidirectional marks, CRLF, NUL,
// invalid UTF-8 (whole and cut at either end), noncharacters, a URL scheme
// and very long values.
var splitHostile = []string{
	"", "<", "&", `"`, "'", "`", "+", "<script>alert(1)</script>", "&amp;&#39;", `" onclick="x`, "{{.Name}}", "{{", "}}",
	"\u200f\u202eevil\u202c", "\u061c\u2067x\u2069", "a\r\nBcc: x@example.com", "a\x00b", "\x00", "\xff\xfe", "\x97\xa5x", "x\xe6\x97",
	"\ufdd0\uffff", "javascript:alert(1)", "Zoë 🌱 山田 ليلى", strings.Repeat("<&\"'\u202e\r\n\x00é", 4000),
}

// splitUnsplit renders d for locale with the templates Render picks and
// with their fallback (the templates without hoisted messages, which the
// split ones were checked against), and fails unless both give the same
// bytes and the same error. It reports whether Render's templates split a
// message.
func splitUnsplit(t *testing.T, e *Engine, locale string, d Data) bool {
	t.Helper()
	m, err := e.Resolve(locale)
	if err != nil {
		t.Fatal(err)
	}
	l := e.byLang[strings.ToLower(m.Lang)]
	ts := l.templatesFor(d, e.data)
	got, gerr := e.render(l, ts, m, d)
	if ts.fallback == nil {
		return false
	}
	want, werr := e.render(l, ts.fallback, m, d)
	if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
		t.Fatalf("%s, %q: error %v, unsplit %v", locale, d.Name, gerr, werr)
	}
	if got != want {
		t.Fatalf("%s, %q: rendered\n%q\nunsplit\n%q", locale, d.Name, got, want)
	}
	return slices.ContainsFunc(ts.messages.uses, func(u hoistUse) bool { return u.field != "" })
}

// TestSplitEqualsUnsplit renders every bundled template in every covered
// bundled language (the sample recipient of each, engines with and
// without the campaign's data folded), and a template that calls split
// messages in HTML text, RCDATA, quoted and unquoted attributes, a URL, a
// script and a style, with catalogs whose texts hold markup, entities,
// quotes, delimiters, bidirectional marks, CRLF and NUL, with every
// hostile value in every field: the split templates render what the
// templates without hoisted messages render, byte for byte, errors
// included. It fails if nothing was split.
func TestSplitEqualsUnsplit(t *testing.T) {
	t.Parallel()
	s := loadSamples(t)
	for _, name := range templateNames(templates.FS) {
		for _, data := range []map[string]any{nil, s.Data} {
			e, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: name, DefaultLocale: "en", Data: data})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range e.Languages() {
				if !c.Covered {
					continue
				}
				r, _ := s.sample(t, e, c.Lang)
				split := false
				for _, h := range splitHostile {
					for _, d := range []Data{
						{ID: h, Email: r.Email, Name: r.Name, Campaign: s.Campaign, Fields: r.Fields, Data: s.Data},
						{ID: h, Email: h, Name: h, Campaign: h, Fields: map[string]string{"posts": r.Fields["posts"]}, Data: s.Data},
						{ID: r.ID, Email: h, Name: r.Name, Campaign: s.Campaign, Fields: map[string]string{"posts": h}, Data: map[string]any{"reregister_url": h}},
					} {
						split = splitUnsplit(t, e, r.Locale, d) || split
					}
				}
				if name == "welcome" && !split {
					t.Errorf("%s %s: no message split", name, c.Lang)
				}
			}
		}
	}

	cat := "[s]\nother = \"Hi {{.Name}} <b>&amp; \\\"{{\\\"{{\\\"}}\\\" '\\u202e\\r\\n\\u0000!\"\n" +
		"[e]\nother = \"{{.Email}}\"\n[u]\nother = \"javascript{{.ID}}:x\"\n[c]\nother = \"exp{{.Campaign}}(x)\"\n" +
		"[r]\nother = \"<{{.RequestedLocale}}>\"\n[n]\none = \"{{.Count}} post by {{.Name}}\"\nother = \"{{.Count}} posts by {{.Name}}\"\n"
	loc := fstest.MapFS{"en.toml": {Data: []byte(cat)}, "de.toml": {Data: []byte(cat)}, "fa.toml": {Data: []byte(cat)}}
	html := `<title>{{t "s" .}}</title><textarea>{{t "r" .}}</textarea><p title="{{t "s" .}}" data-x='{{t "e" .}}' lang={{t "e" .}}>{{t "s" .}}</p>` +
		`{{t "e" .}}<a href="{{t "u" .}}">{{t "r" .}}</a><a href="https://x.example/?q={{t "s" .}}">x</a>` +
		`<script>var n = {{t "s" .}}, m = "{{t "e" .}}";</script><style>p { font-family: {{t "c" .}}; }</style><p style="color: {{t "c" .}}">` +
		`{{tc "n" .Fields.posts .}}<p onclick="f({{t "s" .}})">`
	fsys := fstest.MapFS{"x/subject.tmpl": {Data: []byte(`{{t "s" .}} {{.Name}}`)}, "x/html.tmpl": {Data: []byte(html)},
		"x/text.tmpl": {Data: []byte(`{{t "s" .}} {{tc "n" .Fields.posts .}} {{t "e" .}} {{t "u" .}}`)}}
	e, err := New(Config{Templates: fsys, Locales: loc, Template: "x", DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	for _, locale := range []string{"en-GB", "de-CH", "fa-IR"} {
		split := false
		for _, h := range splitHostile {
			for _, d := range []Data{
				{ID: h, Email: h, Name: h, Campaign: h, Fields: map[string]string{"posts": "2"}},
				{ID: "1", Email: "a@example.com", Name: h, Campaign: "c", Fields: map[string]string{"posts": "1"}},
				{ID: h, Name: h, Fields: map[string]string{"posts": h}},
			} {
				split = splitUnsplit(t, e, locale, d) || split
			}
		}
		if !split {
			t.Errorf("%s: no message split", locale)
		}
	}
}
