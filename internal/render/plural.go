package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

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

// pluralRule is one language's CLDR cardinal plural rule as go-i18n applies
// it. go-i18n parses the catalogs, so it is the one authority on plural
// forms: the form chosen for a count while rendering and the forms a catalog
// must hold to cover the language both come from asking go-i18n, through
// its public API, which form of a message it would localize.
//
// golang.org/x/text/feature/plural is not used: its tables are CLDR 32 and
// disagree with go-i18n's newer CLDR data (French, Spanish and Italian
// "many" for 1000000, for example).
type pluralRule struct {
	// probe is go-i18n's localizer over a bundle that holds only the
	// language's probe message, whose every form is its own name.
	probe *i18n.Localizer
	// needed lists the forms the language needs, canonical order; examples
	// holds, for each needed form, the first probe count that selects it.
	needed   []string
	examples []PluralExample
	// memo caches go-i18n's answer for small whole counts: 0 means not
	// asked yet, else form index + 1.
	memo [memoCounts]atomic.Uint32
}

// memoCounts bounds the cache of pluralRule: counts 0 to memoCounts-1.
const memoCounts = 1024

// probeID is the message whose every plural form is its own name.
const probeID = "p"

// pluralRules memoises pluralRuleFor by language.
var pluralRules sync.Map // string -> *pluralRule

// pluralProbes are the counts asked to learn which forms a language needs,
// in the order examples are preferred (1, 2, 3 before 0; 1.5 first among
// decimals). The CLDR cardinal rules that go-i18n implements look at the
// integer digits modulo 10, 100, 1000, 100000 and 1000000, at ranges of
// small numbers (up to 99), at the number and value of visible fraction
// digits (modulo 10 and 100) and at the compact exponent. These counts
// reach every combination those rules distinguish: every integer up to 199,
// the round numbers the large moduli single out, and decimals with one and
// two fraction digits over integer parts 0 to 2. tc does not accept
// exponents, so forms only an exponent selects are not needed.
// TestPluralProbesReachEveryForm checks the set against a much wider one.
var pluralProbes = func() []pluralCount {
	var p []pluralCount
	add := func(s string) {
		c, err := parseCount(s)
		if err != nil {
			panic(err)
		}
		p = append(p, c)
	}
	for i := 1; i < 200; i++ {
		add(strconv.Itoa(i))
	}
	add("0")
	for _, n := range []int{1000, 2000, 10000, 20000, 21000, 40000, 60000, 80000, 100000, 200000,
		1000000, 1100000, 2000000, 10000000} {
		add(strconv.Itoa(n))
	}
	add("1.5")
	for i := 0; i < 3; i++ {
		for f := 0; f < 10; f++ {
			add(fmt.Sprintf("%d.%d", i, f))
		}
	}
	for i := 0; i < 2; i++ {
		for f := 0; f < 100; f++ {
			add(fmt.Sprintf("%d.%02d", i, f))
		}
	}
	return p
}()

// pluralRuleFor returns tag's plural rule, built once per language.
func pluralRuleFor(tag language.Tag) *pluralRule {
	if v, ok := pluralRules.Load(tag.String()); ok {
		return v.(*pluralRule)
	}
	r := &pluralRule{}
	b := i18n.NewBundle(tag)
	_ = b.AddMessages(tag, &i18n.Message{ID: probeID, Zero: "zero", One: "one", Two: "two", Few: "few", Many: "many", Other: "other"})
	r.probe = i18n.NewLocalizer(b, tag.String())
	var example [numForms]string
	for _, c := range pluralProbes {
		f, err := r.ask(c)
		if err == nil && example[f] == "" {
			example[f] = c.text
		}
	}
	for f, name := range pluralForms {
		if example[f] != "" || f == formOther {
			r.needed = append(r.needed, name)
			r.examples = append(r.examples, PluralExample{Form: name, Count: example[f]})
		}
	}
	v, _ := pluralRules.LoadOrStore(tag.String(), r)
	return v.(*pluralRule)
}

// form returns the index of the plural form go-i18n selects for c.
func (r *pluralRule) form(c pluralCount) (int, error) {
	small := c.isInt && c.n >= 0 && c.n < memoCounts
	if small {
		if f := r.memo[c.n].Load(); f != 0 {
			return int(f - 1), nil
		}
	}
	f, err := r.ask(c)
	if err != nil {
		return 0, err
	}
	if small {
		r.memo[c.n].Store(uint32(f + 1))
	}
	return f, nil
}

