package render

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tidings-mail/tidings/templates"
	"golang.org/x/text/language"
)

// allForms is the en catalog with every CLDR plural form of welcome.posts,
// so that it covers the template in any language.
func allForms(t *testing.T) string {
	t.Helper()
	en := catalogLike(t, "en")
	one := `one = "Your {{.Count}} post has been moved and is waiting for you."`
	if !strings.Contains(en, one) {
		t.Fatal("the en catalog changed: update allForms")
	}
	return strings.Replace(en, one, `zero = "{{.Count}}"`+"\n"+`one = "{{.Count}}"`+"\n"+`two = "{{.Count}}"`+"\n"+`few = "{{.Count}}"`+"\n"+`many = "{{.Count}}"`, 1)
}

// catalogsNamed returns the bundled catalogs plus a complete catalog for
// each file name.
func catalogsNamed(t *testing.T, names ...string) fstest.MapFS {
	t.Helper()
	full := allForms(t)
	m := map[string]string{}
	for _, n := range names {
		m[n+".toml"] = full
	}
	return localesWith(t, m)
}

// onlyNamed returns the bundled en catalog and a complete catalog for each
// file name, and nothing else.
func onlyNamed(t *testing.T, names ...string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{"en.toml": {Data: []byte(catalogLike(t, "en"))}}
	for _, n := range names {
		m[n+".toml"] = &fstest.MapFile{Data: []byte(allForms(t))}
	}
	return m
}

