package render

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

func TestLintBundledIsClean(t *testing.T) {
	t.Parallel()
	if ps := Lint(templates.FS, locales.FS, "en"); len(ps) != 0 {
		t.Errorf("bundled sample has problems: %v", ps)
	}
}

func TestLint(t *testing.T) {
	t.Parallel()
	tmpl := fstest.MapFS{
		"w/subject.tmpl": {Data: []byte(`{{t "s" .}}`)},
		"w/html.tmpl":    {Data: []byte("<p>\n{{t \"g\" .}}\n{{tc \"n\" .Fields.n .}}</p>")},
		"w/text.tmpl":    {Data: []byte("{{t \"g\" .}}\n{{t \"gone\" .}}")},
	}
	loc := fstest.MapFS{
		"en.toml": {Data: []byte("[s]\nother = \"Hi\"\n[g]\nother = \"Hello {{.Name}}\"\n[gone]\nother = \"x\"\n[n]\none = \"{{.Count}} post\"\nother = \"{{.Count}} posts\"\n[old]\nother = \"unused\"\n")},
		"de.toml": {Data: []byte("[s]\nother = \"Hallo\"\n[g]\nother = \"Hallo\"\n\n[n]\none = \"{{.Count}} Beitrag\"\nother = \"{{.Count}} Beiträge {{.Nmae}}\"\n")},
		"ja.toml": {Data: []byte("[s]\nother = \"x\"\n[g]\nother = \"{{.Name}}\"\n[gone]\nother = \"x\"\n[n]\none = \"{{.Count}}\"\nother = \"{{.Count}}件\"\n")},
		"ru.toml": {Data: []byte("[s]\nother = \"x\"\n[g]\nother = \"{{.Name}}\"\n[gone]\nother = \"x\"\n[n]\none = \"{{.Count}}\"\nfew = \"{{.Count}}\"\nother = \"{{.Count}}\"\n")},
	}
	r, got := inspect(t, tmpl, loc)
	want := []string{
		"locales/de.toml:3: de: g does not use {{.Name}}, which the en text uses",
		"locales/de.toml:6: de: n uses unknown field .Nmae; the template data has",
		"locales/de.toml:6: de: n uses {{.Nmae}}, which the en text does not",
		"locales/en.toml:10: warning: en: old is not used by any template",
		"locales/ja.toml:7: warning: ja: n has plural form one, which ja never uses",
		"locales/ru.toml:7: ru: n lacks plural form many (ru needs one, few, many, other)",
		"templates/w/text.tmpl:2: de: message gone is missing in locales/de.toml",
	}
	all := hasProblems(t, got, want)
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(got), len(want), all)
	}
	status := map[string]string{}
	for _, l := range r.Languages {
		status[l.Lang] = l.Status
	}
	if status["de"] != "incomplete" || status["ru"] != "incomplete" || status["ja"] != "warnings" || status["en"] != "warnings" {
		t.Errorf("statuses = %v", status)
	}

	// A template that does not parse is one error problem, not a panic; the
	// catalogs are still checked, but no message is said unused (the
	// template's keys are unknown).
	bad := fstest.MapFS{"w/subject.tmpl": {Data: []byte("{{")}, "w/html.tmpl": {Data: nil}, "w/text.tmpl": {Data: nil}}
	ps := Lint(bad, loc, "en")
	var syntax, unused int
	for _, p := range ps {
		switch {
		case p.File == "templates/w/subject.tmpl" && p.Line == 1 && p.Severity == SeverityError:
			syntax++
		case strings.Contains(p.Msg, "is not used by any template"):
			unused++
		}
	}
	if syntax != 1 || unused != 0 {
		t.Errorf("syntax error problems = %v", ps)
	}

	// Every catalog that cannot be read is a problem with its file and
	// line, and the others are still checked.
	broken := fstest.MapFS{}
	maps.Copy(broken, loc)
	broken["fr.toml"] = &fstest.MapFile{Data: []byte("[s]\nother = \"x\"\nbroken = \n")}
	broken["it.toml"] = &fstest.MapFile{Data: []byte("[s]\nother = \"{{printf \\\"%0999d\\\" 1}}\"\n")}
	ps = Lint(tmpl, broken, "en")
	var files []string
	for _, p := range ps {
		if p.Severity == SeverityError && (p.File == "locales/fr.toml" || p.File == "locales/it.toml") {
			files = append(files, fmt.Sprintf("%s:%d", p.File, p.Line))
		}
	}
	if strings.Join(files, " ") != "locales/fr.toml:3 locales/it.toml:1" {
		t.Errorf("broken catalogs reported at %v, want fr.toml:3 and it.toml:1:\n%v", files, ps)
	}
	if len(ps) <= len(files) {
		t.Errorf("the other catalogs were not checked: %v", ps)
	}

	// A broken default catalog is said once, and the others are still
	// checked on their own; a missing one is said too when another file is
	// broken (it used to be hidden until that file was fixed).
	brokenDef := fstest.MapFS{}
	maps.Copy(brokenDef, loc)
	brokenDef["en.toml"] = &fstest.MapFile{Data: []byte("[s\n")}
	r, err := Inspect(tmpl, brokenDef, "en")
	if err != nil {
		t.Fatal(err)
	}
	var langs []string
	for _, l := range r.Languages {
		langs = append(langs, l.Lang)
	}
	all = fmt.Sprint(r.Problems)
	if strings.Join(langs, ",") != "de,ja,ru" || strings.Count(all, "locales/en.toml") != 1 || strings.Contains(all, "no catalog") {
		t.Errorf("broken default: languages %v, problems %v", langs, r.Problems)
	}
	delete(brokenDef, "en.toml")
	brokenDef["fr.toml"] = &fstest.MapFile{Data: []byte("[s\n")}
	r, err = Inspect(tmpl, brokenDef, "en")
	if err != nil || !strings.Contains(fmt.Sprint(r.Problems), "default locale has no catalog") && !strings.Contains(fmt.Sprint(r.Problems), `for "en"`) {
		t.Errorf("missing default beside a broken catalog: %v, %v", err, r)
	}
}

