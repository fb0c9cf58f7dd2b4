package render

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tidings-mail/tidings/templates"
)

func TestCheckMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		src         string
		left, right string
		fields      string // sorted, space-separated
		refused     string // a phrase of the violation; "" if allowed
		syntax      bool
	}{
		{"text", "Hallo Welt", "", "", "", "", false},
		{"field", "Hallo {{.Name}}, {{.Email}}", "", "", ".Email .Name", "", false},
		{"every scalar field", "{{.ID}}{{.Email}}{{.Name}}{{.Campaign}}{{.Locale}}{{.RequestedLocale}}{{.Dir}}{{.Count}}", "", "",
			".Campaign .Count .Dir .Email .ID .Locale .Name .RequestedLocale", "", false},
		{"map entries", "{{.Fields.posts}} {{.Data.reregister_url}}", "", "", ".Data.reregister_url .Fields.posts", "", false},
		{"trim markers", "a {{- .Name -}} b", "", "", ".Name", "", false},
		{"quoted string", `{{"{{"}} and {{` + "`raw`" + `}}`, "", "", "", "", false},
		{"comment", "a {{/* note for translators */}} b", "", "", "", "", false},
		{"custom delimiters", "<<.Name>> writes {{printf}} as text", "<<", ">>", ".Name", "", false},
		{"custom delimiters without action", "{{printf \"%d\" 1}}", "<<", ">>", "", "", false},

		{"issue 11: printf", `{{printf "%0999999d" 1}}`, "", "", "", "calls the function printf", false},
		{"printf of a field", `{{printf "%s" .Name}}`, "", "", ".Name", "calls the function printf", false},
		{"builtin without args", "{{html}}", "", "", "", "calls the function html", false},
		{"index", `{{index .Fields "posts"}}`, "", "", ".Fields", "calls the function index", false},
		{"len", "{{len .Name}}", "", "", ".Name", "calls the function len", false},
		{"call", "{{call .Data.f}}", "", "", ".Data.f", "calls the function call", false},
		{"unknown function", "{{t \"other.key\" .}}", "", "", "", "calls the function t", false},
		{"pipeline", "{{.Name | html}}", "", "", ".Name", "is a pipeline", false},
		{"parentheses", "{{(.Name)}}", "", "", ".Name", "uses parentheses", false},
		{"chain", "{{(.Data).x}}", "", "", ".Data", "takes a field of an expression", false},
		{"variable", "{{$.Name}}", "", "", "", "uses the variable $", false},
		{"declaration", "{{$x := .Name}}{{$x}}", "", "", ".Name", "declares a variable", false},
		{"dot", "{{.}}", "", "", "", "prints the whole template data", false},
		{"number", "{{42}}", "", "", "", "is a constant", false},
		{"bool", "{{true}}", "", "", "", "is a constant", false},
		{"if", "{{if .Name}}x{{end}}", "", "", ".Name", "is a condition (if)", false},
		{"range", "{{range .Fields}}x{{end}}", "", "", ".Fields", "is a loop (range)", false},
		{"with", "{{with .Name}}{{.}}{{end}}", "", "", ".Name", "is a with block", false},
		{"define", `{{define "x"}}{{.Name}}{{end}}hi`, "", "", "", `defines the template "x"`, false},
		{"define the message's own name", `{{define "message"}}{{.Name}}{{end}}`, "", "", "", `defines the template "message"`, false},
		{"template", `{{template "x" .}}`, "", "", "", `runs the template "x"`, false},
		{"block", `{{block "b" .}}{{.Name}}{{end}}`, "", "", "", `runs the template "b"`, false},
		{"method call with arguments", `{{.Name "x"}}`, "", "", ".Name", "calls .Name with arguments", false},
		{"unknown field", "{{.Nmae}}", "", "", ".Nmae", "uses unknown field .Nmae", false},
		{"field of a string", "{{.Name.Len}}", "", "", ".Name.Len", ".Name has no fields", false},
		{"whole map", "{{.Fields}}", "", "", ".Fields", "write .Fields.<name>, one entry", false},
		{"nested data", "{{.Data.org.name}}", "", "", ".Data.org.name", "write .Data.<name>, one entry", false},
		{"custom delimiters refuse too", `<<printf "%d" 1>>`, "<<", ">>", "", "calls the function printf", false},

		{"syntax error", "{{.Name", "", "", "", "", true},
		{"stray end", "{{end}}", "", "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mc, err := checkMessage(tt.src, tt.left, tt.right)
			if tt.syntax {
				if err == nil {
					t.Fatalf("checkMessage(%q) accepted a syntax error", tt.src)
				}
				return
			}
			if err != nil {
				t.Fatalf("checkMessage(%q): %v", tt.src, err)
			}
			if got := strings.Join(sortedKeys(mc.fields), " "); got != tt.fields {
				t.Errorf("fields = %q, want %q", got, tt.fields)
			}
			var phrases []string
			for _, v := range mc.violations {
				phrases = append(phrases, v.phrase)
			}
			all := strings.Join(phrases, "; ")
			switch {
			case tt.refused == "" && len(phrases) > 0:
				t.Errorf("checkMessage(%q) refused: %s", tt.src, all)
			case tt.refused != "" && !strings.Contains(all, tt.refused):
				t.Errorf("checkMessage(%q) = %q, want it to say %q", tt.src, all, tt.refused)
			}
		})
	}
}

