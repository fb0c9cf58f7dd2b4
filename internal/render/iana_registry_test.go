package render

import (
	"bufio"
	"errors"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/tidings-mail/tidings/templates"
)

// The locale rule against every tag the IANA Language Subtag Registry
// deprecates or gives a Preferred-Value, and against every extended
// language subtag, from testdata/iana-deprecated.txt: the registry's own
// records (File-Date on its first line; taken from the npm package
// language-subtag-registry 0.4.2, which carries the registry as JSON, and
// written back in the registry's record-jar format). x/text's tables
// (internal/language: AliasMap, grandfatheredMap, regionOldMap, Qaai)
// are generated from this registry and CLDR, so the registry is the list
// of what x/text may rewrite.

// ianaRecord is one record of the registry.
type ianaRecord struct {
	Type, Subtag, Tag, Preferred, Deprecated, Prefix, Macrolanguage, Scope string
	Description, Comments                                                  []string
}

// name is the record's subtag or tag.
func (r ianaRecord) name() string {
	if r.Tag != "" {
		return r.Tag
	}
	return r.Subtag
}

// readRegistry reads testdata/iana-deprecated.txt.
func readRegistry(t *testing.T) (date string, recs []ianaRecord) {
	t.Helper()
	f, err := os.Open("testdata/iana-deprecated.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var cur *ianaRecord
	for sc.Scan() {
		line := sc.Text()
		if line == "%%" {
			recs = append(recs, ianaRecord{})
			cur = &recs[len(recs)-1]
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("iana-deprecated.txt: %q is not a field", line)
		}
		if cur == nil {
			if k == "File-Date" {
				date = v
			}
			continue
		}
		single := map[string]*string{"Type": &cur.Type, "Subtag": &cur.Subtag, "Tag": &cur.Tag, "Preferred-Value": &cur.Preferred,
			"Deprecated": &cur.Deprecated, "Prefix": &cur.Prefix, "Macrolanguage": &cur.Macrolanguage, "Scope": &cur.Scope}
		if f := single[k]; f != nil {
			*f = v
		} else if k == "Description" {
			cur.Description = append(cur.Description, v)
		} else if k == "Comments" {
			cur.Comments = append(cur.Comments, v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if date == "" || len(recs) < 500 {
		t.Fatalf("iana-deprecated.txt: File-Date %q, %d records: not the registry's excerpt", date, len(recs))
	}
	return date, recs
}

// TestExtlangTableIsTheRegistrys: extlangPrefix holds every extended
// language subtag of the registry with its prefix, and nothing else.
func TestExtlangTableIsTheRegistrys(t *testing.T) {
	t.Parallel()
	_, recs := readRegistry(t)
	want := map[string]string{}
	for _, r := range recs {
		if r.Type == "extlang" {
			want[r.Subtag] = r.Prefix
		}
	}
	if len(want) != len(extlangPrefix) {
		t.Errorf("extlangPrefix has %d subtags, the registry %d", len(extlangPrefix), len(want))
	}
	for s, p := range want {
		if extlangPrefix[s] != p {
			t.Errorf("extlangPrefix[%q] = %q, the registry says %q", s, extlangPrefix[s], p)
		}
	}
}

// loadable reports whether a catalog named lang loads (go-i18n has plural
// rules for only some languages: a catalog of another cannot exist).
var loadableCache sync.Map

func loadable(t *testing.T, lang string) bool {
	t.Helper()
	if v, ok := loadableCache.Load(lang); ok {
		return v.(bool)
	}
	_, err := New(Config{Templates: templates.FS, Locales: onlyNamed(t, lang), Template: "welcome", DefaultLocale: "en"})
	loadableCache.Store(lang, err == nil)
	return err == nil
}

// macroSameTest is README's list of the nine individual languages that are
// their macrolanguage's code (not the code's table: the rule as written).
var macroSameTest = map[string]string{"cmn": "zh", "arb": "ar", "zsm": "ms", "swh": "sw", "ekk": "et", "lvs": "lv", "pes": "fa", "khk": "mn", "uzn": "uz"}

// sameAs is the rule's reading of a language subtag: the registry's
// Preferred-Value of a deprecated one (rule "preferred": the registry says
// its language is that one: ISO 639-3 renamed it, found it a duplicate, or
// merged it into that language), then one of the nine individual languages
// as its macrolanguage's code (rule "macro-same").
func sameAs(lang string, preferred map[string]string) string {
	for range 3 {
		if p := preferred[lang]; p != "" {
			lang = p
		}
	}
	if m := macroSameTest[lang]; m != "" {
		return m
	}
	return lang
}

// refusalSaysWhatToDo fails unless err is a Refusal whose reason says what
// to do about it.
func refusalSaysWhatToDo(t *testing.T, requested string, err error) {
	t.Helper()
	var r *Refusal
	if !errors.As(err, &r) {
		t.Fatalf("%s: error %v is not a *Refusal", requested, err)
	}
	if !regexp.MustCompile(`\b(add|map|write|name|fix|retype|remove)\b`).MatchString(r.Reason) {
		t.Errorf("%s: the refusal does not say what to do: %s", requested, r.Reason)
	}
}

// TestIANARegistryTags is the locale rule against the registry's
// deprecated and replaced tags, in both directions: a recipient written
// with such a tag and a catalog of its replacement, and a catalog file
// named with it and a recipient of the replacement. Each row says which
// rule decides.
func TestIANARegistryTags(t *testing.T) {
	t.Parallel()
	date, recs := readRegistry(t)
	t.Logf("IANA Language Subtag Registry of %s: %d records", date, len(recs))
	preferred := map[string]string{}
	for _, r := range recs {
		if r.Type == "language" && r.Preferred != "" {
			preferred[r.Subtag] = r.Preferred
		}
	}

	type row struct {
		rule      string // why: the README rule that decides
		requested string
		catalogs  []string // catalog file names (without .toml), en aside
		want      string   // the catalog language sent; "" refused
	}
	var rows []row
	// expect returns want if a catalog named want can exist, else "".
	expect := func(want string) string {
		if want != "" && !loadable(t, want) {
			return ""
		}
		return want
	}
	for _, r := range recs {
		switch {
		case r.Type == "language" && r.Preferred != "":
			// Rule "preferred" (and "macro-same" after it): the same
			// language, either way round.
			want := sameAs(r.Subtag, preferred)
			if r.Subtag == "mo" {
				want = "ro" // x/text reads mo as ro-MD: ro's catalog, via a region
			}
			rows = append(rows, row{"preferred", r.Subtag, []string{want}, expect(want)})
			if loadable(t, r.Subtag) {
				// A catalog named with the old code is the new code's.
				rows = append(rows, row{"preferred: a catalog named with it", want, []string{r.Subtag}, want})
				if want == "ro" {
					rows[len(rows)-1].want = "ro-MD"
				}
			}
		case r.Type == "language":
			// Deprecated without a replacement (split, or no longer a
			// language): it is no other language; nobody else's catalog.
			rows = append(rows, row{"no replacement: no other language", r.Subtag, []string{"de", "fr"}, expect(r.Subtag)})
		case r.Type == "extlang":
			// Rule "extlang": prefix-ext is the language ext (zh-yue is
			// yue, zh-cmn is cmn = zh); after any other language (en-cmn,
			// de-yue) the tag names two languages and is refused.
			want := sameAs(r.Subtag, preferred)
			rows = append(rows, row{"extlang after its prefix", r.Prefix + "-" + r.Subtag, []string{want}, expect(want)})
			for _, other := range []string{"en", "de"} {
				if other != r.Prefix {
					rows = append(rows, row{"extlang after another language: two languages", other + "-" + r.Subtag, []string{"de", want}, ""})
				}
			}
		case r.Type == "grandfathered" || r.Type == "redundant":
			if r.Preferred == "" {
				// cel-gaulish, i-default, i-enochian, i-mingo, zh-min:
				// no language tidings has a catalog for.
				rows = append(rows, row{"grandfathered without a replacement", r.Tag, []string{"de", "fr"}, ""})
				continue
			}
			// Rule "preferred" for whole tags: sgn-BR is bzs, zh-guoyu
			// cmn = zh, en-GB-oed en-GB-oxendict (en with a variant).
			pv := strings.Split(r.Preferred, "-")
			want := sameAs(pv[0], preferred)
			if len(pv) > 1 && len(pv[1]) == 4 && pv[1] == "Hant" {
				want += "-Hant"
			}
			rows = append(rows, row{"preferred (whole tag)", r.Tag, []string{want}, expect(want)})
		case r.Type == "region":
			// A region is not the language: de with any region, replaced
			// or not, is German (de-DD, de-BU, de-CS, de-SU).
			rows = append(rows, row{"a region is not the language", "de-" + r.Subtag, []string{"de"}, "de"})
		case r.Type == "variant":
			// Rule "preferred" for variants: the registry's comment names
			// the tag that replaces it; a variant is its language's
			// (hy-arevela is hy, ja-Latn-hepburn-heploc ja-Latn), unless
			// that tag is another language: hy-arevmda is Western
			// Armenian, hyw, not hy; sa-vaidika Vedic Sanskrit, vsn.
			var pref string
			for _, c := range r.Comments {
				if p, ok := strings.CutPrefix(c, "Preferred tag is "); ok {
					pref = p
				}
			}
			if pref == "" {
				t.Fatalf("variant %s: no preferred tag in its comments", r.Subtag)
			}
			want := pref
			if i := strings.Index(want, "-Latn"); i >= 0 {
				want = want[:i+len("-Latn")]
			}
			rows = append(rows, row{"preferred (variant)", r.Prefix + "-" + r.Subtag, []string{strings.Split(r.Prefix, "-")[0], strings.TrimSuffix(r.Prefix, "-hepburn")}, expect(want)})
		}
	}
	// x/text's one script alias (CLDR's, not the registry's): Qaai is
	// Zinh. A script is part of the language: de-Qaai is not German in
	// Latin script.
	rows = append(rows, row{"a script is part of the language", "de-Qaai", []string{"de"}, ""})
	if len(rows) < 800 {
		t.Fatalf("only %d rows: the registry excerpt lost records", len(rows))
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].rule < rows[j].rule })

	engines := map[string]*Engine{}
	for _, r := range rows {
		t.Run(r.rule+"/"+r.requested+"/"+strings.Join(r.catalogs, "+"), func(t *testing.T) {
			key := strings.Join(r.catalogs, "+")
			e, ok := engines[key]
			if !ok {
				var names []string
				for _, c := range r.catalogs {
					if loadable(t, c) && !slices.Contains(names, c) {
						names = append(names, c)
					}
				}
				var err error
				e, err = New(Config{Templates: templates.FS, Locales: onlyNamed(t, names...), Template: "welcome", DefaultLocale: "en"})
				if err != nil {
					t.Fatalf("catalogs %v: %v", names, err)
				}
				engines[key] = e
			}
			m, err := e.Resolve(r.requested)
			switch {
			case r.want == "" && err == nil:
				t.Errorf("%s with catalogs en and %v: sent the %s catalog (via %s), want refused (rule: %s)", r.requested, r.catalogs, m.Lang, m.Via, r.rule)
			case r.want == "":
				refusalSaysWhatToDo(t, r.requested, err)
			case err != nil:
				t.Errorf("%s with catalogs en and %v: refused (%v), want the %s catalog (rule: %s)", r.requested, r.catalogs, err, r.want, r.rule)
			case !strings.EqualFold(m.Lang, r.want):
				t.Errorf("%s with catalogs en and %v: sent the %s catalog, want %s (rule: %s)", r.requested, r.catalogs, m.Lang, r.want, r.rule)
			}
		})
	}
}

// TestCatalogNamedWithTwoLanguages: a catalog file named with an extended
// language subtag after another language (en-cmn.toml) names two
// languages; x/text reads it as the second. It stops the campaign, naming
// both files it could be.
func TestCatalogNamedWithTwoLanguages(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"en-cmn", "de-gsw", "fr-arb", "zh-arb"} {
		_, err := New(Config{Templates: templates.FS, Locales: onlyNamed(t, name), Template: "welcome", DefaultLocale: "en"})
		if err == nil {
			t.Errorf("%s.toml: accepted, want refused (it names two languages)", name)
			continue
		}
		first, second, _ := strings.Cut(name, "-")
		if !strings.Contains(err.Error(), "locales/"+name+".toml") || !strings.Contains(err.Error(), first+".toml") || !strings.Contains(err.Error(), second+".toml") {
			t.Errorf("%s.toml: %v: want the file named and what to rename it to (%s.toml or %s.toml)", name, err, first, second)
		}
	}
	// Its prefix's extlang is a catalog name like any other: zh-yue.toml
	// is yue (and ms-zsm.toml is ms).
	for name, want := range map[string]string{"zh-yue": "yue", "ms-zsm": "ms"} {
		e, err := New(Config{Templates: templates.FS, Locales: fstest.MapFS{
			"en.toml":      {Data: []byte(catalogLike(t, "en"))},
			name + ".toml": {Data: []byte(allForms(t))},
		}, Template: "welcome", DefaultLocale: "en"})
		if err != nil {
			t.Fatalf("%s.toml: %v", name, err)
		}
		if m, err := e.Resolve(want); err != nil || m.Lang != want {
			t.Errorf("%s with %s.toml: %+v, %v; want the %s catalog", want, name, m, err, want)
		}
	}
}

// TestTwoLanguagesRefusalNamesTheCountry: a country's three-letter code
// after the language (pt-BRA), which x/text reads as a language (bra,
// Braj), is refused saying how to write the country.
func TestTwoLanguagesRefusalNamesTheCountry(t *testing.T) {
	t.Parallel()
	e := newEngine(t, onlyNamed(t, "pt"), Policy{})
	_, err := e.Resolve("pt-BRA")
	if err == nil || !strings.Contains(err.Error(), "names two languages, pt and BRA") || !strings.Contains(err.Error(), "if it is the country BR, write pt-BR") {
		t.Errorf("pt-BRA: %v; want refused, saying to write pt-BR for the country", err)
	}
}

// TestCatalogNamedIDefault: i-default (a grandfathered tag: RFC 2277's
// default language context) names no language, but x/text reads it as
// en-x-i-default, English: a catalog i-default.toml, written in whatever
// language the campaign's default is, was listed as English, and an
// English recipient without an en catalog was sent it. It is refused as
// und.toml is, naming the file and what to rename it to.
func TestCatalogNamedIDefault(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"i-default", "i_default"} {
		fsys := fstest.MapFS{
			"de.toml":      {Data: []byte(catalogLike(t, "de"))},
			name + ".toml": {Data: []byte(catalogLike(t, "de"))},
		}
		e, err := New(Config{Templates: templates.FS, Locales: fsys, Template: "welcome", DefaultLocale: "de"})
		if err == nil {
			m, rerr := e.Resolve("en-US")
			t.Errorf("%s.toml: accepted (an en-US recipient: %+v, %v), want refused: it names no language", name, m, rerr)
			continue
		}
		if !strings.Contains(err.Error(), "locales/"+name+".toml") || !strings.Contains(err.Error(), "names no") || !strings.Contains(err.Error(), "name the catalog after the language it is written in") {
			t.Errorf("%s.toml: %v: want the file named, why and what to do", name, err)
		}
	}
}
