package render

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestLintSaysAnUntranslatedPluralFilledWithTheLanguagesOwnForms: a
// translation tool that exports a plural message not yet translated fills
// the forms the target language needs and the source lacks (French many;
// Polish few and many) with the source's other form. Such a message is the
// default language's text in every form, and check warns of it as of any
// untranslated message; a message with one form translated is not.
func TestLintSaysAnUntranslatedPluralFilledWithTheLanguagesOwnForms(t *testing.T) {
	t.Parallel()
	tmpl := fstest.MapFS{
		"w/subject.tmpl": {Data: []byte(`{{t "s" .}}`)},
		"w/html.tmpl":    {Data: []byte(`<p>{{tc "n" .Fields.n .}}</p>`)},
		"w/text.tmpl":    {Data: []byte(`{{tc "n" .Fields.n .}}`)},
	}
	const one, other = `"Your {{.Count}} post is waiting"`, `"Your {{.Count}} posts are waiting"`
	en := "[s]\nother = \"Bitte\"\n[n]\none = " + one + "\nother = " + other + "\n"
	forms := func(fs ...string) string {
		var b strings.Builder
		b.WriteString("[s]\nother = \"Bitte\"\n[n]\n")
		for _, f := range fs {
			b.WriteString(f + "\n")
		}
		return b.String()
	}
	loc := fstest.MapFS{
		"en.toml": {Data: []byte(en)},
		"fr.toml": {Data: []byte(forms("one = "+one, "many = "+other, "other = "+other))},
		"pl.toml": {Data: []byte(forms("one = "+one, "few = "+other, "many = "+other, "other = "+other))},
		"ja.toml": {Data: []byte(forms("other = " + other))},
		// Partly translated: not the en text in every form.
		"it.toml": {Data: []byte(forms("one = \"Il tuo {{.Count}} post ti aspetta\"", "many = "+other, "other = "+other))},
		"es.toml": {Data: []byte(forms("one = "+one, "many = \"Tus {{.Count}} mensajes te esperan\"", "other = "+other))},
	}
	_, got := inspect(t, tmpl, loc)
	want := []string{
		"locales/fr.toml:3: warning: fr: n is word for word the en text of locales/en.toml",
		"locales/pl.toml:3: warning: pl: n is word for word the en text of locales/en.toml",
		"locales/ja.toml:3: warning: ja: n is word for word the en text of locales/en.toml",
	}
	all := hasProblems(t, got, want)
	if n := strings.Count(all, "word for word"); n != len(want) {
		t.Errorf("%d untranslated warnings, want %d (none for it and es):\n%s", n, len(want), all)
	}
}
