package plan

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/render"
)

// TestLegacyTagsPlan is what plan prints and writes for the locales a
// migration of 200,000 users brings from older systems, against catalogs
// named with legacy and macrolanguage codes (iw.toml is he, cmn.toml is zh,
// no.toml stays no, zh-TW.toml is Traditional Chinese), in
// testdata/legacy-tags.golden. A reviewer reads there that Serbo-Croatian
// (sh, hbs) is refused rather than sent the sr-Latn catalog, that iw, cmn
// and zh-guoyu go to he and zh, that nb and nn are refused beside a no
// catalog with the alias to write, that yue is not Chinese of zh-TW, and
// that lookalike characters are named. The counts are checked here too.
func TestLegacyTagsPlan(t *testing.T) {
	t.Parallel()
	tmpl := fstest.MapFS{
		"m/subject.tmpl": {Data: []byte(`{{t "subject" .}}`)},
		"m/text.tmpl":    {Data: []byte(`{{t "hello" .}}`)},
		"m/html.tmpl":    {Data: []byte(`<p>{{t "hello" .}}</p>`)},
	}
	loc := fstest.MapFS{}
	for _, lang := range []string{"en", "hr", "sr-Latn", "iw", "cmn", "no", "zh-TW"} {
		loc[lang+".toml"] = &fstest.MapFile{Data: fmt.Appendf(nil, "[subject]\nother = \"%s\"\n[hello]\nother = \"%s {{.Name}}\"\n", lang, lang)}
	}
	e, err := render.New(render.Config{Templates: tmpl, Locales: loc, Template: "m", DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	locales := []string{"sh", "hbs", "hr", "sr-Latn", "sr-ME", "iw", "he-IL", "cmn", "zh-guoyu", "zh-cmn-Hant", "zh-Hant-TW", "zh-HK",
		"yue", "zh-yue", "no", "nb", "nn", "no-bok", "en_US.UTF-8", "EN-us", "en-GB-oed", "x-private", "mul", "zxx", "und",
		"en;q=0.8", "\u0435n", "ｅｎ", "i-klingon"}
	var rows strings.Builder
	rows.WriteString("email,locale\n")
	for i, l := range locales {
		fmt.Fprintf(&rows, "u%d@example.com,%s\n", i, l)
	}
	in := Input{Campaign: testCampaign(t, ""), Engine: e, RecipientsName: "r.csv", Recipients: strings.NewReader(rows.String())}
	s, err := Run(context.Background(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"hr": 1, "sr-Latn": 2, "he": 2, "zh": 2, "zh-TW": 3, "no": 1, "en": 2}
	got := s.AcceptedPerLanguage()
	for lang, n := range want {
		if got[lang] != n {
			t.Errorf("accepted in %s: %d; want %d (all: %v)", lang, got[lang], n, got)
		}
	}
	accepted := 0
	for lang, n := range got {
		if n > 0 && want[lang] == 0 {
			t.Errorf("accepted in %s: %d; want none", lang, n)
		}
		accepted += n
	}
	if accepted != 13 || s.Refused != len(locales)-13 {
		t.Errorf("accepted %v, %d refused; want %v, %d refused", got, s.Refused, want, len(locales)-13)
	}
	// --format json says how each was matched, as the table does: iw and
	// cmn by an equivalence (iw is he), not exactly.
	for _, l := range s.PerLocale {
		want := map[string]string{"iw": render.ViaEquivalent, "cmn": render.ViaEquivalent, "zh-guoyu": render.ViaEquivalent, "hr": render.ViaExact, "he-IL": render.ViaMatch}[l.Requested]
		if want != "" && l.Via != want {
			t.Errorf("per-locale %s: via %q; want %q", l.Requested, l.Via, want)
		}
	}
	var text, csv bytes.Buffer
	if err := s.WriteText(&text, 40); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteRejectsCSV(&csv); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "legacy-tags.golden"), text.String()+"--- rejects\n"+csv.String())
}