// TestLintSaysACatalogIsNotRead: a file in the locales directory named for
// a language but not with a catalog's extension (a typo, nl.tml; gettext's
// nl.po; an editor's backup) is not read, so that language is silently
// missing from every check, preview and send: check warns, naming the file
// and what to do. Files not named for a language (embed.go, README.md) and
// hidden ones are passed over, as before.
func TestLintSaysACatalogIsNotRead(t *testing.T) {
	t.Parallel()
	tmpl := oneMessageTemplate("s")
	for _, tt := range []struct{ file, want string }{
		{"nl.tml", `locales/nl.tml: warning: not read: its name is the language nl, but a catalog's ends in .toml, .json, .yaml or .yml: rename it nl.toml if it is the nl catalog, or move it out of the locales directory`},
		{"pt-BR.po", `locales/pt-BR.po: warning: not read: its name is the language pt-BR, but a catalog's ends in .toml, .json, .yaml or .yml: rename it pt-BR.toml if it is the pt-BR catalog`},
		{"de.toml~", `locales/de.toml~: warning: not read: its name is the language de`},
		{"embed.go", ""},
		{"README.md", ""},
		{".nl.tml", ""},
		{"fr.TOML", ""},
		{"en.html", ""}, // en is read: a preview's page, not a missing language
	} {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			loc := fstest.MapFS{
				"en.toml": {Data: []byte("[s]\nother = \"Hi\"\n")},
				tt.file:   {Data: []byte("[s]\nother = \"Hoi\"\n")},
			}
			_, got := inspect(t, tmpl, loc)
			all := strings.Join(got, "\n")
			if tt.want == "" && len(got) != 0 || tt.want != "" && (len(got) != 1 || !strings.Contains(all, tt.want)) {
				t.Errorf("locales/%s: problems\n%s\nwant only %q", tt.file, all, tt.want)
			}
		})
	}
}

// oneMessageTemplate is template w, whose every file is message key.
func oneMessageTemplate(key string) fstest.MapFS {
	src := []byte(`{{t "` + key + `" .}}`)
	return fstest.MapFS{"w/subject.tmpl": {Data: src}, "w/html.tmpl": {Data: src}, "w/text.tmpl": {Data: src}}
}

// inspect returns Inspect's report of template w (default language en)
// and its problems as strings.
func inspect(t *testing.T, tmpl, loc fstest.MapFS) (*Report, []string) {
	t.Helper()
	r, err := Inspect(tmpl, loc, "en")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range r.Problems {
		got = append(got, p.String())
	}
	return r, got
}

// hasProblems reports each of want that no problem of got contains, and
// returns got joined by line breaks.
func hasProblems(t *testing.T, got, want []string) string {
	t.Helper()
	all := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("missing problem %q in:\n%s", w, all)
		}
	}
	return all
}
