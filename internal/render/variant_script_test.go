package render

import "testing"

// TestVariantLanguageKeepsScriptAndRegion: a variant that the registry
// made a language of its own (arevmda: Western Armenian, hyw) is read as
// that language with the tag's script and region kept, since a script is
// part of the language (hy-Latn-arevmda is hyw-Latn, not hyw).
func TestVariantLanguageKeepsScriptAndRegion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"hy-arevmda":         "hyw",
		"hy-Latn-arevmda":    "hyw-Latn",
		"hy-AM-arevmda":      "hyw-AM",
		"hy-Latn-AM-arevmda": "hyw-Latn-AM",
	} {
		got, err := parseTag(in)
		if err != nil || got.String() != want {
			t.Errorf("parseTag(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
}
