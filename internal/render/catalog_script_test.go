package render

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// TestLintSaysAMessageIsInAnotherScript: a catalog that holds every key,
// in another language's script (he.toml made from a copy of ar.toml whose
// messages were never translated, fr.toml holding the Russian text), is
// covered by the locale rule, and its recipients would be sent that other
// language. Found by red team 39: check said nothing of a he.toml whose
// messages were Arabic. check now warns of a message whose letters are
// all of a script that is neither the language's nor Latin (Latin is every
// language's for brand names: "Altea" in an Arabic message is not warned
// of), at the message's line; a language whose script tidings does not
// know is not judged.
func TestLintSaysAMessageIsInAnotherScript(t *testing.T) {
	t.Parallel()
	tmpl := fstest.MapFS{
		"x/subject.tmpl": {Data: []byte(`{{t "s" .}}`)},
		"x/text.tmpl":    {Data: []byte(`{{t "g" .}} {{tc "n" .Fields.n .}}`)},
		"x/html.tmpl":    {Data: []byte(`<html lang="{{.Locale}}" dir="{{.Dir}}"><p>{{t "g" .}} {{tc "n" .Fields.n .}}</p></html>`)},
	}
	loc := fstest.MapFS{
		"en.toml": {Data: []byte("[s]\nother = \"Welcome to Altea\"\n[g]\nother = \"Hello {{.Name}},\"\n[n]\none = \"{{.Count}} post\"\nother = \"{{.Count}} posts\"\n")},
		"ar.toml": {Data: []byte("[s]\nother = \"مرحبًا بك في Altea\"\n[g]\nother = \"مرحبًا {{.Name}}،\"\n[n]\nzero = \"لا منشورات\"\none = \"منشور واحد\"\ntwo = \"منشوران\"\nfew = \"{{.Count}} منشورات\"\nmany = \"{{.Count}} منشورًا\"\nother = \"{{.Count}} منشور\"\n")},
		// Copied from ar.toml: one message translated, the others not.
		"he.toml": {Data: []byte("[s]\nother = \"ברוכים הבאים ל-Altea\"\n[g]\nother = \"مرحبًا {{.Name}}،\"\n[n]\none = \"منشور واحد\"\ntwo = \"منشوران\"\nother = \"{{.Count}} منشور\"\n")},
		"fr.toml": {Data: []byte("[s]\nother = \"Добро пожаловать в Altea\"\n[g]\nother = \"Bonjour {{.Name}},\"\n[n]\none = \"{{.Count}} message\"\nmany = \"{{.Count}} de messages\"\nother = \"{{.Count}} messages\"\n")},
		"ja.toml": {Data: []byte("[s]\nother = \"Altea へようこそ\"\n[g]\nother = \"{{.Name}} さん\"\n[n]\nother = \"投稿 {{.Count}} 件\"\n")},
		"ru.toml": {Data: []byte("[s]\nother = \"Добро пожаловать в Altea\"\n[g]\nother = \"Hello {{.Name}},\"\n[n]\none = \"{{.Count}} публикация\"\nfew = \"{{.Count}} публикации\"\nmany = \"{{.Count}} публикаций\"\nother = \"{{.Count}} публикации\"\n")},
	}
	_, all := inspect(t, tmpl, loc)
	var got []string
	for _, p := range all {
		if strings.Contains(p, "script") {
			got = append(got, p)
		}
	}
	want := []string{
		"locales/fr.toml:1: warning: fr: s is written in Cyrillic, not in Latin, the script of fr: is it another language's text? translate it into fr, or fr recipients are sent it",
		"locales/he.toml:3: warning: he: g is written in Arabic, not in Hebrew, the script of he: is it another language's text? translate it into he, or he recipients are sent it",
		"locales/he.toml:5: warning: he: n is written in Arabic, not in Hebrew, the script of he: is it another language's text? translate it into he, or he recipients are sent it",
	}
	if !slices.Equal(got, want) {
		t.Errorf("script warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
