package render

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	texttemplate "text/template"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/templates"
)

// TestRenderErrorSaysWhatAndWhere: a recipient the template cannot be
// rendered for gets a *RenderError that names the template file and line,
// the language, the catalog message and the field at fault, and what to
// do, instead of text/template's text (whose names are internal); the
// template engine's error stays wrapped for logs. The messages are in
// testdata/render-errors.golden.
func TestRenderErrorSaysWhatAndWhere(t *testing.T) {
	t.Parallel()
	tmpl := fstest.MapFS{
		"m/subject.tmpl": {Data: []byte(`{{t "subject" .}}`)},
		"m/html.tmpl":    {Data: []byte("<p>{{t \"hello\" .}}</p>\n<p>{{.Data.url}}</p>\n<p>{{index .Data.list 3}}</p>")},
		"m/text.tmpl":    {Data: []byte("{{t \"hello\" .}}\n{{tc \"posts\" .Fields.posts .}}\n{{if .Fields.vip}}VIP{{end}} {{.Fields.city}}")},
	}
	loc := fstest.MapFS{"en.toml": {Data: []byte("[subject]\nother = \"News\"\n[hello]\nother = \"Hello {{.Fields.nick}}\"\n[posts]\none = \"{{.Count}} post\"\nother = \"{{.Count}} posts\"\n")}}
	e, err := New(Config{Templates: tmpl, Locales: loc, Template: "m", DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	// The bundled welcome template with the campaign's data folded in (its
	// messages hoisted): the line is still the one written.
	welcome, err := New(Config{Templates: templates.FS, Locales: localesWith(t, nil), Template: "welcome", DefaultLocale: "en",
		Data: map[string]any{"reregister_url": "https://altea.example/re-register"}})
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]string{"nick": "Ana", "posts": "3", "vip": "", "city": "Graz"}
	without := func(drop string, set ...string) map[string]string {
		f := map[string]string{}
		for k, v := range all {
			if k != drop {
				f[k] = v
			}
		}
		for i := 0; i+1 < len(set); i += 2 {
			f[set[i]] = set[i+1]
		}
		return f
	}
	data := map[string]any{"url": "https://x.example", "list": []string{"a", "b", "c", "d"}}
	tests := []struct {
		name   string
		e      *Engine
		fields map[string]string
		data   map[string]any
		cause  string
		column string
	}{
		{"a column a message uses", e, without("nick"), data, CauseMissingColumn, "nick"},
		{"a column the template uses", e, without("city"), data, CauseMissingColumn, "city"},
		{"a column used in a condition", e, without("vip"), data, CauseMissingColumn, "vip"},
		{"the column of a count", e, without("posts"), data, CauseMissingColumn, "posts"},
		{"a count that is not a number", e, without("", "posts", "many"), data, CauseBadCount, "posts"},
		{"a key of the campaign's data", e, all, map[string]any{"list": data["list"]}, CauseMissingData, ""},
		{"folded and hoisted", welcome, map[string]string{}, map[string]any{"reregister_url": "https://altea.example/re-register"}, CauseMissingColumn, "posts"},
	}
	var out []string
	for _, tt := range tests {
		m, err := tt.e.Resolve("en")
		if err != nil {
			t.Fatal(err)
		}
		_, err = tt.e.Render(m, Data{Name: "Ana", Fields: tt.fields, Data: tt.data})
		var re *RenderError
		if !errors.As(err, &re) {
			t.Errorf("%s: Render = %v, want a *RenderError", tt.name, err)
			continue
		}
		if re.Cause != tt.cause || re.Column != tt.column || re.Line == 0 {
			t.Errorf("%s: cause %q, column %q, line %d; want %q, %q and a line", tt.name, re.Cause, re.Column, re.Line, tt.cause, tt.column)
		}
		if strings.Contains(err.Error(), "executing") || strings.Contains(err.Error(), "map has no entry") {
			t.Errorf("%s: the message shows the template engine's text: %s", tt.name, err)
		}
		if !errors.As(err, new(texttemplate.ExecError)) {
			t.Errorf("%s: the template engine's error is not wrapped: %#v", tt.name, re.Err)
		}
		if cerr := tt.e.Check(m, Data{Name: "Ana", Fields: tt.fields, Data: tt.data}); cerr == nil || cerr.Error() != err.Error() {
			t.Errorf("%s: Check = %v, want what Render returned", tt.name, cerr)
		}
		out = append(out, "# "+tt.name+"\n"+err.Error())
	}
	golden.Check(t, filepath.Join("testdata", "render-errors.golden"), strings.Join(out, "\n\n")+"\n")

	// A failure it cannot explain still says where, and keeps the cause.
	m, _ := e.Resolve("en")
	_, err = e.Render(m, Data{Fields: all, Data: map[string]any{"url": "u", "list": []string{"a"}}})
	var re *RenderError
	if !errors.As(err, &re) || re.Cause != "" || !strings.HasPrefix(err.Error(), "templates/m/html.tmpl: en: cannot be rendered for this recipient (") || !strings.Contains(err.Error(), "index out of range") {
		t.Errorf("unexplained failure = %v", err)
	}
}
