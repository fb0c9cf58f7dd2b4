package render

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	texttemplate "text/template"

	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

// plainView is a view with every string field set (distinct values, some
// hostile), hoisted messages and a column.
func plainView() *view {
	v := &view{ID: "u<1>", Email: "a+b@example.org", Name: "Jürgen \"Groß\" & {{.Name}}", Campaign: "c\n1",
		Locale: "de", RequestedLocale: "de-CH", Dir: "ltr", Count: "0",
		Fields: map[string]string{"posts": "12", "empty": "", "odd": "<no value>"}}
	for i := range maxHoisted {
		*hoistedPtr(v, i) = "message " + hoistedField[i] + " <&>"
	}
	return v
}

// executeText executes src as text/template does for the templates and the
// messages (missingkey=error) with v.
func executeText(t testing.TB, src string, v *view) (string, error, *texttemplate.Template) {
	t.Helper()
	tm, err := texttemplate.New("x").Option("missingkey=error").Parse(src)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	var b strings.Builder
	err = tm.Execute(&b, v)
	return b.String(), err, tm
}

// TestPlainEqualsExecute checks that a plain tree prints what text/template
// prints for it, that a missing column is left to text/template, and that
// every other tree is refused.
func TestPlainEqualsExecute(t *testing.T) {
	cases := []struct {
		src                string
		messages, columns  bool
		plain, missingFail bool
	}{
		{src: "", plain: true},
		{src: "just text", plain: true},
		{src: "Hello {{.Name}}, {{.Email}} {{.ID}} {{.Campaign}}", plain: true},
		{src: "{{.Locale}}{{.RequestedLocale}}{{.Dir}}{{.Count}}", plain: true},
		{src: "a {{- .Name -}} b {{/* note */}} c", plain: true},
		{src: `{{"{{"}}.Name{{"}}"}} {{` + "`raw`" + `}}`, plain: true},
		{src: "{{.M0}} and {{.M15}}", messages: true, plain: true},
		{src: "{{.M3}}", plain: false},
		{src: "{{.Fields.posts}} {{.Fields.empty}}|{{.Fields.odd}}", columns: true, plain: true},
		{src: "{{.Fields.missing}}", columns: true, plain: true, missingFail: true},
		{src: "{{.Fields.posts}}", messages: true, plain: false},
		{src: "{{.Fields}}", columns: true},
		{src: "{{.Data.x}}", columns: true, messages: true},
		{src: "{{.Messages}}", messages: true},
		{src: "{{.Messages.M16}}", messages: true},
		{src: "{{.}}", columns: true},
		{src: "{{$}}", columns: true},
		{src: "{{.Name | printf \"%s\"}}"},
		{src: "{{printf \"%s\" .Name}}"},
		{src: "{{html .Name}}"},
		{src: "{{$x := .Name}}{{$x}}"},
		{src: "{{if .Name}}x{{end}}"},
		{src: "{{range .Fields}}x{{end}}"},
		{src: "{{with .Name}}x{{end}}"},
		{src: `{{define "t"}}x{{end}}{{template "t"}}`},
		{src: "{{1}}"},
		{src: "{{true}}"},
		{src: "{{nil}}"},
		{src: "{{(.Name)}}"},
		{src: "{{.Name.Len}}"},
		{src: "{{.Unknown}}"},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			v := plainView()
			want, err, tm := executeText(t, c.src, v)
			parts := plainOf(tm.Tree, c.messages, c.columns)
			if (parts != nil) != c.plain {
				t.Fatalf("plain = %v, want %v", parts != nil, c.plain)
			}
			if parts == nil {
				return
			}
			got, ok := execPlain(parts, v, v.Count)
			if ok == c.missingFail || (err != nil) != c.missingFail {
				t.Fatalf("execPlain ok = %v, Execute error %v; want a failure: %v", ok, err, c.missingFail)
			}
			if ok && got != want {
				t.Fatalf("execPlain = %q, Execute = %q", got, want)
			}
		})
	}
}

// TestPlainFieldsAreViewStrings checks that the plain parts know exactly
// the string fields of the view, and read each from its own field.
func TestPlainFieldsAreViewStrings(t *testing.T) {
	if got, want := slices.Sorted(maps.Keys(plainFields)), slices.Sorted(maps.Keys(viewStrings)); !slices.Equal(got, want) {
		t.Fatalf("plainFields %v, view's string fields %v", got, want)
	}
	v := plainView()
	rv := reflect.ValueOf(v).Elem()
	for name, f := range plainFields {
		p := plainPart{kind: plainField, field: f}
		got, ok := p.value(v, v.Count)
		if want := rv.FieldByName(name).String(); !ok || got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	for i := range maxHoisted {
		p := plainPart{kind: plainMessage, idx: i}
		got, _ := p.value(v, "")
		if want := rv.FieldByName(hoistedField[i]).String(); got != want {
			t.Errorf("%s: %q, want %q", hoistedField[i], got, want)
		}
	}
}

// TestPlainHappens notices when the bundled template's text.tmpl and its
// messages with data stop being plain (Render is then as correct, and
// slower).
func TestPlainHappens(t *testing.T) {
	e, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: "welcome", DefaultLocale: "en",
		Data: map[string]any{"reregister_url": "https://altea.example/re-register"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range e.langs {
		if l.tmpl == nil {
			continue
		}
		if l.tmpl.text.plain == nil {
			t.Errorf("%s: text.tmpl is not plain", l.cat.lang)
		}
		for _, key := range []string{"welcome.greeting", "welcome.change_login", "welcome.posts"} {
			for i, f := range l.msgs[key].forms {
				if f.tmpl != nil && f.plain == nil {
					t.Errorf("%s: %s (%s) is not plain", l.cat.lang, key, pluralForms[i])
				}
			}
		}
	}
}

// FuzzPlainMessage compares plain execution of a catalog message with
// text/template's for any source and data.
func FuzzPlainMessage(f *testing.F) {
	f.Add("Hello {{.Name}}, {{.Fields.posts}} {{.Count}}", "Jürgen", "12", "posts", "3")
	f.Add("{{- .Email -}} {{\"{{\"}} {{/* c */}}", "x", "", "p", "")
	f.Add("{{.Fields.x}}{{.Data.y}}{{.Messages.M1}}", "", "v", "x", "1.5")
	f.Fuzz(func(t *testing.T, src, name, col, colName, count string) {
		tm, err := texttemplate.New("x").Option("missingkey=error").Parse(src)
		if err != nil {
			return
		}
		v := plainView()
		v.Name, v.Count = name, count
		v.Fields = map[string]string{colName: col}
		for _, messages := range []bool{false, true} {
			parts := plainOf(tm.Tree, messages, true)
			if parts == nil {
				continue
			}
			var b strings.Builder
			err := tm.Execute(&b, v)
			got, ok := execPlain(parts, v, v.Count)
			if ok != (err == nil) {
				t.Fatalf("%q: execPlain ok = %v, Execute error %v", src, ok, err)
			}
			if ok && got != b.String() {
				t.Fatalf("%q: execPlain = %q, Execute = %q", src, got, b.String())
			}
		}
	})
}
