package render

import "testing"

// TestResolveSaysAnEquivalenceIsNotExact: a locale written in another
// spelling of the catalog's language (a renamed code, iw for he; an
// individual language its macrolanguage's code means, cmn for zh) is
// matched by an equivalence, ViaEquivalent, not exactly: plan shows how
// each locale was matched. It used to say exact, as if the recipient had
// written he or zh. The catalog's own spelling, and any case of it, stays
// exact; a region stays match.
func TestResolveSaysAnEquivalenceIsNotExact(t *testing.T) {
	t.Parallel()
	e := newEngine(t, catalogsNamed(t, "he", "zh", "de", "nb"), Policy{})
	for _, tt := range []struct {
		requested, lang, via string
	}{
		{"iw", "he", ViaEquivalent},
		{"cmn", "zh", ViaEquivalent},
		{"zh-cmn", "zh", ViaEquivalent},
		{"zh-guoyu", "zh", ViaEquivalent},
		{"ger", "de", ViaEquivalent},
		{"nob", "nb", ViaEquivalent},
		{"deu", "de", ViaEquivalent},
		{"he", "he", ViaExact},
		{"HE", "he", ViaExact},
		{"zh", "zh", ViaExact},
		{"he-IL", "he", ViaMatch},
		{"iw-IL", "he", ViaMatch},
	} {
		t.Run(tt.requested, func(t *testing.T) {
			t.Parallel()
			m, err := e.Resolve(tt.requested)
			if err != nil || m.Lang != tt.lang || m.Via != tt.via {
				t.Fatalf("Resolve(%q) = %+v, %v; want %s via %s", tt.requested, m, err, tt.lang, tt.via)
			}
		})
	}
}