// TestLegacyTagsAndMacrolanguages is the locale rule against the tags a
// real migration brings: deprecated codes (iw, in, ji, mo), legacy and
// grandfathered forms (tl, no-bok, zh-guoyu, i-klingon, en-GB-oed), scripts
// (sr-Latn, zh-Hant, pa-Arab, az-Cyrl), macrolanguages (zh and cmn/yue, ar
// and arb, ms and zsm, no and nb/nn, sh), and catalogs named with those
// forms. It fails against the naive matchers: x/text's Parse alone sends
// "sh" (Serbo-Croatian: Serbian, Croatian, Bosnian or Montenegrin) the
// Serbian catalog, and reads a catalog file sh.toml as Serbian; x/text's
// Macro canonicalisation (language.All) rewrites nb to no and Fanti to
// Akan; without it cmn, arb and zsm are refused although their language's
// catalog is there, and a catalog cmn.toml stops the campaign with
// go-i18n's "no plural rule registered for cmn".
func TestLegacyTagsAndMacrolanguages(t *testing.T) {
	t.Parallel()
	modern := newEngine(t, catalogsNamed(t, "he", "id", "yi", "ro", "fil", "nb", "sr", "sr-Latn", "hr", "bs", "zh", "zh-Hant", "pa", "pa-Arab", "az", "ms", "sw", "fa", "ak"), Policy{})
	legacy := newEngine(t, onlyNamed(t, "iw", "in", "ji", "mo", "tl", "no", "cmn", "arb", "zsm", "zh-TW"), Policy{})
	aliased := newEngine(t, catalogsNamed(t, "hr", "sr-Latn", "no"), Policy{Aliases: map[string]string{"sh": "hr", "nb": "no"}})

	tests := []struct {
		name      string
		e         *Engine
		requested string
		lang      string // accepted: the catalog language
		refusal   string // refused: a part of the reason
	}{
		// Deprecated codes are the same language under its new code.
		{"iw is he", modern, "iw", "he", ""},
		{"iw-IL is he", modern, "iw-IL", "he", ""},
		{"in is id", modern, "in", "id", ""},
		{"ji is yi", modern, "ji", "yi", ""},
		{"mo is ro", modern, "mo", "ro", ""},
		{"tl is fil", modern, "tl", "fil", ""},
		{"no-bok is nb", modern, "no-bok", "nb", ""},
		{"nob is nb", modern, "nob", "nb", ""},
		{"ISO 639-2 ger is de", modern, "ger", "de", ""},
		// Legacy catalog names: the catalog is the language's.
		{"he with iw.toml", legacy, "he", "he", ""},
		{"iw with iw.toml", legacy, "iw", "he", ""},
		{"id with in.toml", legacy, "id-ID", "id", ""},
		{"yi with ji.toml", legacy, "yi", "yi", ""},
		{"ro with mo.toml", legacy, "ro", "ro-MD", ""},
		{"fil with tl.toml", legacy, "fil", "fil", ""},
		{"zh-Hant-TW with zh-TW.toml", legacy, "zh-Hant-TW", "zh-TW", ""},
		{"zh-HK with zh-TW.toml (both Traditional)", legacy, "zh-HK", "zh-TW", ""},
		// Macrolanguages: the individual language that the macrolanguage's
		// code means in CLDR is the same language (cmn is zh, arb is ar).
		{"cmn is zh", modern, "cmn", "zh", ""},
		{"cmn-Hans-CN is zh", modern, "cmn-Hans-CN", "zh", ""},
		{"zh-cmn-Hant is zh-Hant", modern, "zh-cmn-Hant", "zh-Hant", ""},
		{"cmn-TW is zh-Hant", modern, "cmn-TW", "zh-Hant", ""},
		{"zh-guoyu is zh", modern, "zh-guoyu", "zh", ""},
		{"zsm is ms", modern, "zsm", "ms", ""},
		{"swh is sw", modern, "swh", "sw", ""},
		{"pes is fa", modern, "pes", "fa", ""},
		{"zh with cmn.toml", legacy, "zh-CN", "zh", ""},
		{"ar with arb.toml", legacy, "ar-EG", "ar", ""},
		{"ms with zsm.toml", legacy, "ms", "ms", ""},
		// ... and nothing else is: other Chinese languages, Dari, Fanti.
		{"yue is not zh-Hant", modern, "yue", "", "not-covered: no catalog for yue"},
		{"zh-yue is not zh-Hant", modern, "zh-yue", "", "not-covered: no catalog for yue"},
		{"yue-Hant-HK is not zh-Hant", modern, "yue-Hant-HK", "", "not-covered: no catalog for yue-Hant-HK"},
		{"nan is not zh", modern, "zh-min-nan", "", "not-covered: no catalog for nan"},
		{"prs (Dari) is not fa", modern, "prs", "", "not-covered: no catalog for prs"},
		{"fat (Fanti) is not ak", modern, "fat", "", "not-covered: no catalog for fat"},
		// Norwegian: no names Bokmål and Nynorsk alike.
		{"nn is not nb", modern, "nn", "", "not-covered: no catalog for nn"},
		{"no-nyn is not nb", modern, "no-nyn", "", "not-covered: no catalog for nn"},
		{"no is not nb", modern, "no", "", "not-covered: no catalog for no (no is Norwegian, written as nb Bokmål or nn Nynorsk: tidings does not choose; if this recipient reads the nb catalog, add no: nb to locale_policy.aliases)"},
		{"nb is not no", legacy, "nb", "", "not-covered: no catalog for nb (the catalog no is Norwegian, in Bokmål or in Nynorsk: tidings does not choose; if no is written in Bokmål, add nb: no to locale_policy.aliases)"},
		{"nb-NO is not no", legacy, "nb-NO", "", "not-covered: no catalog for nb-NO (the catalog no is Norwegian"},
		{"nb with an alias", aliased, "nb", "no", ""},
		// Serbo-Croatian names four languages: never a guess.
		{"sh is not sr-Latn", modern, "sh", "", `not-covered: locale "sh" is Serbo-Croatian, which is Serbian, Croatian, Bosnian or Montenegrin (x/text reads it as sr-Latn): tidings does not choose; map it with locale_policy.aliases, such as sh: hr`},
		{"hbs is not sr-Latn", modern, "hbs", "", `locale "hbs" is Serbo-Croatian`},
		{"sh-HR is not sr-Latn", modern, "sh-HR", "", `locale "sh-HR" is Serbo-Croatian`},
		{"sh with an alias", aliased, "sh", "hr", ""},
		{"SH with an alias", aliased, "SH", "hr", ""},
		// Scripts.
		{"sr-Latn", modern, "sr-Latn-RS", "sr-Latn", ""},
		{"sr is Cyrillic", modern, "sr", "sr", ""},
		{"sr-ME is Latin", modern, "sr-ME", "sr-Latn", ""},
		{"hr", modern, "hr", "hr", ""},
		{"zh-TW is zh-Hant", modern, "zh-TW", "zh-Hant", ""},
		{"zh-Hans-TW is zh", modern, "zh-Hans-TW", "zh", ""},
		{"pa-PK is pa-Arab", modern, "pa-PK", "pa-Arab", ""},
		{"pa-Guru is pa", modern, "pa-Guru", "pa", ""},
		{"az-Cyrl is not az (Latin)", modern, "az-Cyrl", "", "not-covered: no catalog for az-Cyrl"},
		// Grandfathered and odd forms.
		{"en-GB-oed", modern, "en-GB-oed", "en", ""},
		{"de-CH-1996", modern, "de-CH-1996", "de", ""},
		{"i-klingon", modern, "i-klingon", "", "not-covered: no catalog for tlh"},
		{"x-private", modern, "x-private", "", "not-covered: no catalog for x-private"},
		{"mul", modern, "mul", "", "not-covered: no catalog for mul (mul says several languages, not which: write the recipient's language, such as de or pt-BR)"},
		{"zxx", modern, "zxx", "", "not-covered: no catalog for zxx (zxx says no linguistic content: write the recipient's language, such as de or pt-BR)"},
		// Locales that say there is none, without missing_locale: why.
		{"C", modern, "C", "", `unparsable locale "C" (it says the recipient has no language: write theirs, such as de or pt-BR, or map such locales with locale_policy.missing_locale)`},
		{"POSIX", modern, "POSIX", "", `unparsable locale "POSIX" (it says the recipient has no language`},
		{"*", modern, "*", "", `unparsable locale "*" (it says the recipient has no language`},
		{"und", modern, "und", "", `not-covered: no catalog for und (it says the recipient has no language`},
		{"Accept-Language", modern, "en;q=0.8", "", `unparsable locale "en;q=0.8"`},
		// Lookalikes: said, with the character.
		{"Cyrillic e", modern, "\u0435n", "", `unparsable locale "еn" (it holds U+0435, a Cyrillic letter, at byte 0: a language tag is ASCII letters, digits and hyphens; retype it)`},
		{"full-width", modern, "ｅｎ", "", `unparsable locale "ｅｎ" (it holds U+FF45, a full-width form of e, at byte 0: a language tag is ASCII letters, digits and hyphens; retype it)`},
		{"Kelvin sign", modern, "\u212aa", "", "U+212A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := tt.e.Resolve(tt.requested)
			if tt.refusal == "" {
				if err != nil || m.Lang != tt.lang {
					t.Fatalf("Resolve(%q) = %+v, %v; want %s", tt.requested, m, err, tt.lang)
				}
				return
			}
			var r *Refusal
			if !errors.As(err, &r) || !strings.Contains(r.Reason, tt.refusal) {
				t.Fatalf("Resolve(%q) = %+v, %v; want a refusal with %q", tt.requested, m, err, tt.refusal)
			}
		})
	}

	// The legacy names are the languages' in every list QA reads.
	var langs []string
	for _, c := range legacy.Languages() {
		langs = append(langs, c.Lang)
	}
	if got, want := strings.Join(langs, " "), "ar en fil he id ms no ro-MD yi zh zh-TW"; got != want {
		t.Errorf("languages of the legacy-named catalogs: %s; want %s", got, want)
	}
}

