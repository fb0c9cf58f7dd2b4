package check

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

func TestRun(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	fixture.Write(t, filepath.Join(tmp, "badtmpl", "w", "subject.tmpl"), "ok")
	fixture.Write(t, filepath.Join(tmp, "badtmpl", "w", "html.tmpl"), "<p>\n{{if}}")
	fixture.Write(t, filepath.Join(tmp, "badtmpl", "w", "text.tmpl"), "ok")
	fixture.Write(t, filepath.Join(tmp, "badtoml", "en.toml"), "[a]\nother = \"x\"\nbroken = \n")

	tests := []struct {
		name     string
		opts     Options
		problems int
		errLike  string   // fatal error text
		out      []string // output fragments
	}{
		{"bundled sample", Options{Templates: templates.FS, Locales: locales.FS}, 0, "",
			[]string{"en (default)", "ja ", "ok", "check ok: 1 template(s), 9 language(s), 0 error(s), 0 warning(s)"}},
		{"bundled on disk, campaign template", Options{TemplatesDir: "../../templates", LocalesDir: "../../locales", Template: "welcome"}, 0, "",
			[]string{filepath.Join("..", "..", "locales", "ar.toml")}},
		{"incomplete catalogs", Options{TemplatesDir: "../../templates", LocalesDir: "../../testdata/locales-incomplete"}, 2, "",
			[]string{
				filepath.Join("..", "..", "testdata", "locales-incomplete", "pl.toml") + ":21: pl: welcome.posts lacks plural form few (pl needs one, few, many, other)",
				filepath.Join("..", "..", "templates", "welcome", "html.tmpl") + ":22: pt: message welcome.reregister is missing in " + filepath.Join("..", "..", "testdata", "locales-incomplete", "pt.toml"),
				"incomplete", "check FAILED",
			}},
		{"missing templates dir", Options{TemplatesDir: filepath.Join(tmp, "nope"), Locales: locales.FS}, 0, "templates directory " + filepath.Join(tmp, "nope") + " does not exist", nil},
		{"missing locales dir", Options{Templates: templates.FS, LocalesDir: filepath.Join(tmp, "nope")}, 0, "locales directory", nil},
		{"unknown template", Options{Templates: templates.FS, Locales: locales.FS, Template: "welcom"}, 0, `unknown template "welcom"`, nil},
		{"template syntax error", Options{TemplatesDir: filepath.Join(tmp, "badtmpl"), Locales: locales.FS}, 1, "",
			[]string{filepath.Join(tmp, "badtmpl", "w", "html.tmpl") + ":2: template syntax error", "check FAILED"}},
		{"toml error", Options{Templates: templates.FS, LocalesDir: filepath.Join(tmp, "badtoml")}, 1, "",
			[]string{filepath.Join(tmp, "badtoml", "en.toml") + ":3: catalog syntax error", "check FAILED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			n, err := Run(context.Background(), &out, tt.opts)
			if tt.errLike != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errLike) {
					t.Fatalf("err = %v, want %q", err, tt.errLike)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.problems {
				t.Errorf("problems = %d, want %d\n%s", n, tt.problems, out.String())
			}
			for _, f := range tt.out {
				if !strings.Contains(out.String(), f) {
					t.Errorf("output lacks %q:\n%s", f, out.String())
				}
			}
		})
	}
}

