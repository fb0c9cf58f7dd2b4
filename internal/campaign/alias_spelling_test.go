package campaign

import (
	"testing"
)

// TestAliasesOfSpellingsXTextRewritesAreDistinct: a campaign with catalogs
// hr and sr (Cyrillic) maps, after review, the legacy Serbo-Croatian tag
// "sh" to hr, and Latin-script Serbian "sr-Latn" (or the ISO 639-3 "hbs")
// to sr, each its own reviewed alias.
//
// The README, the locale rule 1: "An alias maps the locale spelled as its
// key (case, and _ for -, aside), not what x/text rewrites that spelling to:
// sh: hr takes sh, not the sr-Latn and hbs that x/text reads as the same
// tag." And the campaign file reference: "locale aliases that differ only
// in case are errors".
//
// Found by red team 10: the campaign file was refused, "sr-Latn and sh
// (line 8) name the same locale (aliases are compared case-insensitively):
// keep one", although they differ in more than case and the locale rule
// (render.canonKey) treats them as two locales: the operator cannot write
// the aliases the README describes. The cause:
// internal/campaign/validate.go canonLocale compares the keys through
// language.Parse (x/text's canonical form: sh -> sr-Latn, hbs -> sr-Latn,
// mo -> ro-MD), while internal/render/render.go canonKey (what the rule
// applies) compares spellings only.
func TestAliasesOfSpellingsXTextRewritesAreDistinct(t *testing.T) {
	t.Parallel()
	const base = "name: ok\nenvironment: staging\ntemplate: welcome\nrecipients: r.csv\nfrom: a@b.example\n"
	for _, aliases := range []string{
		"    sh: hr\n    sr-Latn: sr\n",
		"    sh: hr\n    hbs: sr\n",
		"    mo: ro\n    ro-MD: ro\n",
	} {
		if _, err := Parse([]byte(base+"locale_policy:\n  aliases:\n"+aliases), "c.yaml"); err != nil {
			t.Errorf("aliases\n%s: refused: %v", aliases, err)
		}
	}
}