// TestAmbiguousCatalogNames: a catalog file named for Serbo-Croatian (sh,
// hbs) would be read by x/text as Serbian in Latin script and sent to
// Serbian readers whatever it is written in; a file named for no single
// language (und, mul, zxx) would stop the campaign with go-i18n's "no
// plural rule". Both are refused with the file's name and what to do.
func TestAmbiguousCatalogNames(t *testing.T) {
	t.Parallel()
	tests := []struct{ file, msg string }{
		{"sh", `locales/sh.toml: "sh" is Serbo-Croatian, which is Serbian, Croatian, Bosnian or Montenegrin (x/text reads it as sr-Latn): name the catalog after the language it is written in (sr-Latn.toml, hr.toml, bs.toml or cnr.toml)`},
		{"hbs", `locales/hbs.toml: "hbs" is Serbo-Croatian`},
		{"sh-RS", `locales/sh-RS.toml: "sh-RS" is Serbo-Croatian`},
		{"mul", `locales/mul.toml: "mul" names no single language (mul: several languages, not which): name the catalog after the language it is written in, e.g. de.toml or pt-BR.toml`},
		{"zxx", `locales/zxx.toml: "zxx" names no single language (zxx: no linguistic content)`},
		{"und", `locales/und.toml: "und" names no single language (und: undetermined)`},
		{"x-private", `locales/x-private.toml: "x-private" names no single language (und: undetermined)`},
		// Two names of one language are two catalogs for it.
		{"iw he", `locales/iw.toml: second catalog for he (first: locales/he.toml); keep one file per language`},
		{"cmn zh", `second catalog for zh`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			_, err := New(Config{Templates: templates.FS, Locales: catalogsNamed(t, strings.Fields(tt.file)...), Template: "welcome", DefaultLocale: "en"})
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(fe.Error(), tt.msg) {
				t.Fatalf("New with catalogs %s: %v; want a *FileError with %q", tt.file, err, tt.msg)
			}
		})
	}
}

// TestParseTagTable pins the equivalences tidings adds to x/text's
// default canonicalisation, and that x/text's Macro canonicalisation,
// which it does not use, would be wrong here (nb is not no).
func TestParseTagTable(t *testing.T) {
	t.Parallel()
	for from, to := range macroSame {
		got, err := parseTag(from)
		if err != nil || got.String() != to {
			t.Errorf("parseTag(%q) = %v, %v; want %s", from, got, err, to)
		}
		if m, _ := language.Macro.Parse(from); m.String() != to {
			t.Errorf("x/text's Macro reads %s as %v, not %s: check the table against CLDR", from, m, to)
		}
	}
	if m, _ := language.All.Parse("nb"); m.String() != "no" {
		t.Errorf("x/text's All no longer reads nb as no (%v): the comment on macroSame says why it is not used", m)
	}
}
