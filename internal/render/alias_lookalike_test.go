package render

import (
	"errors"
	"testing"
)

// TestAliasKeyIsNotMatchedByALookalike: an alias maps the locale it names,
// spelled in ASCII letters in any case. Go's strings.ToLower folds the
// Kelvin sign K (U+212A) to k, so a recipient whose locale is "Kk" or
// "KK" took the alias kk: ru, whereas the same value without the
// alias is refused as unparsable (it is not a language tag). A lookalike
// is refused with or without an alias.
func TestAliasKeyIsNotMatchedByALookalike(t *testing.T) {
	t.Parallel()
	e := newEngine(t, onlyNamed(t, "ru"), Policy{Aliases: map[string]string{"kk": "ru", "Sk": "ru"}})
	tests := []struct {
		requested string
		lang      string // "": refused as unparsable
	}{
		{"kk", "ru"},
		{"KK", "ru"},
		{" kK ", "ru"},
		{"\u212Ak", ""},      // Kelvin sign
		{"\u212A\u212A", ""}, // two
		{"sk", "ru"},         // the key "Sk", any case
		{"\u017Fk", ""},      // long s, which folds to s
	}
	for _, tt := range tests {
		m, err := e.Resolve(tt.requested)
		if tt.lang != "" {
			if err != nil || m.Lang != tt.lang {
				t.Errorf("Resolve(%q) = %+v, %v; want %s by alias", tt.requested, m, err, tt.lang)
			}
			continue
		}
		var ref *Refusal
		if !errors.As(err, &ref) || ref.Code != CodeUnparsable {
			t.Errorf("Resolve(%q) = %+v, %v; want refused as unparsable", tt.requested, m, err)
		}
	}
}
