package render

import (
	"errors"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/templates"
)

// TestCatalogNamedWithItsUsualScriptIsASecondCatalog: zh-Hans is zh
// (Chinese is written in Hans unless the tag says otherwise), sr-Cyrl is
// sr, pt-Latn-BR is pt-BR. Two such files are two catalogs for one
// language, and which one a recipient is sent depends on how their
// locale is spelled (zh-CN gets zh.toml, zh-Hans-CN zh-Hans.toml), while
// QA reviews either: New refuses the second file, as it does iw beside
// he. A script that is not the language's usual one (zh-Hant, sr-Latn,
// sr-Cyrl-ME) is a catalog of its own.
func TestCatalogNamedWithItsUsualScriptIsASecondCatalog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		files string
		msg   string // "": both load
	}{
		{"zh zh-Hans", `locales/zh.toml: second catalog for zh (first: locales/zh-Hans.toml, zh-Hans: zh is written in Hans unless its tag says otherwise); keep one file per language`},
		{"sr sr-Cyrl", `locales/sr.toml: second catalog for sr (first: locales/sr-Cyrl.toml, sr-Cyrl: sr is written in Cyrl unless its tag says otherwise)`},
		{"pt-BR pt-Latn-BR", `locales/pt-Latn-BR.toml: second catalog for pt-BR (first: locales/pt-BR.toml, pt-Latn-BR: pt-BR is written in Latn unless its tag says otherwise)`},
		{"zh-TW zh-Hant-TW", `second catalog for zh-TW (first: locales/zh-Hant-TW.toml, zh-Hant-TW: zh-TW is written in Hant unless its tag says otherwise)`},
		{"sr-ME sr-Latn-ME", `second catalog for sr-ME`},
		{"ja-Jpan", `locales/ja.toml: second catalog for ja`}, // beside the bundled ja.toml
		{"de-Latn", `second catalog for de`},
		// Other scripts, other regions: catalogs of their own.
		{"zh zh-Hant", ""},
		{"sr sr-Latn", ""},
		{"sr-ME sr-Cyrl-ME", ""},
		{"zh-Hant zh-TW", ""},
		{"pt pt-BR", ""},
		{"en-US en-GB", ""},
	}
	for _, tt := range tests {
		t.Run(tt.files, func(t *testing.T) {
			t.Parallel()
			_, err := New(Config{Templates: templates.FS, Locales: catalogsNamed(t, strings.Fields(tt.files)...), Template: "welcome", DefaultLocale: "en"})
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("New with catalogs %s: %v; want both loaded", tt.files, err)
				}
				return
			}
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(fe.Error(), tt.msg) {
				t.Fatalf("New with catalogs %s: %v; want a *FileError with %q", tt.files, err, tt.msg)
			}
		})
	}
}
