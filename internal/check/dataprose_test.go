package check

import (
	"bytes"
	"context"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/golden"
)

// dataCampaign writes a campaign whose template n says {{t "n.hi" .}} in
// its three files, with catalogs en, en-GB, de and ja; files replaces or
// adds files (a path relative to the campaign's directory; "" leaves one
// out), data is the
// campaign file's data block. It returns the campaign file.
func dataCampaign(t *testing.T, data string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{
		"templates/n/subject.tmpl": `{{t "n.hi" .}}`,
		"templates/n/html.tmpl":    "<p>{{t \"n.hi\" .}}</p>\n",
		"templates/n/text.tmpl":    "{{t \"n.hi\" .}}\n",
		"locales/en.toml":          "[n.hi]\nother = \"Hello {{.Name}}\"\n",
		"locales/en-GB.toml":       "[n.hi]\nother = \"Hello there {{.Name}}\"\n",
		"locales/de.toml":          "[n.hi]\nother = \"Hallo {{.Name}}\"\n",
		"locales/ja.toml":          "[n.hi]\nother = \"{{.Name}}さん、こんにちは\"\n",
		"recipients.csv":           "email,locale\na@example.com,de\n",
		"c.yaml": "name: c1\nenvironment: staging\ntemplate: n\ndefault_locale: en\nrecipients: recipients.csv\n" +
			"from: \"Altea <community@altea.example>\"\ndata:\n" + data,
	}
	maps.Copy(all, files)
	for name, content := range all {
		if content == "" {
			continue // left out
		}
		fixture.Write(t, filepath.Join(dir, filepath.FromSlash(name)), content)
	}
	return filepath.Join(dir, "c.yaml")
}

// TestCheckWarnsOfProseInData: a data value that is prose and that the
// template prints, or the messages of several languages print, reaches
// recipients of a language not its own as it is (the locale rule's
// neighbour: nothing is missing, nothing is refused); check warns of it at
// the campaign file's line of the key, naming the languages and where it
// is printed. A URL, an address, a name, a value printed by one language's
// messages only, or by languages of one base (en, en-GB), is not warned of.
func TestCheckWarnsOfProseInData(t *testing.T) {
	t.Parallel()
	printIt := func(expr string) map[string]string {
		return map[string]string{"templates/n/text.tmpl": "{{t \"n.hi\" .}}\n" + expr + "\n"}
	}
	// The messages of langs print .Data.note (all or none: a message
	// uses the fields the default's uses, check's placeholder rule).
	note := func(langs ...string) map[string]string {
		files := map[string]string{}
		for _, l := range langs {
			hi := map[string]string{"en": "Hello", "en-GB": "Hello there", "de": "Hallo", "ja": "こんにちは"}[l]
			files["locales/"+l+".toml"] = "[n.hi]\nother = \"" + hi + " {{.Name}}: {{.Data.note}}\"\n"
		}
		return files
	}
	tests := []struct {
		name  string
		data  string
		files map[string]string
		want  []string // each a warning's text (fragments joined by …), in order
	}{
		{"a sentence the template prints", "  deadline_note: \"Please log in before Friday\"\n", printIt("{{.Data.deadline_note}}"),
			[]string{`c.yaml:8: warning: data.deadline_note is prose ("Please log in before Friday") sent as it is to the recipients of de, en, en-GB, ja (printed by …templates/n/text.tmpl:2)`}},
		{"a URL", "  url: \"https://altea.example/re-register\"\n", printIt("{{.Data.url}}"), nil},
		{"an address", "  contact: \"support@altea.example\"\n", printIt("{{.Data.contact}}"), nil},
		{"a name of two words", "  brand: \"Altea Community\"\n", printIt("{{.Data.brand}}"), nil},
		{"a name of one word", "  brand: \"altea\"\n", printIt("{{.Data.brand}}"), nil},
		{"not printed", "  deadline_note: \"Please log in before Friday\"\n", nil, nil},
		{"nested, in a condition's branch", "  notes:\n    deadline: \"Please log in before Friday\"\n    url: \"https://altea.example\"\n",
			printIt("{{if .Fields.vip}}{{.Data.notes.deadline}}{{end}}"),
			[]string{`c.yaml:9: warning: data.notes.deadline is prose ("Please log in before Friday") sent as it is to the recipients of de, en, en-GB, ja`}},
		{"a list's items", "  steps:\n    - \"Log in\"\n    - \"Check your address book\"\n", printIt("{{range .Data.steps}}{{.}}{{end}}"),
			[]string{`c.yaml:9: warning: data.steps is prose ("Log in") sent as it is to the recipients of de, en, en-GB, ja`}},
		{"through every catalog's messages", "  note: \"Please log in before Friday\"\n", note("en", "en-GB", "de", "ja"),
			[]string{`data.note is prose ("Please log in before Friday") sent as it is to the recipients of de, en, en-GB, ja (printed by …locales/en.toml:1)`}},
		{"languages of one base", "  deadline_note: \"Please log in before Friday\"\n",
			map[string]string{"templates/n/text.tmpl": "{{t \"n.hi\" .}}\n{{.Data.deadline_note}}\n", "locales/de.toml": "", "locales/ja.toml": ""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := Inspect(context.Background(), Options{Campaign: dataCampaign(t, tt.data, tt.files)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range res.Problems {
				got = append(got, p.String())
			}
			if len(got) != len(tt.want) || res.Warnings != len(tt.want) || res.Errors != 0 {
				t.Fatalf("%d error(s), %d warning(s), want %d warning(s) of data:\n%s", res.Errors, res.Warnings, len(tt.want), strings.Join(got, "\n"))
			}
			for i, w := range tt.want {
				at := 0
				for _, frag := range strings.Split(w, "…") {
					j := strings.Index(got[i][at:], frag)
					if j < 0 {
						t.Fatalf("warning %d:\n%s\nwant (… any text):\n%s", i, got[i], w)
					}
					at += j + len(frag)
				}
			}
		})
	}
}

// TestCheckProseInDataGolden: the whole output of check for a campaign
// whose data holds a sentence the template prints, as the operator reads
// it: a warning, and check still passes (exit 0).
func TestCheckProseInDataGolden(t *testing.T) {
	t.Parallel()
	file := dataCampaign(t, "  reregister_url: \"https://altea.example/re-register\"\n  deadline_note: \"Please log in before Friday\"\n",
		map[string]string{"templates/n/html.tmpl": "<p>{{t \"n.hi\" .}}</p>\n<p>{{.Data.deadline_note}} <a href=\"{{.Data.reregister_url}}\">→</a></p>\n"})
	var out bytes.Buffer
	n, err := Run(context.Background(), &out, Options{Campaign: file})
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d problem(s) counted, want 0 (a warning)", n)
	}
	// The table's columns are as wide as the temporary paths: its rows
	// are read with single spaces.
	lines := strings.Split(strings.ReplaceAll(out.String(), filepath.Dir(file)+string(filepath.Separator), ""), "\n")
	for i, l := range lines {
		if strings.Contains(l, "  ") {
			lines[i] = strings.Join(strings.Fields(l), " ")
		}
	}
	golden.Check(t, filepath.Join("testdata", "data-prose.golden"), strings.Join(lines, "\n"))
}
