package render

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tidings-mail/tidings/templates"
)

// TestBlankTranslationIsMissing: a form that prints nothing whatever the
// data (spaces, a no-break or zero-width space, a comment, an empty quoted
// string) is an empty translation in disguise. An empty string already
// leaves the language incomplete; such a form must too, or its recipients
// are sent a blank subject or paragraph where the message should be, and
// check says nothing. A form that prints data or any visible character is
// a translation.
func TestBlankTranslationIsMissing(t *testing.T) {
	t.Parallel()
	de := catalogLike(t, "de")
	const subject = `other = "Bitte registrieren Sie sich neu: die Altea-Community ist umgezogen"`
	const one = `one = "Ihr {{.Count}} Beitrag wurde übernommen und wartet auf Sie."`
	if !strings.Contains(de, subject) || !strings.Contains(de, one) {
		t.Fatal("the de catalog changed: update the test")
	}
	tests := []struct {
		name    string
		old     string // the line of de.toml replaced
		form    string // its replacement
		missing string // "": covered; else the Missing entry
		line    string // the check problem's file:line, with missing
	}{
		{"empty string", subject, `other = ""`, "welcome.subject (other)", ""},
		{"a space", subject, `other = " "`, "welcome.subject (other: blank)", "locales/de.toml:3:"},
		{"tabs and a newline", subject, `other = "\t\n"`, "welcome.subject (other: blank)", "locales/de.toml:3:"},
		{"no-break space", subject, `other = "\u00A0"`, "welcome.subject (other: blank)", "locales/de.toml:3:"},
		{"zero-width space", subject, `other = "\u200B"`, "welcome.subject (other: blank)", "locales/de.toml:3:"},
		{"hangul filler", subject, `other = "\u3164"`, "welcome.subject (other: blank)", "locales/de.toml:3:"},
		{"control characters", subject, `other = "\u0007\u0000\u007F"`, "welcome.subject (other: blank)", "locales/de.toml:3:"},
		{"a comment", subject, `other = "{{/* später */}}"`, "welcome.subject (other: blank)", "locales/de.toml:3:"},
		{"an empty quoted string", subject, `other = "{{\"\"}}"`, "welcome.subject (other: blank)", "locales/de.toml:3:"},
		{"a quoted space, trimmed", subject, `other = " {{- \" \" -}} "`, "welcome.subject (other: blank)", "locales/de.toml:3:"},
		{"a blank plural form", one, `one = " "`, "welcome.posts (one: blank)", "locales/de.toml:21:"},
		// Translations.
		{"data only", subject, `other = "{{.Name}}"`, "", ""},
		{"a quoted word", subject, `other = "{{\"Jetzt\"}}"`, "", ""},
		{"one letter", subject, `other = " x "`, "", ""},
		{"an emoji", subject, `other = "📬"`, "", ""},
		{"other delimiters, a field", subject, "leftDelim = \"<<\"\nrightDelim = \">>\"\nother = \"<<.Name>>\"", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			loc := fstest.MapFS{
				"en.toml": {Data: []byte(catalogLike(t, "en"))},
				"de.toml": {Data: []byte(strings.Replace(de, tt.old, tt.form, 1))},
			}
			e := newEngine(t, loc, Policy{})
			m, err := e.Resolve("de")
			if tt.missing == "" {
				if err != nil {
					t.Fatalf("Resolve(de): %v, want de", err)
				}
				if m.Lang != "de" {
					t.Fatalf("Resolve(de) = %s, want de", m.Lang)
				}
				return
			}
			var ref *Refusal
			if !errors.As(err, &ref) || ref.Code != CodeIncomplete {
				t.Fatalf("Resolve(de) = %+v, %v; want an incomplete refusal", m, err)
			}
			if want := "de lacks " + tt.missing; !strings.Contains(ref.Reason, want) {
				t.Errorf("reason %q does not say %q", ref.Reason, want)
			}
			if tt.line == "" {
				return
			}
			r, err := Inspect(templates.FS, loc, "en")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range r.Problems {
				got = append(got, p.String())
			}
			key, form, _ := strings.Cut(strings.TrimSuffix(tt.missing, ": blank)"), " (")
			want := tt.line + " de: " + key + " prints nothing in its form " + form
			hasProblems(t, got, []string{want})
			for _, l := range r.Languages {
				if l.Lang == "de" && l.Status != "incomplete" {
					t.Errorf("check's status of de is %s, want incomplete", l.Status)
				}
			}
		})
	}
}
