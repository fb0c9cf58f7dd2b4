package render

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/locales"
)

// TestMissingLocaleRefusalListsWhatItTakes: the refusal of a locale that
// missing_locale did not take lists what it takes, and that list is
// exactly what Resolve takes: every spelling listed is mapped, and every
// spelling mapped (the README's locale rule 3: "n/a, none, null, nil,
// unknown, undefined, -, --, ?, *") is listed.
//
// Found by a red team: the refusal listed "n/a, none, null, unknown, -, ?"
// and left out *, nil, undefined and --, which missing_locale takes.
func TestMissingLocaleRefusalListsWhatItTakes(t *testing.T) {
	t.Parallel()
	e := newEngine(t, locales.FS, Policy{MissingLocale: "en"})
	_, err := e.Resolve("xx-garbage!!")
	if err == nil {
		t.Fatal("Resolve(xx-garbage!!) mapped it; want a refusal")
	}
	msg := err.Error()
	_, list, ok := strings.Cut(msg, "says there is none (")
	list, _, ok2 := strings.Cut(list, "):")
	if !ok || !ok2 {
		t.Fatalf("refusal %q lists no spellings missing_locale takes", msg)
	}
	listed := strings.Split(list, ", ")
	for _, tt := range []struct{ spelling, resolve string }{
		{"empty", ""}, {"C or POSIX", "C"}, {"und", "und"}, {"i-default", "i-default"},
		{"n/a", "n/a"}, {"none", "none"}, {"null", "null"}, {"nil", "nil"}, {"unknown", "unknown"},
		{"undefined", "undefined"}, {"-", "-"}, {"--", "--"}, {"?", "?"}, {"*", "*"},
	} {
		t.Run(tt.spelling, func(t *testing.T) {
			m, err := e.Resolve(tt.resolve)
			if err != nil || m.Via != ViaMissingLocale {
				t.Errorf("Resolve(%q) = %+v, %v; want it mapped via missing_locale", tt.resolve, m, err)
			}
			if !strings.Contains(","+strings.Join(listed, ",")+",", ","+tt.spelling+",") {
				t.Errorf("refusal %q does not list %q, which missing_locale takes", msg, tt.spelling)
			}
		})
	}
	for _, w := range listed { // and nothing it does not take
		if w == "empty" || w == "C or POSIX" {
			continue
		}
		if m, err := e.Resolve(w); err != nil || m.Via != ViaMissingLocale {
			t.Errorf("refusal %q lists %q, but Resolve(%q) = %+v, %v", msg, w, w, m, err)
		}
	}
}