// TestRunReportsEveryBrokenFile: two catalogs that cannot be read are both
// reported with their file and line, the others are still checked, and
// the count says so (check used to stop at the first, with no summary).
func TestRunReportsEveryBrokenFile(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	for _, l := range []string{"en", "de"} {
		b, err := os.ReadFile("../../locales/" + l + ".toml")
		if err != nil {
			t.Fatal(err)
		}
		fixture.Write(t, filepath.Join(tmp, l+".toml"), string(b))
	}
	fixture.Write(t, filepath.Join(tmp, "fr.toml"), "x = [\n")
	fixture.Write(t, filepath.Join(tmp, "it.toml"), "[a]\nother = \"x\"\nbroken = \n")
	var out bytes.Buffer
	n, err := Run(context.Background(), &out, Options{Templates: templates.FS, LocalesDir: tmp})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{filepath.Join(tmp, "fr.toml") + ":1: catalog syntax error", filepath.Join(tmp, "it.toml") + ":3: catalog syntax error", "de ", "check FAILED"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if n != 2 {
		t.Errorf("%d problems counted, want 2\n%s", n, out.String())
	}
}

func TestRunStrict(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	b, err := os.ReadFile("../../locales/en.toml")
	if err != nil {
		t.Fatal(err)
	}
	fixture.Write(t, filepath.Join(tmp, "en.toml"), string(b)+"\n[welcome.unused]\nother = \"x\"\n")
	for _, strict := range []bool{false, true} {
		var out bytes.Buffer
		n, err := Run(context.Background(), &out, Options{Templates: templates.FS, LocalesDir: tmp, Strict: strict})
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if strict {
			want = 1
		}
		if n != want || !strings.Contains(out.String(), "warning: en: welcome.unused is not used by any template") {
			t.Errorf("strict=%v: %d problems\n%s", strict, n, out.String())
		}
	}
}

// TestRunRefusesCodeInCatalogs: issue 11's catalog string, which made every
// German mail 2 MB, is reported with its file, line and key, and so is every
// other offending message.
func TestRunRefusesCodeInCatalogs(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	for _, lang := range []string{"en", "de", "fr"} {
		b, err := os.ReadFile("../../locales/" + lang + ".toml")
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		switch lang {
		case "de":
			s = strings.Replace(s, `other = "Hallo {{.Name}},"`, `other = "Hallo {{printf \"%0999999d\" 1}},"`, 1)
		case "fr":
			s += "\n[welcome.extra]\nother = \"{{range .Fields}}{{.}}{{end}}\"\n"
		}
		fixture.Write(t, filepath.Join(tmp, lang+".toml"), s)
	}
	var out bytes.Buffer
	n, err := Run(context.Background(), &out, Options{Templates: templates.FS, LocalesDir: tmp})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		filepath.Join(tmp, "de.toml") + `:6: de: welcome.greeting has {{printf "%0999999d" 1}}, which calls the function printf; catalog messages may contain only text and data fields`,
		filepath.Join(tmp, "fr.toml") + ":41: fr: welcome.extra has {{range .Fields}}{{.}}{{end}}, which is a loop (range)",
		"check FAILED",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if n < 2 {
		t.Errorf("problems = %d, want at least 2\n%s", n, out.String())
	}
}

// TestRunReportsLiteralProse: English prose written into the bundled
// templates (incident #1: it went to every language) fails the check with
// its file, line and text, and what to do.
func TestRunReportsLiteralProse(t *testing.T) {
	t.Parallel()
	edit := map[string]func(string) string{
		"subject.tmpl": func(s string) string { return "Welcome! " + s },
		"text.tmpl":    func(s string) string { return "Your password has been reset. Click below.\n" + s },
		"html.tmpl": func(s string) string {
			return strings.Replace(s, "<p style=\"margin:0;\">", "<img src=\"cid:logo\" alt=\"Altea logo\">\n<p style=\"margin:0;\">", 1)
		},
	}
	tmpl := fstest.MapFS{}
	for f, change := range edit {
		b, err := fs.ReadFile(templates.FS, "welcome/"+f)
		if err != nil {
			t.Fatal(err)
		}
		tmpl["welcome/"+f] = &fstest.MapFile{Data: []byte(change(string(b)))}
	}
	var out bytes.Buffer
	n, err := Run(context.Background(), &out, Options{Templates: tmpl, Locales: locales.FS})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("problems = %d, want 3\n%s", n, out.String())
	}
	golden.Check(t, filepath.Join("testdata", "literal-prose.golden"), out.String())
}
