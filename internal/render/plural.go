package render

import (
	"fmt"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Plural form indexes, in the order of pluralForms.
const (
	formZero = iota
	formOne
	formTwo
	formFew
	formMany
	formOther
	numForms
)

// smallCounts is the size of the precomputed count -> form table: counts
// 0 to smallCounts-1 are looked up, every other count asks go-i18n.
const smallCounts = 1101

// pluralRule is one language's CLDR cardinal plural rule, taken from go-i18n
// (its rules are internal to it): the forms the language needs, a table of
// the form of every small count, and a go-i18n localizer that answers for
// every other count. Rendering therefore selects exactly the form go-i18n
// would select.
type pluralRule struct {
	needed []string // plural forms the language needs, canonical order
	small  [smallCounts]uint8
	probe  *i18n.Localizer // localizes probeID to the name of the form
}

// probeID is the message whose every plural form is its own name.
const probeID = "p"

// pluralRules memoises pluralRuleFor by language.
var pluralRules sync.Map // string -> *pluralRule

// pluralProbes are counts that together reach every plural form of every
// CLDR plural rule known to go-i18n (integers, decimals with one and two
// fraction digits, large round numbers and compact exponents). The first
// smallCounts are the integers 0 to smallCounts-1.
var pluralProbes = func() []any {
	var p []any
	for i := 0; i < smallCounts; i++ {
		p = append(p, i)
	}
	for _, n := range []int{100000, 1000000, 1000001, 2000000, 10000000} {
		p = append(p, n)
	}
	for i := 0; i < 300; i++ {
		p = append(p, fmt.Sprintf("%d.%d", i/10, i%10))
	}
	for i := 0; i < 200; i++ {
		p = append(p, fmt.Sprintf("%d.%02d", i/100, i%100))
	}
	return append(p, "1e3", "1e6", "1.5e6", "2e6", "1.0e6")
}()

// pluralRuleFor returns tag's plural rule. It asks go-i18n itself: a probe
// message whose every form is its own name is localized for counts that reach
// every form, so the answer is exactly what go-i18n would select.
func pluralRuleFor(tag language.Tag) *pluralRule {
	if v, ok := pluralRules.Load(tag.String()); ok {
		return v.(*pluralRule)
	}
	r := &pluralRule{}
	b := i18n.NewBundle(tag)
	_ = b.AddMessages(tag, &i18n.Message{ID: probeID, Zero: "zero", One: "one", Two: "two", Few: "few", Many: "many", Other: "other"})
	r.probe = i18n.NewLocalizer(b, tag.String())
	seen := [numForms]bool{formOther: true}
	for i, n := range pluralProbes {
		f := formOther
		if s, err := r.probe.Localize(&i18n.LocalizeConfig{MessageID: probeID, PluralCount: n}); err == nil {
			f = formIndex(s)
		}
		seen[f] = true
		if i < smallCounts {
			r.small[i] = uint8(f)
		}
	}
	for f, name := range pluralForms {
		if seen[f] {
			r.needed = append(r.needed, name)
		}
	}
	v, _ := pluralRules.LoadOrStore(tag.String(), r)
	return v.(*pluralRule)
}

// form returns the plural form index go-i18n selects for count n.
func (r *pluralRule) form(n int64) (int, error) {
	if n >= 0 && n < smallCounts {
		return int(r.small[n]), nil
	}
	s, err := r.probe.Localize(&i18n.LocalizeConfig{MessageID: probeID, PluralCount: n})
	if err != nil {
		return 0, fmt.Errorf("select the plural form of %d: %w", n, err)
	}
	return formIndex(s), nil
}

// formIndex returns the index of the CLDR form name (other if unknown).
func formIndex(name string) int {
	for i, f := range pluralForms {
		if f == name {
			return i
		}
	}
	return formOther
}
