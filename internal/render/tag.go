package render

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// Language tags as tidings reads them: recipients' locales, catalog file
// names and the campaign file's languages.
//
// x/text's Parse already reads deprecated and legacy codes as the language
// they were renamed to (iw as he, in as id, ji as yi, jw as jv, mo as ro-MD,
// tl as fil, no-bok as nb, no-nyn as nn, the ISO 639-2 codes ger, fre, ...
// as de, fr, ...). parseTag adds two things to it:
//
//   - macroSame: an individual language whose macrolanguage's code means
//     that very language in CLDR (cmn is what zh means, arb what ar means)
//     is read as the macrolanguage's code, so that a catalog zh.toml covers
//     cmn and a catalog cmn.toml is the zh one. Only the pairs listed:
//     x/text's Macro canonicalisation as a whole is not used, because it
//     also reads nb as no (Bokmål as "Norwegian", which is Nynorsk too),
//     Fanti (fat) and Twi (tw) as Akan (ak), Moroccan Judeo-Arabic (aju)
//     as Judeo-Arabic (jrb).
//   - Serbo-Croatian (sh, hbs) names Serbian, Croatian, Bosnian and
//     Montenegrin alike. x/text reads it as Serbian in Latin script, a
//     guess: parseTag refuses it (*serboCroatianError), and only an alias
//     in the campaign file maps it.
//   - An extended language subtag after another language than the one
//     the IANA registry registers it under (en-cmn, de-gsw, zh-arb; not
//     zh-cmn, zh-yue, ar-arb) names two languages: x/text reads the tag
//     as the second and drops the first. parseTag refuses it
//     (*extlangError), and only an alias maps it.
//   - Three variants the registry deprecated because the tag that
//     replaces them is a language of its own (variantLanguage): Western
//     Armenian hy-arevmda is hyw, not hy; Vedic and Classical Sanskrit
//     are vsn and cls, not sa. parseTag reads hy-arevmda as hyw and
//     refuses the other two, which x/text does not know
//     (*variantLanguageError).

// macroSame maps an individual language (as x/text's Parse reads it) to the
// code of its macrolanguage, where CLDR's data for that code is that
// language: Mandarin, Standard Arabic, Standard Malay, Swahili, Standard
// Estonian, Standard Latvian, Iranian Persian, Halh Mongolian and Northern
// Uzbek. README documents the list.
var macroSame = map[string]string{
	"cmn": "zh",
	"arb": "ar",
	"zsm": "ms",
	"swh": "sw",
	"ekk": "et",
	"lvs": "lv",
	"pes": "fa",
	"khk": "mn",
	"uzn": "uz",
}

// noLanguage are the base languages that name no single language, and
// what each says instead: a catalog is not named so, and a recipient's
// refusal says it.
var noLanguage = map[string]string{
	"und": "undetermined",
	"mul": "several languages, not which",
	"zxx": "no linguistic content",
	"mis": "a language without a code",
}

// serboCroatianError is parseTag's error for a tag whose language is
// Serbo-Croatian.
type serboCroatianError struct {
	tag  string // as written
	read language.Tag
}

func (e *serboCroatianError) Error() string {
	return fmt.Sprintf("%q is Serbo-Croatian, which is Serbian, Croatian, Bosnian or Montenegrin (x/text reads it as %s)", e.tag, e.read)
}

// extlangError is parseTag's error for a tag whose second subtag is an
// extended language subtag that may not follow its first (en-cmn): it
// names two languages.
type extlangError struct {
	tag    string // as written
	first  string // the first subtag (en)
	ext    string // the second, which x/text reads as the language (cmn)
	prefix string // the language ext may follow (zh); "" if ext is no extlang
	read   string // x/text's reading of the tag (cmn)
}

func (e *extlangError) Error() string {
	what := fmt.Sprintf("%s is not an extended language subtag", e.ext)
	if e.prefix != "" {
		what = fmt.Sprintf("%s follows only %s, as in %s-%s", e.ext, e.prefix, e.prefix, e.ext)
	} else if r, err := language.ParseRegion(e.ext); err == nil {
		// pt-BRA: a country's three-letter code, which x/text reads as
		// a language (bra, Braj).
		what += fmt.Sprintf("; if it is the country %s, write %s-%s", r, e.first, r)
	}
	return fmt.Sprintf("%q names two languages, %s and %s (%s; x/text reads it as %s, dropping %s)", Clip(e.tag), e.first, e.ext, what, e.read, e.first)
}

// variantLanguage maps each variant that the IANA registry deprecated
// because the tag replacing it is another language than its prefix's
// (the registry's comment "Preferred tag is hyw") to that language. The
// registry's other deprecated variants keep their language: hy-arevela
// is hy, ja-Latn-hepburn-heploc is ja-Latn.
var variantLanguage = map[string]struct{ code, name string }{
	"arevmda": {"hyw", "Western Armenian"},
	"laukika": {"cls", "Classical Sanskrit"},
	"vaidika": {"vsn", "Vedic Sanskrit"},
}

// variantLanguageError is parseTag's error for a tag whose variant is a
// language of its own that x/text does not know (sa-vaidika is vsn).
type variantLanguageError struct {
	tag, variant, code, name string
}

func (e *variantLanguageError) Error() string {
	return fmt.Sprintf("%q is %s, which the IANA registry codes %s, a language of its own since it deprecated the variant %s", Clip(e.tag), e.name, e.code, e.variant)
}

// grandfatheredExtlang are the registry's grandfathered tags whose second
// subtag has three letters without being an extended language subtag.
var grandfatheredExtlang = map[string]bool{"no-bok": true, "no-nyn": true, "zh-min": true}

