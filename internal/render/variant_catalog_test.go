package render

import (
	"strings"
	"testing"
)

// TestACatalogOfTheRecipientsOwnTagIsTheirs is what QA reviews against what
// is sent for catalogs whose tag carries a variant, a -u- extension or a
// private-use part (ca-ES-valencia.toml beside ca.toml, de-x-formal.toml
// beside de.toml). Preview renders such a catalog as a language of its
// own; x/text's matcher ignores those parts, so a recipient whose locale
// is exactly that tag was matched to the plain catalog and sent text QA
// reviewed under another card (the Valencian recipients the Catalan
// text). A recipient whose locale is a catalog's own tag gets that
// catalog, in any spelling (case, "_"); a locale that only shares the
// base language still gets the matcher's choice.
func TestACatalogOfTheRecipientsOwnTagIsTheirs(t *testing.T) {
	t.Parallel()
	marked := func(mark string) string {
		const subject = `other = "Action needed: `
		full := allForms(t)
		if strings.Count(full, subject) != 1 {
			t.Fatal("the en catalog's subject changed: update marked")
		}
		return strings.Replace(full, subject, subject[:len(subject)-len("Action needed: ")]+mark+" ", 1)
	}
	tests := []struct {
		plain, variant string // catalog file names (without .toml)
		locale         string
		want           string // the catalog language Resolve must choose
	}{
		{"ca", "ca-ES-valencia", "ca-ES-valencia", "ca-ES-valencia"},
		{"ca", "ca-ES-valencia", "CA_es_VALENCIA", "ca-ES-valencia"},
		{"ca", "ca-ES-valencia", " ca-ES-valencia ", "ca-ES-valencia"},
		{"ca", "ca-ES-valencia", "ca-ES", "ca"},
		{"ca", "ca-ES-valencia", "ca", "ca"},
		{"ca", "ca-valencia", "ca-valencia", "ca-valencia"},
		{"de", "de-x-formal", "de-x-formal", "de-x-formal"},
		{"de", "de-x-formal", "de-x-informal", "de"},
		{"de", "de-1901", "de-1901", "de-1901"},
		{"de", "de-u-co-phonebk", "de-u-co-phonebk", "de-u-co-phonebk"},
		{"de", "de-DE-x-formal", "de-DE-x-formal", "de-DE-x-formal"},
		{"en", "en-x-pirate", "en-x-pirate", "en-x-pirate"},
		{"en", "en-x-pirate", "en", "en"},
	}
	for _, tc := range tests {
		t.Run(tc.variant+"/"+tc.locale, func(t *testing.T) {
			t.Parallel()
			loc := localesWith(t, map[string]string{
				tc.plain + ".toml":   marked("PLAIN-" + tc.plain),
				tc.variant + ".toml": marked("VARIANT-" + tc.variant),
			})
			e := newEngine(t, loc, Policy{})
			m, err := e.Resolve(tc.locale)
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tc.locale, err)
			}
			if m.Lang != tc.want {
				t.Fatalf("Resolve(%q) chose the %s catalog, want %s", tc.locale, m.Lang, tc.want)
			}
			d := Data{Name: "N", Email: "n@example.org", Fields: map[string]string{"posts": "3"},
				Data: map[string]any{"reregister_url": "https://example.org/r"}}
			if err := e.Check(m, d); err != nil {
				t.Fatalf("Check: %v", err)
			}
			r, err := e.Render(m, d)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			mark := "PLAIN-" + tc.plain + " "
			if tc.want == tc.variant {
				mark = "VARIANT-" + tc.variant + " "
			}
			if !strings.HasPrefix(r.Subject, mark) {
				t.Fatalf("Render(%q) subject %q, want the text of %s (%q...)", tc.locale, r.Subject, tc.want, mark)
			}
		})
	}
}
