package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/tidings-mail/tidings/locales"
	"golang.org/x/text/language"
)

func TestPluralMessages(t *testing.T) {
	t.Parallel()
	e := newEngine(t, locales.FS, Policy{})
	if got := strings.Join(e.PluralMessages(), ","); got != "welcome.posts" {
		t.Errorf("PluralMessages = %q", got)
	}
	tmpl := fstest.MapFS{
		"w/subject.tmpl": {Data: []byte(`{{t "s" .}} {{tc "b" 1 .}}`)},
		"w/html.tmpl":    {Data: []byte(`{{tc "a" .Fields.n .}} {{t "b" .}}`)},
		"w/text.tmpl":    {Data: []byte(`{{t "s" .}}`)},
	}
	loc := fstest.MapFS{"en.toml": {Data: []byte("[s]\nother = \"s\"\n[a]\none = \"a\"\nother = \"as\"\n[b]\none = \"b\"\nother = \"bs\"\n")}}
	e, err := New(Config{Templates: tmpl, Locales: loc, Template: "w"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.PluralMessages(), ","); got != "a,b" {
		t.Errorf("PluralMessages = %q, want a,b (b is plural in one of its uses)", got)
	}
}

func TestPluralExamples(t *testing.T) {
	t.Parallel()
	e := newEngine(t, locales.FS, Policy{})
	tests := map[string]string{
		"ru": "one=1 few=2 many=5 other=1.5",
		"pl": "one=1 few=2 many=5 other=1.5",
		"ar": "zero=0 one=1 two=2 few=3 many=11 other=100",
		"fr": "one=1 many=1000000 other=2",
		"es": "one=1 many=1000000 other=2",
		"it": "one=1 many=1000000 other=2",
		"en": "one=1 other=2",
		"DE": "one=1 other=2",
		"ja": "other=1",
		"pt": "", // no catalog
	}
	for lang, want := range tests {
		var got []string
		for _, x := range e.PluralExamples(lang) {
			got = append(got, x.Form+"="+x.Count)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("PluralExamples(%s) = %q, want %q", lang, strings.Join(got, " "), want)
		}
	}
	// Each example selects its form when rendered, through Message, in
	// every bundled language, and the forms are the ones coverage requires.
	for _, c := range e.Languages() {
		l := e.byLang[strings.ToLower(c.Lang)]
		var forms []string
		for _, x := range e.PluralExamples(c.Lang) {
			forms = append(forms, x.Form)
			f, err := l.rule.form(mustCount(t, x.Count))
			if err != nil || pluralForms[f] != x.Form {
				t.Errorf("%s: example %s selects %s, %v", c.Lang, x.Count, pluralForms[f], err)
			}
		}
		if strings.Join(forms, ",") != strings.Join(l.cat.forms, ",") {
			t.Errorf("%s: examples for %v, coverage requires %v", c.Lang, forms, l.cat.forms)
		}
	}
}

func mustCount(t *testing.T, s string) pluralCount {
	t.Helper()
	c, err := parseCount(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMessage(t *testing.T) {
	t.Parallel()
	e := newEngine(t, testdataLocales(t), Policy{Aliases: map[string]string{"gsw": "de"}})
	d := Data{Name: "<b>Ana</b>", Email: "ana@example.com", Fields: map[string]string{"posts": "3"}}
	de := Match{Requested: "de-CH", Lang: "de", Via: ViaMatch}
	ru := Match{Requested: "ru", Lang: "ru", Via: ViaExact}
	tests := []struct {
		name       string
		m          Match
		key, count string
		want       string
		code       string // refusal
		sentinel   error
		errLike    string
	}{
		{"text, not escaped", de, "welcome.greeting", "", "Hallo <b>Ana</b>,", "", nil, ""},
		{"constant", de, "welcome.reregister", "", "Jetzt neu registrieren", "", nil, ""},
		{"plural one", de, "welcome.posts", "1", "Ihr 1 Beitrag wurde übernommen und wartet auf Sie.", "", nil, ""},
		{"plural other", de, "welcome.posts", "12", "Ihre 12 Beiträge wurden übernommen und warten auf Sie.", "", nil, ""},
		{"ru few", ru, "welcome.posts", "2", "Ваши 2 публикации перенесены и ждут вас.", "", nil, ""},
		{"ru many", ru, "welcome.posts", "5", "Ваши 5 публикаций перенесены и ждут вас.", "", nil, ""},
		{"ru other from a decimal", ru, "welcome.posts", "1.5", "Ваши 1.5 публикации перенесены и ждут вас.", "", nil, ""},
		{"alias", Match{Requested: "gsw", Lang: "de", Via: ViaAlias}, "welcome.reregister", "", "Jetzt neu registrieren", "", nil, ""},
		{"incomplete language", Match{Requested: "pt", Lang: "pt"}, "welcome.greeting", "", "", CodeIncomplete, nil, ""},
		{"forged match", Match{Requested: "pt-BR", Lang: "en"}, "welcome.greeting", "", "", CodeIncomplete, nil, ""},
		{"other language", Match{Requested: "de-CH", Lang: "fr"}, "welcome.greeting", "", "", CodeNotCovered, nil, ""},
		{"no catalog", Match{Requested: "rm", Lang: "de"}, "welcome.greeting", "", "", CodeNotCovered, nil, ""},
		{"unknown key", de, "welcome.nope", "", "", "", ErrUnknownMessage, "message welcome.nope in de: unknown message"},
		{"bad count", de, "welcome.posts", "many", "", "", nil, `message welcome.posts: count "many" is not a whole number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := e.Message(tt.m, tt.key, tt.count, d)
			switch {
			case tt.code != "":
				var ref *Refusal
				if !errors.As(err, &ref) || ref.Code != tt.code || got != "" {
					t.Fatalf("Message = %q, %v; want refusal %s", got, err, tt.code)
				}
			case tt.sentinel != nil || tt.errLike != "":
				if err == nil || (tt.sentinel != nil && !errors.Is(err, tt.sentinel)) || !strings.Contains(err.Error(), tt.errLike) {
					t.Fatalf("Message = %q, %v; want %v %q", got, err, tt.sentinel, tt.errLike)
				}
			case err != nil || got != tt.want:
				t.Fatalf("Message = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestRenderErrorsNameTheKey: an error inside a catalog message says which
// message.
func TestRenderErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	tmpl := fstest.MapFS{
		"w/subject.tmpl": {Data: []byte(`{{t "subj" .}}`)},
		"w/html.tmpl":    {Data: []byte(`<p>{{t "greet" .}}</p>`)},
		"w/text.tmpl":    {Data: []byte(`{{tc "posts" .Fields.n .}}`)},
	}
	loc := fstest.MapFS{"en.toml": {Data: []byte("[subj]\nother = \"Hi\"\n[greet]\nother = \"Hi {{.Fields.nickname}}\"\n[posts]\none = \"{{.Count}} post\"\nother = \"{{.Count}} posts\"\n")}}
	e, err := New(Config{Templates: tmpl, Locales: loc, Template: "w"})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := e.Resolve("en")
	_, err = e.Render(m, Data{Fields: map[string]string{"n": "1"}})
	if err == nil || !strings.Contains(err.Error(), "message greet (locales/en.toml:3):") || !strings.Contains(err.Error(), `no column "nickname"`) || !strings.HasPrefix(err.Error(), "templates/w/html.tmpl:1: en: ") {
		t.Errorf("err = %v; want it to name html.tmpl, the message greet and the missing column", err)
	}
	_, err = e.Render(m, Data{Fields: map[string]string{"nickname": "x", "n": "lots"}})
	if err == nil || !strings.Contains(err.Error(), `count "lots" is not a whole number or a decimal such as 1.5 (the count of message posts)`) {
		t.Errorf("err = %v; want it to name the message posts", err)
	}
}

// TestCounts covers the counts tc takes: 0 or more (a count below 0 would
// select the form of its absolute value: "Ihr -1 Beitrag").
func TestCounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   any
		text string
		ok   bool
	}{
		{3, "3", true}, {int8(-3), "", false}, {-1.5, "", false}, {json.Number("-2"), "", false}, {"-0", "0", true}, {"-0.0", "0.0", true}, {uint16(7), "7", true}, {uint64(1 << 62), strconv.FormatInt(1<<62, 10), true},
		{"12", "12", true}, {" 7 ", "7", true}, {"+3", "3", true}, {"007", "7", true}, {"-21", "", false},
		{"1.5", "1.5", true}, {"2.50", "2.50", true}, {"+0.5", "0.5", true}, {"-0.5", "", false}, {"007.10", "7.10", true},
		{1.5, "1.5", true}, {2.0, "2", true}, {float32(0.25), "0.25", true}, {json.Number("3"), "3", true}, {json.Number("1.50"), "1.50", true},
		{math.NaN(), "", false}, {math.Inf(1), "", false}, {1e300, "", false}, {json.Number("1e6"), "", false},
		{uint64(1<<62 + 1), "", false}, {"many", "", false}, {"", "", false}, {"1.", "", false},
		{".5", "", false}, {"1e3", "", false}, {"1,5", "", false}, {"--1", "", false}, {"1.2.3", "", false},
		{"99999999999999999999", "", false}, {"1." + strings.Repeat("1", 19), "", false}, {nil, "", false},
	}
	for _, tt := range tests {
		c, err := toCount(tt.in)
		if (err == nil) != tt.ok || c.text != tt.text {
			t.Errorf("toCount(%#v) = %+v, %v; want %q ok=%v", tt.in, c, err, tt.text, tt.ok)
		}
		if s, ok := tt.in.(string); ok {
			// A column's count, as the hoisted messages read it.
			tc, terr := textCount(s)
			if tc != c || (terr == nil) != (err == nil) || terr != nil && terr.Error() != err.Error() {
				t.Errorf("textCount(%q) = %+v, %v; toCount gives %+v, %v", s, tc, terr, c, err)
			}
		}
	}
}

// TestPluralProbesReachEveryForm: the probe counts find every form a much
// wider range of counts finds, for the bundled languages and for every
// language with a distinctive CLDR rule, so that coverage never misses a
// form Render could select. go-i18n selects in both cases: there is one
// rule.
func TestPluralProbesReachEveryForm(t *testing.T) {
	t.Parallel()
	var wide []string
	for i := 0; i <= 2100; i++ {
		wide = append(wide, strconv.Itoa(i))
	}
	for i := 0; i <= 3000; i++ {
		wide = append(wide, strconv.Itoa(i*1000), strconv.Itoa(i*100000+i))
	}
	for i := 0; i <= 1200; i++ {
		wide = append(wide, fmt.Sprintf("%d.%d", i/10, i%10), fmt.Sprintf("%d.%02d", i/100, i%100), fmt.Sprintf("%d.%03d", i/1000, i%1000))
	}
	langs := []string{"ar", "de", "en", "es", "fr", "it", "ja", "pl", "ru", "pt", "pt-PT", "cy", "br", "lt", "lv", "ga", "gd",
		"gv", "he", "is", "mk", "mt", "ro", "sl", "cs", "sk", "uk", "be", "hr", "sr", "bs", "kw", "dsb", "hsb", "shi", "tzm",
		"ksh", "lag", "si", "ceb", "fil", "da", "sv", "zh", "ko", "hi", "bn", "am", "ca", "vec", "sc", "lij", "ff", "kab", "iu", "naq", "smn", "ast", "blo"}
	for _, lang := range langs {
		tag := language.MustParse(lang)
		r := pluralRuleFor(tag)
		b := i18n.NewBundle(tag)
		_ = b.AddMessages(tag, &i18n.Message{ID: "p", Zero: "zero", One: "one", Two: "two", Few: "few", Many: "many", Other: "other"})
		loc := i18n.NewLocalizer(b, lang)
		seen := map[string]string{}
		for _, n := range wide {
			s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: "p", PluralCount: n})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := seen[s]; !ok {
				seen[s] = n
			}
		}
		for form, n := range seen {
			if !contains(r.needed, form) {
				t.Errorf("%s: %s selects %s, which the probes never reach (needed: %v)", lang, n, form, r.needed)
			}
		}
	}
}

// TestBundledCatalogsSayWhatTheyNeed pins the forms of the bundled languages
// to CLDR's published lists.
func TestBundledCatalogsSayWhatTheyNeed(t *testing.T) {
	t.Parallel()
	for lang, want := range map[string]string{
		"ar": "zero one two few many other", "de": "one other", "en": "one other", "es": "one many other",
		"fr": "one many other", "it": "one many other", "ja": "other", "pl": "one few many other", "ru": "one few many other",
		"cy": "zero one two few many other",
	} {
		if got := strings.Join(pluralRuleFor(language.MustParse(lang)).needed, " "); got != want {
			t.Errorf("%s needs %q, want %q", lang, got, want)
		}
	}
}
