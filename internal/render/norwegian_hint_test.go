package render

import (
	"errors"
	"testing"
)

// TestNorwegianHintNamesEveryNorwegianCatalog: a recipient whose locale is
// no (Norwegian, Bokmål or Nynorsk) is refused, and the refusal names the
// alias to write for each Norwegian catalog there is: with nb and nn both,
// both (it used to name nb alone, as if nn were not there).
func TestNorwegianHintNamesEveryNorwegianCatalog(t *testing.T) {
	t.Parallel()
	const prefix = "not-covered: no catalog for no"
	for _, tt := range []struct {
		name     string
		catalogs []string
		reason   string
	}{
		{"nb only", []string{"nb"}, prefix + " (no is Norwegian, written as nb Bokmål or nn Nynorsk: tidings does not choose; if this recipient reads the nb catalog, add no: nb to locale_policy.aliases)"},
		{"nn only", []string{"nn"}, prefix + " (no is Norwegian, written as nb Bokmål or nn Nynorsk: tidings does not choose; if this recipient reads the nn catalog, add no: nn to locale_policy.aliases)"},
		{"nb and nn", []string{"nb", "nn"}, prefix + " (no is Norwegian, written as nb Bokmål or nn Nynorsk: tidings does not choose; if this recipient reads the nb catalog, add no: nb to locale_policy.aliases, if the nn catalog, no: nn)"},
		{"nb-NO and nn", []string{"nb-NO", "nn"}, prefix + " (no is Norwegian, written as nb Bokmål or nn Nynorsk: tidings does not choose; if this recipient reads the nb-NO catalog, add no: nb-NO to locale_policy.aliases, if the nn catalog, no: nn)"},
		{"neither", []string{"da"}, prefix + ": nobody whose locale is no is sent; add no.toml, with every message the template uses, to the locales directory (locales_dir), or map no under locale_policy.aliases, or remove these rows"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t, catalogsNamed(t, tt.catalogs...), Policy{})
			m, err := e.Resolve("no")
			var r *Refusal
			if !errors.As(err, &r) || r.Reason != tt.reason {
				t.Fatalf("Resolve(no) with catalogs %v = %+v, %v; want the refusal %q", tt.catalogs, m, err, tt.reason)
			}
		})
	}
}
