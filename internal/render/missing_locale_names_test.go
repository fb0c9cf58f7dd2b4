package render

import (
	"testing"

	"github.com/tidings-mail/tidings/locales"
)

// TestMissingLocaleRefusesLocalesThatMayNameALanguage: a campaign with
// `locale_policy: {missing_locale: en}` and the bundled catalogs (en, de,
// fr, ja, ...). Recipients whose locale column begins with a language's
// code but does not parse as a tag, in spellings real exports produce (an
// Accept-Language value "de,en;q=0.5" or "fr;q=0.9", a slash or colon
// between language and region "de/CH", "de:CH", a no-break space "de CH",
// full-width letters "ｄｅ", a leading separator "-de", an invisible
// zero-width space before or after "de"), or that name their
// language in words ("Deutsch", "français", "日本語").
//
// The README, the locale rule 3: "An empty locale, or one that names no
// language (C.UTF-8, n/a, i-default), is refused unless the campaign maps it
// explicitly (missing_locale: en) ... One that begins with a language's code
// but does not parse (de_CH.UTF-8, ru-RU-, de-YY) is refused even then: that
// person has a language, and it is not the one missing_locale names". And
// PRODUCT.md: tidings "refuses to send anyone a message in a language that
// is not theirs".
//
// Found by red team 10: Resolve mapped every one of them to en, since
// missing_locale took any locale that did not parse and did not begin with
// a language's code up to one of "-_.@ ". It now takes only a closed list
// of spellings that say there is none (namesNone); the rest are refused,
// and an alias maps a spelling the operator knows.
func TestMissingLocaleRefusesLocalesThatMayNameALanguage(t *testing.T) {
	t.Parallel()
	e := newEngine(t, locales.FS, Policy{MissingLocale: "en"})
	for _, requested := range []string{
		"de/CH",       // language/region
		"de:CH",       // language:region
		"de,en",       // an Accept-Language list
		"de,en;q=0.5", // an Accept-Language header value
		"fr;q=0.9",    // one Accept-Language item
		"de\u00a0CH",  // a no-break space from a spreadsheet
		"ｄｅ",          // full-width letters (a CJK input method)
		"-de",         // a stray leading dash
		"\u200bde",    // a zero-width space before it (invisible in a spreadsheet)
		"de\u200b",    // and after it
		"Deutsch",     // the language's own name
		"français",
		"日本語",
	} {
		t.Run(requested, func(t *testing.T) {
			t.Parallel()
			m, err := e.Resolve(requested)
			if err == nil {
				t.Errorf("Resolve(%q) = %+v: a recipient whose locale names a language (not English) is sent %s via %s; want a refusal (missing_locale maps only a locale that names no language)", requested, m, m.Lang, m.Via)
			}
		})
	}
}
