package render

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"unsafe"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

// localesWith returns the bundled catalogs plus extra files.
func localesWith(t *testing.T, extra map[string]string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(locales.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(locales.FS, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return m
}

// catalogLike returns the en catalog's text, for extra languages in tests.
func catalogLike(t *testing.T, lang string) string {
	t.Helper()
	b, err := fs.ReadFile(locales.FS, lang+".toml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newEngine(t *testing.T, loc fs.FS, p Policy) *Engine {
	t.Helper()
	e, err := New(Config{Templates: templates.FS, Locales: loc, Template: "welcome", DefaultLocale: "en", Policy: p})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

func TestResolve(t *testing.T) {
	t.Parallel()
	en := catalogLike(t, "en")
	pl, _ := fs.ReadFile(testdataLocales(t), "pl.toml")
	pt, _ := fs.ReadFile(testdataLocales(t), "pt.toml")
	// The catalog set: the bundled languages, plus nb, zh (Hans), sr
	// (Cyrillic), pt (missing a key) and pl (missing a plural form).
	set := localesWith(t, map[string]string{"nb.toml": en, "zh.toml": en, "sr.toml": catalogLike(t, "ru"), "pl.toml": string(pl), "pt.toml": string(pt)})
	strict := newEngine(t, set, Policy{})
	aliased := newEngine(t, set, Policy{Aliases: map[string]string{"GSW": "de", "de_LI": "fr", "sh": "sr"}, MissingLocale: "en"})
	bundled := newEngine(t, locales.FS, Policy{MissingLocale: "refuse"})

	tests := []struct {
		name      string
		e         *Engine
		requested string
		lang, via string // accepted
		reason    string // refused
		code      string
	}{
		{"en", strict, "en", "en", ViaExact, "", ""},
		{"en-GB", strict, "en-GB", "en", ViaMatch, "", ""},
		{"EN-us", strict, "EN-us", "en", ViaMatch, "", ""},
		{"en_US underscore", strict, "en_US", "en", ViaMatch, "", ""},
		{"spaces", strict, "  de ", "de", ViaExact, "", ""},
		{"de-CH", strict, "de-CH", "de", ViaMatch, "", ""},
		{"de-AT", strict, "de-AT", "de", ViaMatch, "", ""},
		{"fr-CA", strict, "fr-CA", "fr", ViaMatch, "", ""},
		{"fr-BE", strict, "fr-BE", "fr", ViaMatch, "", ""},
		{"it-CH", strict, "it-CH", "it", ViaMatch, "", ""},
		{"ja", strict, "ja-JP", "ja", ViaMatch, "", ""},
		{"ar", strict, "ar-EG", "ar", ViaMatch, "", ""},
		{"pt-BR no pt catalog", bundled, "pt-BR", "", "", "not-covered: no catalog for pt-BR", CodeNotCovered},
		{"pt no catalog", bundled, "pt", "", "", "not-covered: no catalog for pt", CodeNotCovered},
		{"pt-BR incomplete pt", strict, "pt-BR", "", "", "incomplete: pt lacks welcome.reregister", CodeIncomplete},
		{"rm is not de", strict, "rm", "", "", "not-covered: no catalog for rm", CodeNotCovered},
		{"gsw without alias", strict, "gsw", "", "", "not-covered: no catalog for gsw", CodeNotCovered},
		{"gsw with alias", aliased, "gsw", "de", ViaAlias, "", ""},
		{"gsw-CH alias case", aliased, "Gsw", "de", ViaAlias, "", ""},
		{"alias key canonicalised", aliased, "de-li", "fr", ViaAlias, "", ""},
		{"an alias names one locale", aliased, "gsw-CH", "", "", "not-covered: no catalog for gsw-CH (the alias of gsw covers gsw only: add gsw-CH to locale_policy.aliases to map it too)", CodeNotCovered},
		{"da is not nb", strict, "da", "", "", "not-covered: no catalog for da", CodeNotCovered},
		{"nb", strict, "nb-NO", "nb", ViaMatch, "", ""},
		{"no is not nb without alias", strict, "no", "", "", "not-covered: no catalog for no (no is Norwegian, written as nb Bokmål or nn Nynorsk: tidings does not choose; if this recipient reads the nb catalog, add no: nb to locale_policy.aliases)", CodeNotCovered},
		{"zh-Hant-TW is not zh (Hans)", strict, "zh-Hant-TW", "", "", "not-covered: no catalog for zh-Hant-TW", CodeNotCovered},
		{"zh-TW is not zh (Hans)", strict, "zh-TW", "", "", "not-covered: no catalog for zh-TW", CodeNotCovered},
		{"zh-CN is zh", strict, "zh-CN", "zh", ViaMatch, "", ""},
		{"sr-Latn is not sr (Cyrillic)", strict, "sr-Latn", "", "", "not-covered: no catalog for sr-Latn", CodeNotCovered},
		{"sr", strict, "sr-RS", "sr", ViaMatch, "", ""},
		{"klingon matches en at High, other base", strict, "i-klingon", "", "", "not-covered: no catalog for tlh", CodeNotCovered},
		{"und", strict, "und", "", "", "not-covered: no catalog for und (it says the recipient has no language: write theirs, such as de or pt-BR, or map such locales with locale_policy.missing_locale)", CodeNotCovered},
		{"und-CH names no language (x/text guesses de)", strict, "und-CH", "", "", "not-covered: no catalog for und-CH", CodeNotCovered},
		{"und-Latn names no language (x/text guesses en)", strict, "und-Latn", "", "", "not-covered: no catalog for und-Latn", CodeNotCovered},
		{"empty", strict, "", "", "", "empty locale", CodeEmpty},
		{"blank", strict, "   ", "", "", "empty locale", CodeEmpty},
		{"empty refuse explicit", bundled, "", "", "", "empty locale", CodeEmpty},
		{"garbage", strict, "xx-garbage!!", "", "", `unparsable locale "xx-garbage!!"`, CodeUnparsable},
		{"posix", strict, "de_CH.UTF-8", "", "", `unparsable locale "de_CH.UTF-8" (a POSIX locale: as a language tag it is de-CH; fix the file, or map it with locale_policy.aliases)`, CodeUnparsable},
		{"posix C", strict, "C.UTF-8", "", "", `unparsable locale "C.UTF-8" (a POSIX locale that names no language: write the recipient's language, such as de or pt-BR)`, CodeUnparsable},
		{"posix garbage", strict, "x!.UTF-8", "", "", `unparsable locale "x!.UTF-8"`, CodeUnparsable},
		{"unknown language", strict, "xx-YY", "", "", `unknown language "xx" in locale "xx-YY": no registry has that code; fix the file (such as de or pt-BR)`, CodeUnparsable},
		{"unknown region", strict, "de-YY", "", "", `unknown subtag "YY" in locale "de-YY": no registry has that code; fix the file (such as de or pt-BR)`, CodeUnparsable},
		{"unknown script", strict, "de-Zzzq", "", "", `unknown subtag "Zzzq" in locale "de-Zzzq": no registry has that code; fix the file (such as de or pt-BR)`, CodeUnparsable},
		{"empty mapped", aliased, "", "en", ViaMissingLocale, "", ""},
		// missing_locale takes a locale that says there is none, in the
		// spellings exports write; anything else that does not parse may
		// name a language in a spelling x/text does not read (a red team:
		// de/CH, Deutsch), so it is refused, whatever it looks like.
		{"garbage not mapped", aliased, "xx-garbage!!", "", "", `unparsable locale "xx-garbage!!"; missing_locale maps only a locale that says there is none (empty, C or POSIX, und, i-default, n/a, none, null, nil, unknown, undefined, -, --, ?, *): map this spelling with locale_policy.aliases if it is one`, CodeUnparsable},
		{"und mapped", aliased, "und", "en", ViaMissingLocale, "", ""},
		{"zero-width space named", strict, "de\u200b", "", "", `unparsable locale "de\u200b" (it holds the invisible character U+200B at byte 2: remove it)`, CodeUnparsable},
		{"no-break space named", strict, "de\u00a0CH", "", "", `unparsable locale "de\u00a0CH" (it holds the invisible character U+00A0 at byte 2: remove it)`, CodeUnparsable},
		{"POSIX mapped", aliased, "POSIX", "en", ViaMissingLocale, "", ""},
		{"C with a modifier mapped", aliased, "C@euro", "en", ViaMissingLocale, "", ""},
		{"NULL mapped", aliased, " NULL ", "en", ViaMissingLocale, "", ""},
		{"unknown mapped", aliased, "Unknown", "en", ViaMissingLocale, "", ""},
		{"a dash mapped", aliased, "-", "en", ViaMissingLocale, "", ""},
		{"C-like word not mapped", aliased, "Ch", "", "", `not-covered: no catalog for ch`, CodeNotCovered},
		{"posix C mapped", aliased, "C.UTF-8", "en", ViaMissingLocale, "", ""},
		{"i-default mapped", aliased, "I-Default", "en", ViaMissingLocale, "", ""},
		{"i-default names no language (x/text reads en)", strict, "i-default", "", "", `locale "i-default" names no language (it asks for a default one, which x/text reads as English): write the recipient's language, such as de or pt-BR, or map such locales with locale_policy.missing_locale`, CodeUnparsable},
		{"words mapped", aliased, "n/a", "en", ViaMissingLocale, "", ""},
		// missing_locale is for recipients without a language: one whose
		// locale names a language in a spelling that does not parse is
		// refused, not sent another language.
		{"posix names de: not mapped", aliased, "de_CH.UTF-8", "", "", `unparsable locale "de_CH.UTF-8" (a POSIX locale: as a language tag it is de-CH; fix the file, or map it with locale_policy.aliases); missing_locale maps only a locale that says there is none (empty, C or POSIX, und, i-default, n/a, none, null, nil, unknown, undefined, -, --, ?, *): map this spelling with locale_policy.aliases if it is one`, CodeUnparsable},
		{"posix names fr: not mapped", aliased, "fr-FR.utf8", "", "", `unparsable locale "fr-FR.utf8" (a POSIX locale: as a language tag it is fr-FR; fix the file, or map it with locale_policy.aliases); missing_locale maps only a locale that says there is none (empty, C or POSIX, und, i-default, n/a, none, null, nil, unknown, undefined, -, --, ?, *): map this spelling with locale_policy.aliases if it is one`, CodeUnparsable},
		{"posix names ja: not mapped", aliased, "ja_JP.eucJP", "", "", `unparsable locale "ja_JP.eucJP" (a POSIX locale: as a language tag it is ja-JP; fix the file, or map it with locale_policy.aliases); missing_locale maps only a locale that says there is none (empty, C or POSIX, und, i-default, n/a, none, null, nil, unknown, undefined, -, --, ?, *): map this spelling with locale_policy.aliases if it is one`, CodeUnparsable},
		{"stray dash: not mapped", aliased, "ru-RU-", "", "", `unparsable locale "ru-RU-"; missing_locale maps only a locale that says there is none (empty, C or POSIX, und, i-default, n/a, none, null, nil, unknown, undefined, -, --, ?, *): map this spelling with locale_policy.aliases if it is one`, CodeUnparsable},
		{"stray dash ar: not mapped", aliased, "ar-EG-", "", "", `unparsable locale "ar-EG-"; missing_locale maps only a locale that says there is none (empty, C or POSIX, und, i-default, n/a, none, null, nil, unknown, undefined, -, --, ?, *): map this spelling with locale_policy.aliases if it is one`, CodeUnparsable},
		{"region twice: not mapped", aliased, "pl-PL-PL", "", "", `unparsable locale "pl-PL-PL"; missing_locale maps only a locale that says there is none (empty, C or POSIX, und, i-default, n/a, none, null, nil, unknown, undefined, -, --, ?, *): map this spelling with locale_policy.aliases if it is one`, CodeUnparsable},
		{"unknown region: not mapped", aliased, "de-YY", "", "", `unknown subtag "YY" in locale "de-YY": no registry has that code; fix the file (such as de or pt-BR); missing_locale maps only a locale that says there is none (empty, C or POSIX, und, i-default, n/a, none, null, nil, unknown, undefined, -, --, ?, *): map this spelling with locale_policy.aliases if it is one`, CodeUnparsable},
		{"three-letter code: not mapped", aliased, "deu_DE.UTF-8", "", "", `unparsable locale "deu_DE.UTF-8" (a POSIX locale: as a language tag it is de-DE; fix the file, or map it with locale_policy.aliases); missing_locale maps only a locale that says there is none (empty, C or POSIX, und, i-default, n/a, none, null, nil, unknown, undefined, -, --, ?, *): map this spelling with locale_policy.aliases if it is one`, CodeUnparsable},
		// An alias names a spelling, not what x/text rewrites it to: sh
		// (Serbo-Croatian) parses as sr-Latn, and so does hbs.
		{"alias sh", aliased, "SH", "sr", ViaAlias, "", ""},
		{"alias sh does not take sr-Latn", aliased, "sr-Latn", "", "", "not-covered: no catalog for sr-Latn", CodeNotCovered},
		{"alias sh does not take SR_latn", aliased, "SR_latn", "", "", "not-covered: no catalog for sr-Latn", CodeNotCovered},
		{"alias sh does not take hbs", aliased, "hbs", "", "", `not-covered: locale "hbs" is Serbo-Croatian, which is Serbian, Croatian, Bosnian or Montenegrin (x/text reads it as sr-Latn): tidings does not choose; map it with locale_policy.aliases, such as hbs: hr`, CodeNotCovered},
		{"missing plural form", strict, "pl-PL", "", "", "incomplete: pl lacks welcome.posts (few)", CodeIncomplete},
		{"pl complete in bundle", bundled, "pl", "pl", ViaExact, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := tt.e.Resolve(tt.requested)
			if tt.reason != "" {
				var ref *Refusal
				if !errors.As(err, &ref) {
					t.Fatalf("Resolve(%q) = %+v, %v; want refusal %q", tt.requested, m, err, tt.reason)
				}
				// The reason says what to do after what is wrong (Fix):
				// TestRefusalsSayWhatToDo and plan's TestEveryRejectSaysWhatToDo
				// check that end.
				if ref.Short() != tt.reason || ref.Code != tt.code || err.Error() != ref.Reason || !errors.Is(err, ErrLocaleNotCovered) {
					t.Errorf("Resolve(%q) refusal = %+v; want code %s reason %q", tt.requested, ref, tt.code, tt.reason)
				}
				if m != (Match{}) {
					t.Errorf("refused Resolve(%q) returned match %+v", tt.requested, m)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tt.requested, err)
			}
			want := Match{Requested: tt.requested, Lang: tt.lang, Via: tt.via}
			if m != want {
				t.Errorf("Resolve(%q) = %+v, want %+v", tt.requested, m, want)
			}
		})
	}
}

func testdataLocales(t *testing.T) fs.FS {
	t.Helper()
	return osDirFS("../../testdata/locales-incomplete")
}

// TestRenderNeverFallsBack proves that no Match can make Render produce a
// language other than the recipient's own, including go-i18n's silent
// fallback to the default language.
func TestRenderNeverFallsBack(t *testing.T) {
	t.Parallel()
	e := newEngine(t, testdataLocales(t), Policy{})
	d := Data{Name: "Ana", Email: "ana@example.com", Fields: map[string]string{"posts": "3"}, Data: map[string]any{"reregister_url": "https://x.example/r"}}
	tests := []struct {
		name string
		m    Match
		code string
	}{
		{"incomplete language", Match{Requested: "pt", Lang: "pt", Via: ViaExact}, CodeIncomplete},
		{"incomplete via region", Match{Requested: "pt-BR", Lang: "pt", Via: ViaMatch}, CodeIncomplete},
		{"forged default language", Match{Requested: "pt-BR", Lang: "en", Via: ViaMatch}, CodeIncomplete},
		{"no catalog", Match{Requested: "rm", Lang: "rm", Via: ViaExact}, CodeNotCovered},
		{"no catalog forged to neighbour", Match{Requested: "rm", Lang: "de", Via: ViaMatch}, CodeNotCovered},
		{"other language", Match{Requested: "de-CH", Lang: "fr", Via: ViaMatch}, CodeNotCovered},
		{"missing plural form", Match{Requested: "pl", Lang: "pl", Via: ViaExact}, CodeIncomplete},
		{"empty", Match{Lang: "en"}, CodeEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := e.Render(tt.m, d)
			var ref *Refusal
			if !errors.As(err, &ref) || ref.Code != tt.code {
				t.Fatalf("Render(%+v) = %q, %v; want refusal %s", tt.m, r.Subject, err, tt.code)
			}
			if r != (Rendered{}) {
				t.Errorf("refused Render returned content: %+v", r)
			}
		})
	}

	// go-i18n itself silently answers in English for a key pt lacks...
	pt := e.byLang["pt"]
	ref := newReference(t, e, templates.FS, testdataLocales(t))
	s, tag, _ := ref.localizer("pt").LocalizeWithTag(&i18n.LocalizeConfig{MessageID: "welcome.reregister"})
	if tag.String() != "en" || s != "Re-register now" {
		t.Fatalf("expected go-i18n to fall back to en, got %q in %s", s, tag)
	}
	// ...and the engine's own localization refuses it.
	v := &view{Name: "Ana", RequestedLocale: "pt"}
	got, err := pt.localize("welcome.reregister", v, nil)
	if !errors.Is(err, ErrLocaleNotCovered) || got != "" {
		t.Fatalf("localize of a key pt lacks = %q, %v; want refusal", got, err)
	}
}

func TestRenderData(t *testing.T) {
	t.Parallel()
	e := newEngine(t, locales.FS, Policy{})
	base := Data{ID: "u1", Email: "x@example.com", Name: "<b>x</b> & \"q\"", Campaign: "c",
		Fields: map[string]string{"posts": "21"}, Data: map[string]any{"reregister_url": "https://altea.example/r?a=1&b=2"}}

	m, err := e.Resolve("de-CH")
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Render(m, base)
	if err != nil {
		t.Fatal(err)
	}
	if r.Lang != "de" {
		t.Errorf("Lang = %s", r.Lang)
	}
	if strings.Contains(r.HTML, "<b>x</b>") || !strings.Contains(r.HTML, "Hallo &lt;b&gt;x&lt;/b&gt; &amp; &#34;q&#34;,") {
		t.Errorf("name not escaped exactly once in HTML:\n%s", r.HTML)
	}
	if !strings.Contains(r.Text, "Hallo <b>x</b> & \"q\",") {
		t.Errorf("text should carry the name verbatim:\n%s", r.Text)
	}
	if !strings.Contains(r.HTML, `href="https://altea.example/r?a=1&amp;b=2"`) {
		t.Errorf("URL not attribute-escaped:\n%s", r.HTML)
	}
	if !strings.Contains(r.Text, "Ihre 21 Beiträge") || !strings.Contains(r.HTML, `lang="de" dir="ltr"`) {
		t.Errorf("plural or lang missing:\n%s", r.HTML)
	}

	ar, _ := e.Resolve("ar")
	r, err = e.Render(ar, base)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.HTML, `lang="ar" dir="rtl"`) {
		t.Errorf("Arabic HTML is not rtl")
	}

	// Missing recipient data is an error, never "<no value>".
	noPosts := base
	noPosts.Fields = map[string]string{}
	if _, err := e.Render(m, noPosts); err == nil || errors.Is(err, ErrLocaleNotCovered) || !strings.Contains(err.Error(), "posts") {
		t.Errorf("missing column: err = %v", err)
	}
	bad := base
	bad.Fields = map[string]string{"posts": "many"}
	if _, err := e.Render(m, bad); err == nil || !strings.Contains(err.Error(), `count "many" is not a whole number`) {
		t.Errorf("bad count: err = %v", err)
	}
}

func TestRenderMessagesCannotInject(t *testing.T) {
	t.Parallel()
	tmpl := fstest.MapFS{
		"m/subject.tmpl": {Data: []byte("{{t \"s\" .}}\n")},
		"m/html.tmpl":    {Data: []byte(`<p title="{{t "s" .}}">{{t "g" .}}</p>{{range $k, $v := .Fields}}{{t "g" $}}{{end}}`)},
		"m/text.tmpl":    {Data: []byte(`{{t "g" .}} {{tc "n" 2 .}}`)},
	}
	loc := fstest.MapFS{"en.toml": {Data: []byte(`
[s]
other = "Hi {{.Name}}"
[g]
other = "<i>Hello</i> {{.Name}} <script>alert(1)</script>"
[n]
one = "{{.Count}} item"
other = "{{.Count}} items"
`)}}
	e, err := New(Config{Templates: tmpl, Locales: loc, Template: "m"})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := e.Resolve("en")
	r, err := e.Render(m, Data{Name: "Eve\r\nBcc: victim@example.com\t\u2028x", Fields: map[string]string{"a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "Hi Eve Bcc: victim@example.com x" {
		t.Errorf("subject = %q", r.Subject)
	}
	for _, bad := range []string{"<i>", "<script>"} {
		if strings.Contains(r.HTML, bad) {
			t.Errorf("catalog markup %s reached the HTML: %s", bad, r.HTML)
		}
	}
	if !strings.Contains(r.HTML, "&lt;i&gt;Hello&lt;/i&gt;") || !strings.Contains(r.Text, "2 items") {
		t.Errorf("html %q text %q", r.HTML, r.Text)
	}
}

func TestHashAndSnapshot(t *testing.T) {
	t.Parallel()
	e := newEngine(t, locales.FS, Policy{})
	snap, err := Snapshot(templates.FS, locales.FS, "welcome")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"templates/welcome/subject.tmpl", "templates/welcome/html.tmpl", "templates/welcome/text.tmpl",
		"locales/ar.toml", "locales/de.toml", "locales/en.toml", "locales/es.toml", "locales/fr.toml",
		"locales/it.toml", "locales/ja.toml", "locales/pl.toml", "locales/ru.toml"}
	if len(snap) != len(want) {
		t.Errorf("snapshot has %d files, want %d", len(snap), len(want))
	}
	for _, k := range want {
		if _, ok := snap[k]; !ok {
			t.Errorf("snapshot lacks %s", k)
		}
	}
	if hashFiles(snap) != e.Hash() || len(e.Hash()) != 64 {
		t.Errorf("Hash does not cover the snapshot")
	}
	tf, lf := FromSnapshot(snap)
	e2, err := New(Config{Templates: tf, Locales: lf, Template: "welcome", DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if e2.Hash() != e.Hash() {
		t.Errorf("hash from snapshot %s != %s", e2.Hash(), e.Hash())
	}
	snap["locales/de.toml"] = append(append([]byte(nil), snap["locales/de.toml"]...), '\n')
	tf, lf = FromSnapshot(snap)
	e3, err := New(Config{Templates: tf, Locales: lf, Template: "welcome", DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if e3.Hash() == e.Hash() {
		t.Errorf("hash ignores a catalog change")
	}
}

func TestLanguages(t *testing.T) {
	t.Parallel()
	e := newEngine(t, testdataLocales(t), Policy{})
	got := map[string]Coverage{}
	for _, c := range e.Languages() {
		got[c.Lang] = c
	}
	if c := got["pt"]; c.Covered || strings.Join(c.Missing, ",") != "welcome.reregister" || c.File != "locales/pt.toml" {
		t.Errorf("pt coverage = %+v", c)
	}
	if c := got["pl"]; c.Covered || strings.Join(c.Missing, ",") != "welcome.posts (few)" {
		t.Errorf("pl coverage = %+v", c)
	}
	if c := got["ar"]; !c.Covered || len(got) != 10 {
		t.Errorf("ar coverage = %+v, %d languages", c, len(got))
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	good := fstest.MapFS{
		"w/subject.tmpl": {Data: []byte(`{{t "s" .}}`)},
		"w/html.tmpl":    {Data: []byte(`<p>{{t "s" .}}</p>`)},
		"w/text.tmpl":    {Data: []byte(`{{t "s" .}}`)},
	}
	with := func(name, content string) fstest.MapFS {
		m := fstest.MapFS{}
		for k, v := range good {
			m[k] = v
		}
		m[name] = &fstest.MapFile{Data: []byte(content)}
		return m
	}
	en := fstest.MapFS{"en.toml": {Data: []byte("[s]\nother = \"Hi\"\n")}}
	tests := []struct {
		name     string
		cfg      Config
		sentinel error
		file     string
		line     int
		contains string
	}{
		{"unknown template", Config{Templates: good, Locales: en, Template: "nope"}, ErrUnknownTemplate, "", 0, `unknown template "nope" (templates: w): name one of those`},
		{"template syntax", Config{Templates: with("w/html.tmpl", "<p>\n{{t \"s\" .}\n"), Locales: en, Template: "w"}, nil, "templates/w/html.tmpl", 2, "template syntax error"},
		{"missing file", Config{Templates: fstest.MapFS{"w/subject.tmpl": good["w/subject.tmpl"]}, Locales: en, Template: "w"}, nil, "templates/w/html.tmpl", 0, "needs subject.tmpl"},
		{"dynamic key", Config{Templates: with("w/text.tmpl", "\n{{t .Name .}}"), Locales: en, Template: "w"}, nil, "templates/w/text.tmpl", 2, "quoted string"},
		{"unknown field", Config{Templates: with("w/text.tmpl", "{{.Nmae}}"), Locales: en, Template: "w"}, nil, "templates/w/text.tmpl", 1, "unknown field .Nmae"},
		{"toml error", Config{Templates: good, Locales: fstest.MapFS{"en.toml": {Data: []byte("[s]\nother = \"Hi\"\n[s\n")}}, Template: "w"}, nil, "locales/en.toml", 4, "catalog syntax error"},
		{"json error", Config{Templates: good, Locales: fstest.MapFS{"en.json": {Data: []byte("{\n\"s\": \n}")}}, Template: "w"}, nil, "locales/en.json", 3, "catalog syntax error"},
		{"yaml error", Config{Templates: good, Locales: fstest.MapFS{"en.yaml": {Data: []byte("s:\n  other: \"Hi\n  x: [\n")}}, Template: "w"}, nil, "locales/en.yaml", 0, "catalog syntax error"},
		{"bad message template", Config{Templates: good, Locales: fstest.MapFS{"en.toml": {Data: []byte("\n[s]\nother = \"Hi {{.Name\"\n")}}, Template: "w"}, nil, "locales/en.toml", 2, "not a valid template"},
		{"bad catalog name", Config{Templates: good, Locales: fstest.MapFS{"english!.toml": {Data: []byte("")}}, Template: "w"}, nil, "locales/english!.toml", 0, "not a language tag"},
		{"no default catalog", Config{Templates: good, Locales: en, Template: "w", DefaultLocale: "de"}, ErrNoCatalog, "", 0, `default_locale: no catalog for "de" (catalogs: en): add de.toml to the locales directory`},
		{"alias to nothing", Config{Templates: good, Locales: en, Template: "w", Policy: Policy{Aliases: map[string]string{"gsw": "de"}}}, ErrNoCatalog, "", 0, `locale_policy.aliases.gsw: no catalog for "de" (catalogs: en)`},
		{"missing locale to nothing", Config{Templates: good, Locales: en, Template: "w", Policy: Policy{MissingLocale: "fr"}}, ErrNoCatalog, "", 0, `locale_policy.missing_locale: no catalog for "fr" (catalogs: en)`},
		{"no catalogs", Config{Templates: good, Locales: fstest.MapFS{}, Template: "w"}, ErrNoCatalog, "", 0, ""},
		{"nil fs", Config{Template: "w"}, nil, "", 0, "no templates directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.cfg)
			if err == nil {
				t.Fatal("New succeeded")
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("err = %v, want %v", err, tt.sentinel)
			}
			if tt.file != "" {
				var fe *FileError
				if !errors.As(err, &fe) || fe.File != tt.file || (tt.line > 0 && fe.Line != tt.line) {
					t.Errorf("err = %#v (%v), want file %s line %d", fe, err, tt.file, tt.line)
				}
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("err = %q, want it to contain %q", err, tt.contains)
			}
		})
	}
}

func TestCatalogFormats(t *testing.T) {
	t.Parallel()
	tmpl := fstest.MapFS{
		"w/subject.tmpl": {Data: []byte(`{{t "a.s" .}}`)},
		"w/html.tmpl":    {Data: []byte(`{{tc "a.n" .Fields.n .}}`)},
		"w/text.tmpl":    {Data: []byte(`{{t "a.s" .}}`)},
	}
	loc := fstest.MapFS{
		"en.json":        {Data: []byte(`{"a": {"s": "Hi {{.Name}}", "n": {"one": "{{.Count}} thing", "other": "{{.Count}} things"}}}`)},
		"de.yaml":        {Data: []byte("a.s: Hallo {{.Name}}\na.n:\n  one: \"{{.Count}} Ding\"\n  other: \"{{.Count}} Dinge\"\n")},
		"active.ja.yml":  {Data: []byte("a.s: \"{{.Name}}さん\"\na.n:\n  other: \"{{.Count}}件\"\n")},
		"README.md":      {Data: []byte("not a catalog")},
		"ru.toml":        {Data: []byte("[a]\ns = \"Привет, {{.Name}}\"\n[a.n]\none = \"{{.Count}} вещь\"\nfew = \"{{.Count}} вещи\"\nother = \"{{.Count}} вещи\"\n")},
		"sub/xx.toml.go": {Data: []byte("ignored")},
	}
	e, err := New(Config{Templates: tmpl, Locales: loc, Template: "w"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ lang, n, html string }{{"en", "1", "1 thing"}, {"de", "2", "2 Dinge"}, {"ja", "1", "1件"}} {
		m, err := e.Resolve(tt.lang)
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.Render(m, Data{Name: "N", Fields: map[string]string{"n": tt.n}})
		if err != nil || r.HTML != tt.html {
			t.Errorf("%s: %q, %v", tt.lang, r.HTML, err)
		}
	}
	if _, err := e.Resolve("ru"); err == nil || !strings.HasPrefix(err.Error(), "incomplete: ru lacks a.n (many): ") {
		t.Errorf("ru: %v", err)
	}
}

// TestResolveKeepsACopy: the engine's cache of resolutions keeps a copy of
// the requested locale, not the caller's string: a worker's recipients are
// slices of their ~30 KB chunk, which a cached slice would keep alive for
// as long as the engine lives.
func TestResolveKeepsACopy(t *testing.T) {
	e := newEngine(t, locales.FS, Policy{MissingLocale: "refuse"})
	chunk := `{"o":"de-CH","x":"` + strings.Repeat("x", 1000) + `"}`
	requested := chunk[6:11] // "de-CH", inside chunk
	m, err := e.Resolve(requested)
	if err != nil {
		t.Fatal(err)
	}
	start := uintptr(unsafe.Pointer(unsafe.StringData(chunk)))
	p := uintptr(unsafe.Pointer(unsafe.StringData(m.Requested)))
	if m.Requested != "de-CH" || (p >= start && p < start+uintptr(len(chunk))) {
		t.Errorf("Resolve kept %q at %#x, inside the caller's string at %#x (+%d)", m.Requested, p, start, len(chunk))
	}
}