// TestNewRefusesCodeInCatalogs: a catalog whose message runs code never
// becomes an engine, whether the template uses the message or not, and the
// error names the file, the line and the key.
func TestNewRefusesCodeInCatalogs(t *testing.T) {
	t.Parallel()
	de := catalogLike(t, "de")
	tests := []struct {
		name, file, catalog string
		line                int
		key, says           string
	}{
		{"issue 11", "de.toml", strings.Replace(de, `other = "Hallo {{.Name}},"`, `other = "Hallo {{printf \"%0999999d\" 1}},"`, 1),
			6, "welcome.greeting", `de: welcome.greeting has {{printf "%0999999d" 1}}, which calls the function printf; catalog messages may contain only text and data fields`},
		{"unused message", "de.toml", de + "\n[extra]\nother = \"{{range .Fields}}x{{end}}\"\n",
			40, "extra", "de: extra has {{range .Fields}}x{{end}}, which is a loop (range)"},
		{"plural form", "ru.toml", strings.Replace(catalogLike(t, "ru"), `many = "Ваши {{.Count}} публикаций`, `many = "Ваши {{len .Name}} публикаций`, 1),
			21, "welcome.posts", "ru: welcome.posts has {{len .Name}}, which calls the function len"},
		{"unknown field", "de.toml", strings.Replace(de, `{{.Name}}`, `{{.Nmae}}`, 1),
			6, "welcome.greeting", "de: welcome.greeting uses unknown field .Nmae; the template data has .Campaign .Count"},
		{"json catalog with delimiters", "fr.json", `{"welcome": {"subject": {"leftDelim": "[[", "rightDelim": "]]", "other": "[[ html .Name ]]"}}}`,
			1, "welcome.subject", "fr: welcome.subject has {{html .Name}}, which calls the function html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			extra := map[string]string{tt.file: tt.catalog}
			if tt.file == "fr.json" {
				extra["fr.toml"] = "" // replaced, not doubled
			}
			loc := localesWith(t, extra)
			if tt.file == "fr.json" {
				delete(loc, "fr.toml")
			}
			_, err := New(Config{Templates: templates.FS, Locales: loc, Template: "welcome", DefaultLocale: "en"})
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("New = %v; want a *FileError", err)
			}
			if fe.File != "locales/"+tt.file || fe.Line != tt.line || fe.Key != tt.key || !strings.Contains(fe.Msg, tt.says) {
				t.Errorf("New error = %+v\nwant file locales/%s line %d key %s saying %q", fe, tt.file, tt.line, tt.key, tt.says)
			}
			if !strings.HasPrefix(err.Error(), fe.File+":") {
				t.Errorf("error %q does not start with file:line", err)
			}
			// Lint reports the same message as an error problem with its key.
			found := false
			for _, p := range Lint(templates.FS, loc, "en") {
				if p.Key == tt.key && p.File == fe.File && p.Line == fe.Line && p.Severity == SeverityError && p.Msg == fe.Msg {
					found = true
				}
			}
			if !found {
				t.Errorf("Lint does not report %s", fe)
			}
		})
	}
}

// TestLintReportsEveryOffendingMessage: check shows each offending message,
// once, with its own line and key, not only the first.
func TestLintReportsEveryOffendingMessage(t *testing.T) {
	t.Parallel()
	tmpl := fstest.MapFS{
		"w/subject.tmpl": {Data: []byte(`{{t "a" .}}`)},
		"w/html.tmpl":    {Data: []byte(`{{t "b" .}}`)},
		"w/text.tmpl":    {Data: []byte(`{{tc "c" .Fields.n .}}`)},
	}
	loc := fstest.MapFS{"en.toml": {Data: []byte(`[a]
other = "{{printf \"%05d\" 1}}"

[b]
other = "fine {{.Name}}"

[c]
one = "{{if .Count}}x{{end}}"
other = "{{.Count | printf \"%d\"}} {{index .Data \"k\"}}"
`)}}
	ps := Lint(tmpl, loc, "en")
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	want := []string{
		`locales/en.toml:1: en: a has {{printf "%05d" 1}}, which calls the function printf; catalog messages may contain only text and data fields such as {{.Name}}, {{.Fields.column}}, {{.Data.key}} and {{.Count}}`,
		`locales/en.toml:7: en: c has {{if .Count}}x{{end}}, which is a condition (if); has {{.Count | printf "%d"}}, which is a pipeline; has {{index .Data "k"}}, which calls the function index; catalog messages may contain only text and data fields such as {{.Name}}, {{.Fields.column}}, {{.Data.key}} and {{.Count}}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Lint =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLintPlaceholdersHonourDelimiters: a message with its own delimiters
// is compared with the default language by its fields, not by what {{ }}
// would find in it.
func TestLintPlaceholdersHonourDelimiters(t *testing.T) {
	t.Parallel()
	tmpl := oneMessageTemplate("a")
	loc := fstest.MapFS{
		"en.toml": {Data: []byte("[a]\nother = \"Hi {{.Name}}\"\n")},
		"de.toml": {Data: []byte("[a]\nleftDelim = \"<<\"\nrightDelim = \">>\"\nother = \"Hallo <<.Name>> {{.Email}}\"\n")},
		"fr.toml": {Data: []byte("[a]\nleftDelim = \"<<\"\nrightDelim = \">>\"\nother = \"Salut {{.Name}}\"\n")},
	}
	var got []string
	for _, p := range Lint(tmpl, loc, "en") {
		got = append(got, p.String())
	}
	want := "locales/fr.toml:1: fr: a does not use {{.Name}}, which the en text uses"
	if strings.Join(got, "\n") != want {
		t.Errorf("Lint =\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
}
