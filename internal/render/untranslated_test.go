package render

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestLintSaysAMessageIsUntranslated: a translator's tool that fills an
// untranslated message with the source text makes a catalog that holds
// every key, which the locale rule accepts, and its recipients are sent
// that message in the default language. check warns of a message that
// is, in every form it has, the default language's text, when that text
// is prose (two words or more outside the actions) and the catalog is of
// another base language.
func TestLintSaysAMessageIsUntranslated(t *testing.T) {
	t.Parallel()
	tmpl := fstest.MapFS{
		"w/subject.tmpl": {Data: []byte(`{{t "s" .}}`)},
		"w/html.tmpl":    {Data: []byte(`<p>{{t "g" .}} {{t "brand" .}} {{t "url" .}}</p><p>{{tc "n" .Fields.n .}}</p>`)},
		"w/text.tmpl":    {Data: []byte(`{{t "g" .}} {{t "brand" .}} {{t "url" .}} {{tc "n" .Fields.n .}}`)},
	}
	en := "[s]\nother = \"Please re-register now\"\n" +
		"[g]\nother = \"Hello {{.Name}},\"\n" +
		"[brand]\nother = \"Altea\"\n" +
		"[url]\nother = \"https://altea.example/re-register {{.Email}}\"\n" +
		"[n]\none = \"Your {{.Count}} post is waiting\"\nother = \"Your {{.Count}} posts are waiting\"\n"
	loc := fstest.MapFS{
		"en.toml": {Data: []byte(en)},
		// Every message the English text: only s and n are prose (g has
		// one word outside its action, brand one word, url an address).
		"de.toml": {Data: []byte(en)},
		// en-GB may say what en says.
		"en-GB.toml": {Data: []byte(en)},
		// One plural form translated: not the English text in every form.
		"fr.toml": {Data: []byte(strings.Replace(en, `one = "Your {{.Count}} post is waiting"`, `one = "Votre {{.Count}} message vous attend"`+"\nmany = \"Vos {{.Count}} messages vous attendent\"", 1))},
	}
	_, got := inspect(t, tmpl, loc)
	want := []string{
		"locales/de.toml:1: warning: de: s is word for word the en text of locales/en.toml: if it is not translated yet, translate it, or de recipients are sent it in en",
		"locales/de.toml:9: warning: de: n is word for word the en text of locales/en.toml",
		"locales/fr.toml:1: warning: fr: s is word for word the en text",
	}
	all := hasProblems(t, got, want)
	if n := strings.Count(all, "word for word"); n != len(want) {
		t.Errorf("%d untranslated warnings, want %d (none for g, brand, url, en-GB, fr's n):\n%s", n, len(want), all)
	}
}
