package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRehearseRefusesLocalesThatMayNameALanguage: the end-to-end view of
// TestRedteam10MissingLocaleTakesLocalesThatNameALanguage (internal/render).
// A campaign with `locale_policy: {missing_locale: en}` (the bundled
// catalogs: en, de, ...) and a CRM export whose locale column holds, for
// two German users, "de/CH" and "Deutsch". `tidings rehearse` runs the
// campaign end to end on embedded Redis and SMTP, as the workers would.
//
// The README, the locale rule 3: missing_locale maps "an empty locale, or
// one that names no language (C.UTF-8, n/a, i-default) ... One that begins
// with a language's code but does not parse (de_CH.UTF-8, ru-RU-, de-YY)
// is refused even then: that person has a language, and it is not the one
// missing_locale names". PRODUCT.md: tidings "refuses to send anyone a
// message in a language that is not theirs".
//
// Found by red team 10: rehearse exited 0 and mailed both German users the
// English message (mail/en/), the plan counting them as en via
// missing_locale (render took any unparsable locale that did not begin
// with a language's code; see TestMissingLocaleRefusesLocalesThatMayNameALanguage).
func TestRehearseRefusesLocalesThatMayNameALanguage(t *testing.T) {
	t.Parallel()
	file := writeCampaign(t, campaignFile{name: "rt10-locale", rows: []string{
		"eve@example.org,Eve,en,1",
		"jonas@example.org,Jonas,de/CH,2",
		"lena@example.org,Lena,Deutsch,3",
	}, extra: "locale_policy:\n  missing_locale: en\n"})
	out := filepath.Join(t.TempDir(), "out")
	r := cli(t, nil, "rehearse", file, "--out", out)
	var mailed []string
	_ = filepath.WalkDir(filepath.Join(out, "mail"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			for _, who := range []string{"jonas@example.org", "lena@example.org"} {
				if strings.Contains(string(b), who) {
					rel, _ := filepath.Rel(out, p)
					mailed = append(mailed, who+" in "+rel)
				}
			}
		}
		return nil
	})
	if len(mailed) > 0 {
		t.Errorf("German recipients (locales \"de/CH\", \"Deutsch\") were mailed: %s; want them refused (missing_locale maps only a locale that names no language)\n%s", strings.Join(mailed, ", "), r)
	}
	if r.code != exitProblems {
		t.Errorf("rehearse: exit %d, want %d (rows refused)", r.code, exitProblems)
	}
}