// checkExtlang returns an *extlangError if s's second subtag is three
// letters, which x/text reads as the language (read), its first subtag is
// not the language the registry registers it under, and read is another
// language than the first subtag's (de-DEU and en-eng are read as de and
// en: one language).
func checkExtlang(s string, read language.Tag) error {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' })
	if len(parts) < 2 || len(parts[0]) < 2 || len(parts[0]) > 3 || len(parts[1]) != 3 || !isAlpha(parts[0]) || !isAlpha(parts[1]) {
		return nil
	}
	first, ext := strings.ToLower(parts[0]), strings.ToLower(parts[1])
	if grandfatheredExtlang[first+"-"+ext] {
		return nil
	}
	prefix := extlangPrefix[ext]
	if prefix != "" {
		// zho-cmn: the prefix in its three-letter spelling.
		if want, err := language.ParseBase(prefix); err == nil {
			if got, err := language.ParseBase(first); err == nil && got == want {
				return nil
			}
		}
	}
	if fb, err := language.ParseBase(first); err == nil {
		if rb, _ := read.Base(); rb == fb {
			return nil
		}
	}
	return &extlangError{tag: s, first: parts[0], ext: parts[1], prefix: prefix, read: read.String()}
}

// isAlpha reports whether s is ASCII letters only.
func isAlpha(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// parseTag parses a language tag as tidings reads it (see above).
func parseTag(s string) (language.Tag, error) {
	tag, err := language.Parse(s)
	if err != nil {
		return tag, err
	}
	if err := checkExtlang(s, tag); err != nil {
		return tag, err
	}
	for _, v := range tag.Variants() {
		l, ok := variantLanguage[v.String()]
		if !ok {
			continue
		}
		b, err := language.ParseBase(l.code)
		if err != nil {
			return tag, &variantLanguageError{tag: s, variant: v.String(), code: l.code, name: l.name}
		}
		parts := []any{b} // the script and region written kept: a script is part of the language
		if sc, c := tag.Script(); c == language.Exact {
			parts = append(parts, sc)
		}
		if r, c := tag.Region(); c == language.Exact {
			parts = append(parts, r)
		}
		return language.Compose(parts...)
	}
	if raw, err := language.Raw.Parse(s); err == nil {
		if b, _ := raw.Base(); b.String() == "sh" {
			return tag, &serboCroatianError{tag: s, read: tag}
		}
	}
	if b, _ := tag.Base(); macroSame[b.String()] != "" {
		return language.Macro.Canonicalize(tag)
	}
	return tag, nil
}

// norwegianHint says, for a refused tag whose language is Norwegian (no,
// nb or nn), which catalog(s) of another Norwegian code there are and how
// to map the recipient to each; "" otherwise.
func (e *Engine) norwegianHint(requested string, tag language.Tag) string {
	b, _ := tag.Base()
	key := strings.TrimSpace(requested)
	switch b.String() {
	case "no":
		// Each Norwegian catalog there is, nb first: the alias for each.
		var ifs []string
		for _, want := range []string{"nb", "nn"} {
			if c := e.catalogOfBase(want); c != "" {
				if len(ifs) == 0 {
					ifs = append(ifs, fmt.Sprintf("if this recipient reads the %s catalog, add %s: %s to locale_policy.aliases", c, key, c))
				} else {
					ifs = append(ifs, fmt.Sprintf("if the %s catalog, %s: %s", c, key, c))
				}
			}
		}
		if len(ifs) > 0 {
			return " (no is Norwegian, written as nb Bokmål or nn Nynorsk: tidings does not choose; " + strings.Join(ifs, ", ") + ")"
		}
	case "nb", "nn":
		standard := map[string]string{"nb": "Bokmål", "nn": "Nynorsk"}[b.String()]
		if c := e.catalogOfBase("no"); c != "" {
			return fmt.Sprintf(" (the catalog %s is Norwegian, in Bokmål or in Nynorsk: tidings does not choose; if %s is written in %s, add %s: %s to locale_policy.aliases)", c, c, standard, key, c)
		}
	}
	return ""
}

// catalogOfBase returns the first catalog language whose base language is
// base, or "".
func (e *Engine) catalogOfBase(base string) string {
	for _, l := range e.langs {
		if b, _ := l.cat.tag.Base(); b.String() == base {
			return l.cat.lang
		}
	}
	return ""
}

// nonASCIIHint names the first character of s that is not ASCII, which
// makes a locale that looks right unparsable: a letter of another script
// that looks Latin (Cyrillic е in "en"), a full-width form ("ｅｎ").
func nonASCIIHint(s string) string {
	for i, r := range s {
		if r < utf8.RuneSelf {
			continue
		}
		what := "a character that is not ASCII"
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			what = fmt.Sprintf("a full-width form of %c", r-0xFF01+'!')
		case unicode.IsLetter(r):
			what = "a non-ASCII letter"
			if sc := scriptOf(r); sc != "" && sc != "Latin" && sc != "Common" {
				what = "a " + strings.ReplaceAll(sc, "_", " ") + " letter"
			}
		}
		return fmt.Sprintf(" (it holds U+%04X, %s, at byte %d: a language tag is ASCII letters, digits and hyphens; retype it)", r, what, i)
	}
	return ""
}

// scriptOf returns the name of the Unicode script of r, or "".
func scriptOf(r rune) string {
	names := make([]string, 0, len(unicode.Scripts))
	for name := range unicode.Scripts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if unicode.Is(unicode.Scripts[name], r) {
			return name
		}
	}
	return ""
}
