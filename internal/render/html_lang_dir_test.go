package render

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// TestLintSaysTheHTMLDeclaresAnotherLanguageOrDirection: an html.tmpl
// that writes its language or direction as text (<html lang="en">) or not
// at all sends every language's message declared as that language and
// laid out left to right: the Arabic and Hebrew messages with their
// punctuation, numbers and Latin words out of place, the Japanese one
// drawn with another language's glyphs and read by a screen reader in an
// English voice. Found by red team 39: check said "check ok" of such a
// template beside ar, he and ja catalogs. check now warns, for each
// language it misdeclares, at the <html> element's line; a template that
// writes lang="{{.Locale}}" and dir="{{.Dir}}" (or dir="auto") is not
// warned of.
func TestLintSaysTheHTMLDeclaresAnotherLanguageOrDirection(t *testing.T) {
	t.Parallel()
	loc := fstest.MapFS{
		"en.toml": {Data: []byte("[s]\nother = \"Hello\"\n")},
		"ar.toml": {Data: []byte("[s]\nother = \"مرحبا\"\n")},
		"he.toml": {Data: []byte("[s]\nother = \"שלום\"\n")},
		"ja.toml": {Data: []byte("[s]\nother = \"こんにちは\"\n")},
	}
	const (
		langEn = `the <html> element says lang="en", so the %s message is declared to be in en: mail clients draw it with that language's glyphs and screen readers read it in that voice; write lang="{{.Locale}}"`
		noLang = `the <html> element has no lang attribute, so no message says its language: mail clients draw CJK with another language's glyphs and screen readers read every language in one voice; write lang="{{.Locale}}"`
		noDir  = `%s is written right to left, but html.tmpl writes no direction (dir="{{.Dir}}"), so the %s message is laid out left to right, its punctuation, numbers and Latin words out of place; write dir="{{.Dir}}" on the <html> element (and the outermost table)`
	)
	sprintf := func(f, lang string) string { return strings.ReplaceAll(f, "%s", lang) }
	tests := []struct {
		name, html string
		want       []string
	}{
		{"lang and dir written as text", "<!doctype html>\n<html lang=\"en\">\n<body><p>{{t \"s\" .}}</p></body></html>", []string{
			"templates/x/html.tmpl:2: warning: ar: " + sprintf(langEn, "ar"),
			"templates/x/html.tmpl:2: warning: ar: " + sprintf(noDir, "ar"),
			"templates/x/html.tmpl:2: warning: he: " + sprintf(langEn, "he"),
			"templates/x/html.tmpl:2: warning: he: " + sprintf(noDir, "he"),
			"templates/x/html.tmpl:2: warning: ja: " + sprintf(langEn, "ja"),
		}},
		{"dir=ltr written on the html element", "<html lang=\"{{.Locale}}\" dir=\"ltr\"><body><p>{{t \"s\" .}}</p></body></html>", []string{
			"templates/x/html.tmpl:1: warning: ar: " + sprintf(noDir, "ar"),
			"templates/x/html.tmpl:1: warning: he: " + sprintf(noDir, "he"),
		}},
		{"no lang at all", "<html>\n<body dir=\"{{.Dir}}\"><p>{{t \"s\" .}}</p></body></html>", []string{
			"templates/x/html.tmpl:1: warning: " + noLang,
		}},
		{"a fragment without dir", "<p>{{t \"s\" .}}</p>", []string{
			"templates/x/html.tmpl:1: warning: ar: " + sprintf(noDir, "ar"),
			"templates/x/html.tmpl:1: warning: he: " + sprintf(noDir, "he"),
		}},
		{"both written by actions", "<html lang=\"{{.Locale}}\" dir=\"{{.Dir}}\"><body><p>{{t \"s\" .}}</p></body></html>", nil},
		{"dir auto on the outer table", "<html lang=\"{{.Locale}}\"><body><table dir=\"auto\"><tr><td>{{t \"s\" .}}</td></tr></table></body></html>", nil},
		{"the bundled template's shape", "<!DOCTYPE html>\n<HTML LANG='{{.Locale}}' DIR={{.Dir}}>\n<body><p>{{t \"s\" .}}</p></body></HTML>", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl := fstest.MapFS{
				"x/subject.tmpl": {Data: []byte(`{{t "s" .}}`)},
				"x/text.tmpl":    {Data: []byte(`{{t "s" .}}`)},
				"x/html.tmpl":    {Data: []byte(tt.html)},
			}
			r, all := inspect(t, tmpl, loc)
			var got []string
			for _, p := range all {
				if strings.Contains(p, "html.tmpl") {
					got = append(got, p)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("html.tmpl problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for _, l := range r.Languages {
				n := 0
				for _, w := range tt.want {
					if strings.Contains(w, "warning: "+l.Lang+": ") {
						n++
					}
				}
				if l.Warnings != n {
					t.Errorf("%s: %d warning(s) in the summary, want %d", l.Lang, l.Warnings, n)
				}
			}
		})
	}
}
