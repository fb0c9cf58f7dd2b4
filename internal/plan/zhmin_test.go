package plan

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tidings-mail/tidings/internal/render"
)

// TestZhMinIsNotChinese: zh-min, the registry's grandfathered tag for the
// Min varieties of Chinese (no Preferred-Value), is read by x/text as nan
// (Min Nan). By the locale rule (same base language, or an alias) it is
// not zh: beside zh, zh-Hant and zh-TW catalogs, a zh-min or
// zh-min-nan recipient is refused, saying no catalog for nan, never
// sent Mandarin. And no nan catalog can load (go-i18n has no plural
// rules for nan), so x/text's reading of zh-min as nan sends nobody Min
// Nan text meant for another Min language either: only an alias in the
// campaign file (reviewed) maps it.
func TestZhMinIsNotChinese(t *testing.T) {
	t.Parallel()
	tmpl := fstest.MapFS{
		"m/subject.tmpl": {Data: []byte(`{{t "subject" .}}`)},
		"m/text.tmpl":    {Data: []byte(`{{t "hello" .}}`)},
		"m/html.tmpl":    {Data: []byte(`<p>{{t "hello" .}}</p>`)},
	}
	catalog := func(langs ...string) fstest.MapFS {
		loc := fstest.MapFS{}
		for _, lang := range langs {
			loc[lang+".toml"] = &fstest.MapFile{Data: fmt.Appendf(nil, "[subject]\nother = \"%s\"\n[hello]\nother = \"%s {{.Name}}\"\n", lang, lang)}
		}
		return loc
	}
	e, err := render.New(render.Config{Templates: tmpl, Locales: catalog("en", "zh", "zh-Hant", "zh-TW"), Template: "m", DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	rows := "email,locale\na@example.com,zh-min\nb@example.com,zh-min-nan\nc@example.com,ZH-MIN\n"
	s, err := Run(context.Background(), Input{Campaign: testCampaign(t, ""), Engine: e, RecipientsName: "r.csv", Recipients: strings.NewReader(rows)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Accepted != 0 || s.Refused != 3 {
		t.Errorf("accepted %d, refused %d; want 0, 3 (per locale: %+v)", s.Accepted, s.Refused, s.PerLocale)
	}
	for _, r := range s.Rejects {
		if !strings.Contains(r.Reason, "no catalog for nan") {
			t.Errorf("%s refused for %q; want no catalog for nan", r.Locale, r.Reason)
		}
	}
	if _, err := render.New(render.Config{Templates: tmpl, Locales: catalog("en", "nan"), Template: "m", DefaultLocale: "en"}); err == nil {
		t.Errorf("a nan catalog loads: zh-min (any Min language) would be sent it; refuse zh-min, or map it only by alias")
	}
}
