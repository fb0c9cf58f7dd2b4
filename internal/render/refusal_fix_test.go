package render

import (
	"strings"
	"testing"
)

// TestRefusalsSayWhatToDo: a refusal's Reason ends with its Fix, which
// names the catalog that would cover the locale (the language's own file,
// with the script when the locale is written in another one), the
// campaign key that maps it, and that nobody it refuses is sent; a reason
// whose own words already say what to do has no Fix, and Short is then
// the whole Reason. Catalog names the file such a Fix says to add.
func TestRefusalsSayWhatToDo(t *testing.T) {
	t.Parallel()
	en := catalogLike(t, "en")
	set := localesWith(t, map[string]string{"zh.toml": en, "sr.toml": catalogLike(t, "ru")})
	strict := newEngine(t, set, Policy{})
	aliased := newEngine(t, set, Policy{Aliases: map[string]string{"gsw": "de"}, MissingLocale: "en"})
	tests := []struct {
		name      string
		e         *Engine
		requested string
		short     string
		fix       []string // "" when the reason says it itself
	}{
		{"empty", strict, "", "empty locale", []string{"write the recipient's language in the row's locale", "locale_policy.missing_locale", "refused, not sent"}},
		{"a language", strict, "nl", "not-covered: no catalog for nl", []string{"nobody whose locale is nl is sent", "add nl.toml", "locale_policy.aliases", "remove these rows"}},
		{"a region", strict, "nl-BE", "not-covered: no catalog for nl-BE", []string{"add nl.toml,"}},
		{"a script the language's catalog is not in", strict, "zh-TW", "not-covered: no catalog for zh-TW", []string{"add zh-Hant.toml,"}},
		{"an explicit script", strict, "sr-Latn", "not-covered: no catalog for sr-Latn", []string{"add sr-Latn.toml,"}},
		// go-i18n, which reads the catalogs, has no plural rules for hyw
		// (Western Armenian): a hyw.toml cannot load, so the fix is the
		// alias, not the file.
		{"a language no catalog can be written for", strict, "hyw", "not-covered: no catalog for hyw", []string{"no plural rules for hyw", "no catalog hyw.toml can load", "locale_policy.aliases", "remove these rows"}},
		{"a variant read as such a language", strict, "hy-arevmda", "not-covered: no catalog for hyw", []string{"no plural rules for hyw", "locale_policy.aliases"}},
		{"no language", strict, "und-CH", "not-covered: no catalog for und-CH", []string{"und-CH names no language", "write the recipient's language"}},
		{"unparsable", strict, "x!", `unparsable locale "x!"`, []string{"write a language tag in the row's locale", "locale_policy.aliases", "refused, not sent"}},
		{"unknown code", strict, "qq-ZZ", `unknown language "qq" in locale "qq-ZZ": no registry has that code; fix the file (such as de or pt-BR)`, nil},
		{"unparsable with missing_locale", aliased, "x!", `unparsable locale "x!"; missing_locale maps only`, nil},
		{"an alias names one locale", aliased, "gsw-CH", "not-covered: no catalog for gsw-CH (the alias of gsw covers gsw only: add gsw-CH to locale_policy.aliases to map it too)", nil},
	}
	for _, tt := range tests {
		_, err := tt.e.Resolve(tt.requested)
		ref, ok := err.(*Refusal)
		if !ok {
			t.Errorf("%s: Resolve(%q) = %v, want a *Refusal", tt.name, tt.requested, err)
			continue
		}
		if !strings.HasPrefix(ref.Short(), tt.short) || ref.Reason != ref.Short()+map[bool]string{true: ": " + ref.Fix}[ref.Fix != ""] {
			t.Errorf("%s: Short %q, Reason %q, Fix %q; want Short to start %q and Reason = Short: Fix", tt.name, ref.Short(), ref.Reason, ref.Fix, tt.short)
		}
		if (ref.Fix == "") != (tt.fix == nil) {
			t.Errorf("%s: Fix %q, want one: %v", tt.name, ref.Fix, tt.fix != nil)
		}
		if strings.HasPrefix(tt.name, "a language no catalog") || strings.HasPrefix(tt.name, "a variant read") {
			if strings.Contains(ref.Fix, "add hyw.toml") {
				t.Errorf("%s: Fix %q says to add a catalog that cannot load", tt.name, ref.Fix)
			}
		}
		for _, w := range tt.fix {
			if !strings.Contains(ref.Fix, w) {
				t.Errorf("%s: Fix %q lacks %q", tt.name, ref.Fix, w)
			}
		}
		// Catalog is the file the Fix says to add (test-send names it
		// with its directory), and none when the Fix adds no file.
		file := ""
		if _, after, ok := strings.Cut(ref.Fix, "; add "); ok {
			file, _, _ = strings.Cut(after, ",")
		}
		if ref.Catalog != file {
			t.Errorf("%s: Catalog %q, want %q (the file its Fix %q says to add)", tt.name, ref.Catalog, file, ref.Fix)
		}
	}
}