// ask asks go-i18n which form of the probe message it localizes for c.
func (r *pluralRule) ask(c pluralCount) (int, error) {
	var n any = c.text
	if c.isInt {
		n = c.n
	}
	s, err := r.probe.Localize(&i18n.LocalizeConfig{MessageID: probeID, PluralCount: n})
	if err != nil {
		return 0, fmt.Errorf("select the plural form of %s: %w", c.text, err)
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

// pluralCount is the count of a plural message: a whole number, or a decimal
// given as text ("1.5"), which CLDR rules distinguish from whole numbers by
// its visible fraction digits.
type pluralCount struct {
	isInt bool
	n     int64  // the value, if isInt
	text  string // canonical text: what .Count prints
}

// countError is the error for a count tc cannot use.
func countError(c any) error {
	return &countErr{value: c}
}

// countErr is a count tc cannot use: not a number, or below 0. Render's
// *RenderError finds the column it came from.
type countErr struct {
	value any
	key   string // the message of the tc call, when known
}

func (e *countErr) Error() string {
	if s, ok := e.value.(string); ok {
		return countProblem(s)
	}
	if c, err := parsedCount(e.value); err == nil && c.negative() {
		return fmt.Sprintf("count %v is below 0: %s", e.value, countAdvice)
	}
	return fmt.Sprintf("count %v (%T) is not a whole number or a decimal given as text", e.value, e.value)
}

// countAdvice says what a count below 0 should be.
const countAdvice = "a count is 0 or more"

// countProblem says what is wrong with s, a count tc refused.
func countProblem(s string) string {
	huge := beyondInt64(s)
	if c, err := parseCount(s); err == nil && c.negative() || huge < 0 {
		return fmt.Sprintf("count %q is below 0: %s", Clip(s), countAdvice)
	}
	if huge > 0 {
		return fmt.Sprintf("count %q is too large: the largest count is %d", Clip(s), int64(math.MaxInt64))
	}
	return fmt.Sprintf("count %q is not a whole number or a decimal such as 1.5", Clip(s))
}

// beyondInt64 is 1 when s is a whole number or a decimal, as parseCount
// reads them, whose whole part is above the largest int64, -1 when it is
// below the smallest, else 0: a number, but not one parseCount can hold.
func beyondInt64(s string) int {
	intPart, frac, isDec := strings.Cut(strings.TrimSpace(s), ".")
	digits := strings.TrimLeft(intPart, "+-")
	if len(intPart)-len(digits) > 1 || digits == "" || strings.Trim(digits, "0123456789") != "" ||
		(isDec && (frac == "" || strings.Trim(frac, "0123456789") != "")) {
		return 0
	}
	if _, err := strconv.ParseInt(intPart, 10, 64); !errors.Is(err, strconv.ErrRange) {
		return 0
	}
	if intPart[0] == '-' {
		return -1
	}
	return 1
}

// negative reports whether c is below 0. A plural message has no form for
// it: CLDR rules read the absolute value, so -1 would select "one" ("Ihr
// -1 Beitrag"), and a count of things is never below 0.
func (c pluralCount) negative() bool { return strings.HasPrefix(c.text, "-") }

// toCount converts the count argument of tc: an integer, or a string that
// holds a whole number ("12", " 7 ", "+3", "007") or a decimal ("1.5",
// "2.50"), 0 or more (a count below 0 is a countErr, and so is returned
// with it). Whole numbers print without sign or leading zeros; decimals
// keep their fraction digits, which select the plural form.
func toCount(c any) (pluralCount, error) {
	p, err := parsedCount(c)
	if err == nil && p.negative() {
		return pluralCount{}, countError(c)
	}
	return p, err
}

// textCount is toCount(s) for a count given as text (a recipient's
// column), without putting s in an interface: one allocation a plural
// message a recipient.
func textCount(s string) (pluralCount, error) {
	p, err := parseCount(s)
	if err != nil || p.negative() {
		return pluralCount{}, countError(s)
	}
	return p, nil
}

// parsedCount is toCount's count, of any sign.
func parsedCount(c any) (pluralCount, error) {
	switch x := c.(type) {
	case json.Number: // a number as decoded text keeps its text
		c = string(x)
	case float64, float32:
		// A decimal given as a number (1.5): its shortest text, as the
		// count's plural operands read it; a whole one is an integer.
		f := reflect.ValueOf(x).Float()
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<62 {
			return pluralCount{}, countError(c)
		}
		c = strconv.FormatFloat(f, 'f', -1, 64)
	}
	if s, ok := c.(string); ok {
		p, err := parseCount(s)
		if err != nil {
			return pluralCount{}, countError(s)
		}
		return p, nil
	}
	var n int64
	switch v := reflect.ValueOf(c); v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n = v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if v.Uint() > 1<<62 {
			return pluralCount{}, fmt.Errorf("count %d is too large", v.Uint())
		}
		n = int64(v.Uint())
	default:
		return pluralCount{}, countError(c)
	}
	return pluralCount{isInt: true, n: n, text: strconv.FormatInt(n, 10)}, nil
}

// parseCount parses a count given as text: optional space, an optional sign,
// digits, and optionally a point and more digits.
func parseCount(s string) (pluralCount, error) {
	s = strings.TrimSpace(s)
	intPart, frac, isDec := strings.Cut(s, ".")
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return pluralCount{}, fmt.Errorf("count %q is not a number", s)
	}
	if !isDec {
		return pluralCount{isInt: true, n: n, text: strconv.FormatInt(n, 10)}, nil
	}
	if frac == "" || len(frac) > 18 || strings.Trim(frac, "0123456789") != "" {
		return pluralCount{}, fmt.Errorf("count %q is not a number", s)
	}
	sign := ""
	if n == 0 && strings.HasPrefix(intPart, "-") && strings.Trim(frac, "0") != "" { // -0.5, not -0.0
		sign = "-"
	}
	return pluralCount{text: sign + strconv.FormatInt(n, 10) + "." + frac}, nil
}

// PluralExample is one plural form a language needs and a count that selects
// it, as text (a decimal for forms only decimals select, such as Russian
// "other").
type PluralExample struct {
	Form  string `json:"form"`
	Count string `json:"count"`
}

// PluralExamples returns, for catalog language lang (as in
// Coverage.Lang), one example count per CLDR plural form the language needs,
// in canonical order (zero, one, two, few, many, other); nil if there is no
// such catalog. Russian gives one=1, few=2, many=5, other=1.5. The counts
// come from the rule Render uses, so Message with each of them shows each
// form.
func (e *Engine) PluralExamples(lang string) []PluralExample {
	l := e.byLang[strings.ToLower(strings.TrimSpace(lang))]
	if l == nil {
		return nil
	}
	return append([]PluralExample(nil), l.rule.examples...)
}
