package render

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestLintSaysAMessageIsAnotherTranslationsText: a translator who starts
// fr.toml from a copy of de.toml, rather than of the default language's
// catalog, leaves a catalog that holds every key, which the locale rule
// accepts, and whose untranslated messages are German: French recipients
// are sent them. check warns of a message that is, in every form, another
// catalog's text word for word, as it does of the default language's,
// when that text is prose and the two are different base languages. A
// message that is the default language's text is said once, as the
// default's. Regional catalogs of one language may share text, and text
// two catalogs of one language hold (de and de-AT) is theirs: fr is the
// copy. Between two translations alone, which is the copy only a reader
// can tell: each says the other.
func TestLintSaysAMessageIsAnotherTranslationsText(t *testing.T) {
	t.Parallel()
	tmpl := fstest.MapFS{
		"w/subject.tmpl": {Data: []byte(`{{t "s" .}}`)},
		"w/html.tmpl":    {Data: []byte(`<p>{{t "g" .}} {{t "brand" .}} {{t "i" .}}</p><p>{{tc "n" .Fields.n .}}</p>`)},
		"w/text.tmpl":    {Data: []byte(`{{t "g" .}} {{t "brand" .}} {{t "i" .}} {{tc "n" .Fields.n .}}`)},
	}
	en := "[s]\nother = \"Please re-register now\"\n" +
		"[g]\nother = \"Hello {{.Name}},\"\n" +
		"[brand]\nother = \"Altea\"\n" +
		"[i]\nother = \"We have moved to a new platform\"\n" +
		"[n]\none = \"Your {{.Count}} post is waiting\"\nother = \"Your {{.Count}} posts are waiting\"\n"
	de := "[s]\nother = \"Bitte jetzt neu registrieren\"\n" +
		"[g]\nother = \"Hallo {{.Name}},\"\n" +
		"[brand]\nother = \"Altea\"\n" +
		"[i]\nother = \"Wir sind auf eine neue Plattform umgezogen\"\n" +
		"[n]\none = \"Ihr {{.Count}} Beitrag wartet\"\nother = \"Ihre {{.Count}} Beiträge warten\"\n"
	// fr: s and i still German; g and n translated; brand the same
	// everywhere.
	fr := strings.Replace(de, `"Hallo {{.Name}},"`, `"Bonjour {{.Name}},"`, 1)
	fr = strings.Replace(fr, `one = "Ihr {{.Count}} Beitrag wartet"`, `one = "Votre {{.Count}} message vous attend"`+"\nmany = \"Vos {{.Count}} messages vous attendent\"", 1)
	fr = strings.Replace(fr, `other = "Ihre {{.Count}} Beiträge warten"`, `other = "Vos {{.Count}} messages vous attendent"`, 1)
	// it: copied from en, not translated: said as en's, once.
	it := en + "\n"
	it = strings.Replace(it, `one = "Your {{.Count}} post is waiting"`, `one = "Il tuo {{.Count}} post ti aspetta"`+"\nmany = \"I tuoi {{.Count}} post ti aspettano\"", 1)
	it = strings.Replace(it, `other = "Your {{.Count}} posts are waiting"`, `other = "I tuoi {{.Count}} post ti aspettano"`, 1)
	es := strings.Replace(en, `one = "Your {{.Count}} post is waiting"`, `one = "Tu {{.Count}} mensaje te espera"`+"\nmany = \"Tus {{.Count}} mensajes te esperan\"", 1)
	es = strings.Replace(es, `other = "Your {{.Count}} posts are waiting"`, `other = "Tus {{.Count}} mensajes te esperan"`, 1)
	loc := fstest.MapFS{
		"en.toml":    {Data: []byte(en)},
		"de.toml":    {Data: []byte(de)},
		"de-AT.toml": {Data: []byte(de)}, // de-AT may say what de says
		"fr.toml":    {Data: []byte(fr)},
		"it.toml":    {Data: []byte(it)},
		// es and es-MX both copies of en: each said as en's, although
		// they hold the same text.
		"es.toml":    {Data: []byte(es)},
		"es-MX.toml": {Data: []byte(es)},
	}
	_, got := inspect(t, tmpl, loc)
	want := []string{
		"locales/fr.toml:1: warning: fr: s is word for word the de text of locales/de.toml: one of the two is not translated (a catalog started from a copy of the other?): translate it, or fr or de recipients are sent the other's language",
		"locales/fr.toml:7: warning: fr: i is word for word the de text of locales/de.toml: one of the two",
		"locales/it.toml:1: warning: it: s is word for word the en text of locales/en.toml: if it is not translated yet",
		"locales/it.toml:7: warning: it: i is word for word the en text of locales/en.toml: if it is not translated yet",
		"locales/es.toml:1: warning: es: s is word for word the en text of locales/en.toml: if it is not translated yet",
		"locales/es.toml:7: warning: es: i is word for word the en text of locales/en.toml: if it is not translated yet",
		"locales/es-MX.toml:1: warning: es-MX: s is word for word the en text of locales/en.toml: if it is not translated yet",
		"locales/es-MX.toml:7: warning: es-MX: i is word for word the en text of locales/en.toml: if it is not translated yet",
	}
	all := hasProblems(t, got, want)
	if n := strings.Count(all, "word for word"); n != len(want) {
		t.Errorf("%d untranslated warnings, want %d (none for g, brand, fr's n, de and de-AT, it's n; it's s and i once, as en's):\n%s", n, len(want), all)
	}
}
