package e2e

import (
	"encoding/csv"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// demoLang is, independently of tidings, the language each locale of the
// bundled demo recipients must be written in; "" means refused (pt is
// deliberately incomplete, rm and da have no catalog, empty is refused).
var demoLang = map[string]string{
	"en": "en", "en-gb": "en", "en-us": "en",
	"de": "de", "de-ch": "de", "de-at": "de", "gsw": "de", // gsw: de is an alias of the demo campaign
	"fr": "fr", "fr-ca": "fr", "fr-be": "fr",
	"it": "it", "it-ch": "it",
	"es": "es", "es-mx": "es",
	"ja": "ja", "ja-jp": "ja",
	"ar": "ar", "ar-eg": "ar",
	"ru": "ru", "ru-ru": "ru",
	"pl": "pl", "pl-pl": "pl",
	"pt": "", "pt-br": "", "rm": "", "da": "", "": "",
}

// TestDemoCommand runs `tidings demo --out DIR` and checks its captured
// mails: every covered language present, each mail in its recipient's
// language, none for refused or invalid rows, and a gallery naming every
// catalog language.
func TestDemoCommand(t *testing.T) {
	t.Parallel()
	e := &env{t: t, dir: t.TempDir()}
	out := filepath.Join(e.dir, "demo-out")
	r := e.run("demo", "--out", out)
	if r.code != 0 {
		t.Fatalf("want exit 0, got %s", r)
	}

	f, err := os.Open(filepath.Join(out, "campaign", "recipients.csv"))
	if err != nil {
		t.Fatalf("the demo did not leave its recipients file: %v", err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(recs) < 2 {
		t.Fatalf("read demo recipients: %v (%d records)", err, len(recs))
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[strings.TrimPrefix(h, "\ufeff")] = i
	}
	wantLang := map[string]string{} // email -> language, "" for none
	covered := map[string]bool{}
	refused, invalid := 0, 0
	for _, rec := range recs[1:] {
		email, loc := strings.ToLower(rec[col["email"]]), rec[col["locale"]]
		lang, ok := demoLang[strings.ToLower(loc)]
		if !ok {
			t.Errorf("demo recipient %s has locale %q that this test does not know: add it to demoLang", email, loc)
			continue
		}
		if lang == "" {
			refused++
		}
		if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
			lang = "" // the deliberately invalid row
			invalid++
		}
		wantLang[email] = lang
		if lang != "" {
			covered[lang] = true
		}
	}

	if refused == 0 || invalid == 0 || len(covered) < 6 {
		t.Errorf("the demo must show refusals, an invalid row and 6+ covered languages; its recipients have %d refused, %d invalid, languages %v", refused, invalid, keys(covered))
	}

	got := map[string][]string{} // email -> folders of its mails
	folders := map[string]bool{}
	mailDir := filepath.Join(out, "mail")
	dirs, err := os.ReadDir(mailDir)
	if err != nil {
		t.Fatalf("the demo captured no mail under %s: %v", mailDir, err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		folders[d.Name()] = true
		files, err := os.ReadDir(filepath.Join(mailDir, d.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, fe := range files {
			p := filepath.Join(mailDir, d.Name(), fe.Name())
			raw, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			c := parseCaptured(p, raw)
			if c.err != nil {
				t.Errorf("%s: %v", p, c.err)
				continue
			}
			to, err := c.header.AddressList("To")
			if err != nil || len(to) != 1 {
				t.Errorf("%s: To %q: %v", p, c.header.Get("To"), err)
				continue
			}
			email := strings.ToLower(to[0].Address)
			got[email] = append(got[email], d.Name())
			ps, err := c.parts()
			if err != nil {
				t.Errorf("%s: %v", p, err)
				continue
			}
			if l := langOfHTML(ps.html); l != d.Name() {
				t.Errorf("%s: the mail to %s in folder %s is written in %q", p, email, d.Name(), l)
			}
			if cl := c.header.Get("Content-Language"); cl != "" && !strings.EqualFold(cl, d.Name()) {
				t.Errorf("%s: Content-Language %q in folder %s", p, cl, d.Name())
			}
		}
	}
	for email, lang := range wantLang {
		g := got[email]
		switch {
		case lang == "" && len(g) > 0:
			t.Errorf("%s must receive nothing (refused or invalid), got mail in %v", email, g)
		case lang != "" && (len(g) != 1 || g[0] != lang):
			t.Errorf("%s: mails in %v, want exactly one in %s", email, g, lang)
		}
	}
	for email, g := range got {
		if _, ok := wantLang[email]; !ok {
			t.Errorf("mail to %s (in %v), who is not a demo recipient", email, g)
		}
	}
	for lang := range covered {
		if !folders[lang] {
			t.Errorf("no mail folder for covered language %s; folders %v", lang, keys(folders))
		}
	}
	if folders["unknown"] {
		t.Errorf("the demo captured mail it could not attribute to a language (mail/unknown)")
	}

	index, err := os.ReadFile(filepath.Join(out, "preview", "index.html"))
	if err != nil {
		t.Fatalf("no gallery: %v", err)
	}
	cats, err := filepath.Glob(filepath.Join(out, "campaign", "locales", "*.toml"))
	if err != nil || len(cats) == 0 {
		t.Fatalf("no catalogs in the demo campaign: %v", err)
	}
	for _, c := range cats {
		lang := strings.TrimSuffix(filepath.Base(c), ".toml")
		if !strings.Contains(string(index), `id="`+lang+`"`) && !strings.Contains(string(index), `lang="`+lang+`"`) && !strings.Contains(string(index), ">"+lang+"<") {
			t.Errorf("preview/index.html does not mention catalog language %s", lang)
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
