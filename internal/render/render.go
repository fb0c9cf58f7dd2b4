// Package render turns a template and its message catalogs into one
// recipient's email, and owns the locale rule: which catalog language a
// recipient's locale may be served in, and the refusal of everything else.
//
// A template is a directory templates/<name>/ with subject.tmpl, html.tmpl
// and text.tmpl; a catalog is locales/<lang>.toml (or .json, .yaml, .yml), a
// go-i18n message file. Templates use message keys through two functions,
// {{t "welcome.greeting" .}} and {{tc "welcome.posts" .Fields.posts .}};
// catalog messages are themselves templates over the same data.
//
// Escaping: html.tmpl is an html/template, executed by html/template itself
// with its own escapers, unmodified. The output of t and tc is plain text
// there, escaped like any other value. Neither recipient data nor catalog
// messages can inject markup; the markup lives in html.tmpl around the
// messages. The subject is folded to one line (control characters become
// spaces) so data cannot inject mail headers.
//
// Catalog messages use the recipient's data and the plural count, and run
// no code: text and data fields such as {{.Name}} only (the catalog rule,
// see rule.go). New refuses a catalog that breaks it, and Lint reports each
// offending message.
//
// The locale rule: a recipient's locale is matched against the catalog
// languages with golang.org/x/text/language and accepted only at confidence
// High or Exact, with the same base language and the same script (zh-Hant-TW
// is not served a zh catalog, which is written in Hans; sr-Latn is not served
// Cyrillic sr; "no" is not served nb: the base languages differ), or through
// an explicit alias of the Policy (gsw: de, no: nb, zh-Hant: zh if you mean
// it). The language must
// be covered: its catalog holds every key the template uses, with every CLDR
// plural form the language needs. Everything else is a *Refusal. go-i18n is
// used only for what it is good at (message files, plural rules) and is
// never trusted to stay in the requested language: every message rendered
// comes from the matched language's own catalog.
//
// Speed: New does the work once. Every catalog is parsed into a table of
// its own language's messages (a key it lacks is a refusal, never another
// language's message), every message form once into a text/template; the
// three template files are parsed once per covered language with t and tc
// bound to that language's table. Then, per language, every action whose
// output is the same for every recipient (a message without data, .Locale,
// .Dir, and .Data when New is given the campaign's data) becomes the exact
// text html/template printed for it, and the message calls left at a
// template's top level read messages Render evaluates once per recipient.
// Both rewrites happen before html/template escapes anything and are kept
// only when html/template's own rendering of the rewritten template equals
// its rendering of the standard one on hostile probes (fold.go, hoist.go).
// Render executes the templates with the standard text/template and
// html/template Execute, except a text template or catalog message whose
// tree is only text and string fields, which it prints part by part as
// text/template would (plain.go; never html.tmpl, whose escapers only
// html/template runs); the plural form of small counts is remembered per
// language.
//
// Plural counts (the second argument of tc) are whole numbers, given as an
// integer or a string such as a recipients column, or decimals given as text
// ("1.5"). The plural form is the one go-i18n selects for the count, and a
// language covers a plural key only with every form go-i18n's CLDR rules can
// select for it (ru: one, few, many, other; ar: zero to other; ja: other):
// one rule for both (see pluralRule).
//
// go-i18n lives only in this package.
package render

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/tidings-mail/tidings/internal/csvcell"
	"github.com/tidings-mail/tidings/internal/oneline"
)

// Policy is the campaign's locale policy.
type Policy struct {
	// Aliases maps a requested locale (compared case-insensitively and
	// canonicalised, so "GSW", "gsw" and "gsw" are one key) to a catalog
	// language, e.g. gsw: de.
	Aliases map[string]string
	// MissingLocale is "" or "refuse" to refuse empty and unparsable locales;
	// otherwise the catalog language they are served in (e.g. "en").
	MissingLocale string
}

// Config configures an Engine.
type Config struct {
	Templates     fs.FS  // contains <Template>/subject.tmpl, html.tmpl, text.tmpl
	Locales       fs.FS  // contains <lang>.toml|.json|.yaml|.yml
	Template      string // the template directory name, e.g. welcome
	DefaultLocale string // language the template was written in; must have a catalog (default "en")
	Policy        Policy
	// Data is the campaign's data, the .Data every recipient is rendered
	// with, or nil. When given (text, numbers, booleans, times,
	// html/template content types, maps and lists of those), New folds it
	// into each language's templates with the constant messages; Render
	// uses the folded templates only for recipients whose Data equals it,
	// and the standard ones for any other, so that no recipient is rendered
	// with data other than their own. The engine keeps a copy: changing the
	// map later changes nothing.
	Data map[string]any
}

// Match is an accepted locale: the recipient's Requested value and the
// catalog language Lang it is served in. Via says how: exact, equivalent
// (iw for he), match, alias or missing_locale.
type Match struct {
	Requested string `json:"requested"`
	Lang      string `json:"lang"`
	Via       string `json:"via"`
}

// Via values of Match.
const (
	ViaExact = "exact"
	// ViaEquivalent: the locale is another spelling of the catalog's
	// language (a renamed code, iw for he; cmn for zh, see parseTag).
	ViaEquivalent    = "equivalent"
	ViaMatch         = "match"
	ViaAlias         = "alias"
	ViaMissingLocale = "missing_locale"
)

// Coverage tells whether one catalog language covers the template. Missing
// lists what it lacks: "welcome.reregister" for a key, "welcome.posts (few)"
// for plural forms.
type Coverage struct {
	Lang string `json:"lang"`
	File string `json:"file"`
	// NamedAs is the language tag the file's name spells when it is
	// another spelling of Lang (iw for he, cmn for zh), else empty.
	NamedAs string   `json:"named_as,omitempty"`
	Covered bool     `json:"covered"`
	Missing []string `json:"missing,omitempty"`
}

// Spelled says which file is the catalog when its name spells the
// language otherwise ("locales/iw.toml (its name, iw, is he)"), for the
// galleries QA reads; "" when the name is the language's.
func (c Coverage) Spelled() string {
	if c.NamedAs == "" {
		return ""
	}
	return fmt.Sprintf("%s (its name, %s, is %s)", c.File, c.NamedAs, c.Lang)
}

// Data is one recipient's template data. Locale, RequestedLocale and Dir are
// filled from the Match.
type Data struct {
	ID, Email, Name, Campaign string
	// Unsubscribe is the URL of the recipient's List-Unsubscribe header
	// when it is an http(s) URL, as .Unsubscribe; "" with none or a
	// mailto URL.
	Unsubscribe string
	Fields      map[string]string // extra recipients columns, as .Fields.<column>
	Data        map[string]any    // the campaign's data, as .Data.<key>
}

// Rendered is one rendered message.
type Rendered struct {
	Lang    string // the catalog language it was rendered in
	Subject string // one line, no control characters
	HTML    string
	Text    string
}

// view is what templates and catalog messages see as ".". It has no
// methods: a field reference never runs code.
type view struct {
	// M0 to M15 are the messages Render evaluated before executing the
	// templates, which read them where they called t or tc (hoist.go),
	// and copies of the recipient fields of split messages (split.go).
	// They are not template data: New refuses a template or message that
	// names them. They are fields of the view itself, first, because
	// text/template looks a field up by name, in order, at every action:
	// {{.M0}} is one lookup where {{.Messages.M0}} was two.
	M0, M1, M2, M3, M4, M5, M6, M7, M8, M9, M10, M11, M12, M13, M14, M15 string

	ID, Email, Name, Campaign string
	// Locale is the matched catalog language, RequestedLocale the raw value.
	Locale, RequestedLocale string
	// Dir is "rtl" for right-to-left languages, else "ltr".
	Dir string
	// Unsubscribe is the recipient's List-Unsubscribe http(s) URL, or "".
	Unsubscribe string
	Fields      map[string]string
	Data        map[string]any
	// Count is the count inside a plural message (tc), "0" elsewhere.
	Count string
}

// viewPool recycles views: a render needs one, and each plural message with
// actions one more for its count.
var viewPool = sync.Pool{New: func() any { return new(view) }}

func getView() *view { return viewPool.Get().(*view) }

// putView clears v (it holds recipient data) and returns it to the pool.
func putView(v *view) {
	*v = view{}
	viewPool.Put(v)
}

// newView returns the view of d for a recipient served in l.
func newView(l *engineLang, m Match, d Data) *view {
	v := getView()
	*v = view{
		ID: d.ID, Email: d.Email, Name: d.Name, Campaign: d.Campaign,
		Locale: l.cat.lang, RequestedLocale: m.Requested, Dir: l.dir, Unsubscribe: d.Unsubscribe,
		Fields: d.Fields, Data: d.Data, Count: "0",
	}
	return v
}

// engineLang is one catalog language of an Engine.
type engineLang struct {
	cat  *catalog
	msgs map[string]*message // the language's own messages, and no others
	rule *pluralRule
	tmpl *langTemplates // the templates bound to this language, folded; nil if not covered
	std  *langTemplates // the standard templates, for data other than the folded campaign data; nil without it
	dir  string
	cov  Coverage
	// printed are the recipients columns the template prints in this
	// language (direction.go).
	printed []printedColumn
}

// Engine renders one template in every covered catalog language. It is safe
// for concurrent use.
type Engine struct {
	name         string
	keys         []keyUse      // the message keys the template uses, sorted
	uses         []keyUse      // every use of a message key, in file order
	fields       []fieldUse    // every use of .Fields and .Data, in file order
	fieldsItself []fieldUse    // every use of .Fields itself, in file order (direction.go)
	langs        []*engineLang // sorted by language
	byLang       map[string]*engineLang
	tags         []language.Tag
	matcher      language.Matcher
	aliases      map[string]string // canonical requested -> catalog language
	missing      string            // catalog language for empty/unparsable, or ""
	hash         string
	files        map[string][]byte // the files hash covers, as read
	resolved     sync.Map          // requested string -> resolution
	nres         atomic.Int64
	data         map[string]any // the campaign data folded into the templates, or nil
	prose        func() []literal
	def          *catalog // the default catalog
}

type resolution struct {
	m   Match
	err error
}

// maxResolveCache bounds the Resolve cache (locale values are few; garbage
// values must not grow memory without bound).
const maxResolveCache = 4096

// New parses the template and every catalog, computes coverage and the
// content hash. Template and catalog problems are *FileError, a catalog
// message that breaks the catalog rule too (with its Key); an unknown
// template is an *UnknownTemplateError; a default locale, alias target or
// missing-locale language without catalog wraps ErrNoCatalog.
func New(cfg Config) (*Engine, error) {
	if cfg.DefaultLocale == "" {
		cfg.DefaultLocale = "en"
	}
	set, err := loadTemplate(cfg.Templates, cfg.Template)
	if err != nil {
		return nil, err
	}
	if len(set.issues) > 0 {
		return nil, set.issues[0]
	}
	cats, err := loadCatalogs(cfg.Locales)
	if err != nil {
		return nil, err
	}
	if len(cats) == 0 {
		return nil, fmt.Errorf("load catalogs: %w: the locales directory holds no <lang>.toml, .json, .yaml or .yml file", ErrNoCatalog)
	}
	for _, c := range cats {
		if len(c.issues) > 0 {
			return nil, c.issues[0]
		}
	}
	e := &Engine{name: cfg.Template, keys: set.keys(), uses: set.uses, fields: set.fields, fieldsItself: set.fieldsItself, byLang: map[string]*engineLang{}, aliases: map[string]string{}}
	if cfg.Data != nil {
		// Data that is not plain (a pointer, a function) is not folded: it
		// could change behind the engine's back.
		e.data, _ = campaignData(cfg.Data)
	}

	def, err := e.catalogFor(cats, cfg.DefaultLocale, "default_locale")
	if err != nil {
		return nil, err
	}
	e.prose, e.def = sync.OnceValue(set.prose), def
	for _, c := range cats {
		// go-i18n's own check of the messages (ids, plural forms).
		if err := i18n.NewBundle(c.tag).AddMessages(c.tag, c.messages...); err != nil {
			return nil, &FileError{File: c.file, Msg: fmt.Sprintf("cannot load messages: %s", err.Error())}
		}
	}
	// The default language goes first: it is the matcher's fallback, which
	// the locale rule never accepts anyway (confidence No).
	sort.SliceStable(cats, func(i, j int) bool { return cats[i] == def && cats[j] != def })
	for _, c := range cats {
		missing := missingFor(c, e.keys)
		msgs, err := compileMessages(c)
		if err != nil {
			return nil, err
		}
		l := &engineLang{
			cat:  c,
			msgs: msgs,
			rule: pluralRuleFor(c.tag),
			dir:  direction(c.tag),
			cov:  Coverage{Lang: c.lang, File: c.file, Covered: len(missing) == 0, Missing: missing},
		}
		l.printed = e.printedColumns(l)
		if base := catalogBase(c.file); canonKey(base) != canonKey(c.lang) {
			l.cov.NamedAs = base
		}
		// A language that does not cover the template is refused before
		// rendering: it gets no templates.
		if l.cov.Covered {
			if l.tmpl, l.std, err = set.parseFor(l, e.data); err != nil {
				return nil, fmt.Errorf("parse template %s for %s: %w", cfg.Template, c.lang, err)
			}
		}
		e.langs = append(e.langs, l)
		e.byLang[strings.ToLower(c.lang)] = l
		e.tags = append(e.tags, c.tag)
	}
	e.matcher = language.NewMatcher(e.tags)
	sort.Slice(e.langs, func(i, j int) bool { return e.langs[i].cat.lang < e.langs[j].cat.lang })

	aliasKeys := make([]string, 0, len(cfg.Policy.Aliases))
	for k := range cfg.Policy.Aliases {
		aliasKeys = append(aliasKeys, k)
	}
	sort.Strings(aliasKeys)
	for _, k := range aliasKeys {
		v := cfg.Policy.Aliases[k]
		c, err := e.catalogFor(cats, v, "locale_policy", "aliases", k)
		if err != nil {
			return nil, err
		}
		e.aliases[canonKey(k)] = c.lang
	}
	if ml := strings.TrimSpace(cfg.Policy.MissingLocale); ml != "" && !strings.EqualFold(ml, "refuse") {
		c, err := e.catalogFor(cats, ml, "locale_policy", "missing_locale")
		if err != nil {
			return nil, err
		}
		e.missing = c.lang
	}

	files := map[string][]byte{}
	for k, b := range set.files {
		files[k] = b
	}
	for _, c := range cats {
		files[c.file] = c.src
	}
	e.hash, e.files = hashFiles(files), files
	return e, nil
}

// catalogFor finds the catalog whose language is exactly lang, which the
// configuration's key names (a *NoCatalogError without one).
func (e *Engine) catalogFor(cats []*catalog, lang string, key ...string) (*catalog, error) {
	tag, err := parseTag(strings.TrimSpace(lang))
	if err == nil {
		for _, c := range cats {
			if c.tag == tag {
				return c, nil
			}
		}
	}
	have := make([]string, 0, len(cats))
	for _, c := range cats {
		have = append(have, c.lang)
	}
	return nil, &NoCatalogError{Key: key, Lang: lang, Have: have}
}

// missingFor lists what catalog c lacks for the template keys.
func missingFor(c *catalog, keys []keyUse) []string {
	var out []string
	for _, k := range keys {
		m := c.byID[k.Key]
		if m == nil {
			out = append(out, k.Key)
			continue
		}
		if f := missingForms(c, m, k.Plural); len(f) > 0 {
			out = append(out, fmt.Sprintf("%s (%s)", k.Key, strings.Join(f, ", ")))
		}
	}
	return out
}

// missingForms lists the plural forms message m lacks in catalog c: every
// form the language needs when the key is used through tc, else "other".
// A form that prints nothing whatever the data (blankForm) is lacking too,
// listed as "other: blank": an empty translation in disguise.
func missingForms(c *catalog, m *i18n.Message, plural bool) []string {
	have := messageForms(m)
	need := []string{"other"}
	if plural {
		need = c.forms
	}
	var out []string
	for _, f := range need {
		switch {
		case have[f] == "":
			out = append(out, f)
		case blankForm(have[f], m.LeftDelim, m.RightDelim):
			out = append(out, f+blankSuffix)
		}
	}
	return out
}

// posixHint says what a POSIX locale ("en_US.UTF-8", "de_CH@euro", "C")
// would be as a language tag, for a refusal's reason; "" for other text.
// Only said: such a locale is still refused (which language it means is
// the file's to say).
func posixHint(s string) string {
	base, _, _ := strings.Cut(s, ".")
	base, _, _ = strings.Cut(base, "@")
	if base == s {
		return ""
	}
	if base == "C" || base == "POSIX" {
		return " (a POSIX locale that names no language: write the recipient's language, such as de or pt-BR)"
	}
	tag, err := language.Parse(strings.ReplaceAll(base, "_", "-"))
	if err != nil {
		return ""
	}
	return fmt.Sprintf(" (a POSIX locale: as a language tag it is %s; fix the file, or map it with locale_policy.aliases)", tag)
}

// invisibleHint names the first character of s that a spreadsheet shows
// as nothing or as a space (a zero-width or no-break space, a BOM, a
// direction mark), which makes a locale unparsable although it looks
// right.
func invisibleHint(s string) string {
	if r, i, ok := csvcell.Invisible(s); ok {
		return fmt.Sprintf(" (it holds the invisible character U+%04X at byte %d: remove it)", r, i)
	}
	return ""
}

// Hash returns the hex sha256 of the template files and every catalog file
// (sorted names and bytes): the content version a campaign is approved with.
func (e *Engine) Hash() string { return e.hash }

// Snapshot returns the files Hash covers, as the engine read them (a copy of
// the map; the bytes are shared and must not be changed), keyed as
// render.Snapshot keys them.
func (e *Engine) Snapshot() map[string][]byte { return maps.Clone(e.files) }

// Template returns the template name.
func (e *Engine) Template() string { return e.name }

// Prose returns the literal prose of the template (prose.go): text that
// would reach every recipient untranslated, whatever their language. Found
// on the first call, not when the engine is built (a worker or a preview
// has no use for it). path turns the snapshot names of the files into the
// paths the operator can open (nil: as they are). Inspect reports the same
// problems among the others.
func (e *Engine) Prose(path func(string) string) []Problem {
	if path == nil {
		path = func(name string) string { return name }
	}
	out := proseProblems(e.prose(), e.name, e.keys, e.def, path(e.def.file))
	for i := range out {
		out[i].File = path(out[i].File)
	}
	return out
}

// Languages returns the coverage of every catalog language, sorted by
// language.
func (e *Engine) Languages() []Coverage {
	out := make([]Coverage, len(e.langs))
	for i, l := range e.langs {
		out[i] = l.cov
		out[i].Missing = append([]string(nil), l.cov.Missing...)
	}
	return out
}

// Resolve applies the locale rule to a recipient's locale. The error is
// always a *Refusal (errors.Is(err, ErrLocaleNotCovered)).
func (e *Engine) Resolve(requested string) (Match, error) {
	if v, ok := e.resolved.Load(requested); ok {
		r := v.(resolution)
		return r.m, r.err
	}
	// A copy: the cache outlives the caller's string, which may be a slice
	// of a much larger one (a worker's recipients share their chunk's
	// memory).
	requested = strings.Clone(requested)
	m, err := e.resolve(requested)
	if e.nres.Load() < maxResolveCache {
		if _, loaded := e.resolved.LoadOrStore(requested, resolution{m, err}); !loaded {
			e.nres.Add(1)
		}
	}
	return m, err
}

func (e *Engine) resolve(requested string) (Match, error) {
	s := strings.TrimSpace(requested)
	if s != "" {
		if lang, ok := e.aliases[canonKey(s)]; ok {
			return e.accept(requested, lang, ViaAlias)
		}
	}
	if s == "" {
		if e.missing != "" {
			return e.accept(requested, e.missing, ViaMissingLocale)
		}
		return Match{}, refusal(requested, CodeEmpty, "", "empty locale", emptyFix)
	}
	if canonKey(s) == "i-default" {
		// x/text reads it as en-x-i-default, but it says the recipient has
		// no language of their own (RFC 3066's default language context).
		if e.missing != "" {
			return e.accept(requested, e.missing, ViaMissingLocale)
		}
		return Match{}, &Refusal{Requested: requested, Code: CodeUnparsable,
			Reason: fmt.Sprintf("locale %q names no language (it asks for a default one, which x/text reads as English): write the recipient's language, such as de or pt-BR, or map such locales with locale_policy.missing_locale", requested)}
	}
	if e.missing != "" && namesNone(s) {
		return e.accept(requested, e.missing, ViaMissingLocale)
	}
	tag, err := parseTag(s)
	if sc := (*serboCroatianError)(nil); errors.As(err, &sc) {
		return Match{}, &Refusal{Requested: requested, Code: CodeNotCovered,
			Reason: fmt.Sprintf("not-covered: locale %s: tidings does not choose; map it with locale_policy.aliases, such as %s: hr", sc.Error(), Clip(strings.TrimSpace(requested)))}
	}
	if xe := (*extlangError)(nil); errors.As(err, &xe) {
		return Match{}, &Refusal{Requested: requested, Code: CodeNotCovered,
			Reason: fmt.Sprintf("not-covered: locale %s: tidings does not choose; write the recipient's one language in the row's locale (such as %s, or %s), or map it with locale_policy.aliases, such as %s: %s", xe.Error(), xe.first, xe.ext, Clip(strings.TrimSpace(requested)), xe.first)}
	}
	if ve := (*variantLanguageError)(nil); errors.As(err, &ve) {
		return Match{}, &Refusal{Requested: requested, Code: CodeNotCovered,
			Reason: fmt.Sprintf("not-covered: locale %s, which x/text does not know: nobody whose locale is %s is sent; map it with locale_policy.aliases to the catalog written in it, or remove these rows", ve.Error(), Clip(strings.TrimSpace(requested)))}
	}
	if err != nil {
		hint := invisibleHint(s)
		if hint == "" {
			hint = nonASCIIHint(s)
		}
		if namesNone(s) && posixHint(s) == "" {
			hint = noneHint
		}
		hint = posixHint(s) + hint
		reason := fmt.Sprintf("unparsable locale %q", Clip(requested)) + hint
		if ve := language.ValueError(nil); errors.As(err, &ve) {
			// Well-formed, but a subtag no registry knows: the language
			// (xx-YY), or a region, script or variant (de-YY).
			what := "subtag"
			if first, _, _ := strings.Cut(s, "-"); strings.EqualFold(first, ve.Subtag()) {
				what = "language"
			}
			reason = fmt.Sprintf("unknown %s %q in locale %q: no registry has that code; fix the file (such as de or pt-BR)", what, Clip(ve.Subtag()), Clip(requested))
		} else if hint == "" && e.missing == "" {
			return Match{}, refusal(requested, CodeUnparsable, "", reason, unparsableFix)
		}
		if e.missing != "" {
			// Lest the operator wonder why missing_locale did not take it.
			reason += "; " + missingTakes
		}
		return Match{}, &Refusal{Requested: requested, Code: CodeUnparsable, Reason: reason}
	}

	_, idx, conf := e.matcher.Match(tag)
	cand := e.tags[idx]
	if l := e.byLang[strings.ToLower(tag.String())]; l != nil {
		// The catalog of the recipient's own tag is theirs: x/text's
		// matcher ignores variants, extensions and private use, and would
		// send a ca-ES-valencia or de-x-formal recipient the ca or de
		// catalog, whereas preview shows that catalog as their language.
		cand, conf = l.cat.tag, language.Exact
	}
	if conf < language.High || !sameBase(tag, cand) || !sameScript(tag, cand) {
		reason := "not-covered: no catalog for " + tag.String()
		// An alias maps the locale it names, exactly: say so when the
		// base language has one (gsw: de does not cover gsw-CH).
		base, _ := tag.Base()
		if e.aliases[canonKey(base.String())] != "" {
			reason += fmt.Sprintf(" (the alias of %s covers %s only: add %s to locale_policy.aliases to map it too)", base, base, tag)
			return Match{}, &Refusal{Requested: requested, Code: CodeNotCovered, Reason: reason}
		}
		// These hints say what to do in their own words: no Fix after them.
		if namesNone(s) {
			return Match{}, &Refusal{Requested: requested, Code: CodeNotCovered, Reason: reason + noneHint}
		}
		if what := noLanguage[base.String()]; what != "" && base.String() != "und" {
			reason += fmt.Sprintf(" (%s says %s: write the recipient's language, such as de or pt-BR)", base, what)
			return Match{}, &Refusal{Requested: requested, Code: CodeNotCovered, Reason: reason}
		}
		if h := e.norwegianHint(requested, tag); h != "" {
			return Match{}, &Refusal{Requested: requested, Code: CodeNotCovered, Reason: reason + h}
		}
		return Match{}, noCatalog(requested, reason, tag)
	}
	via := ViaMatch
	if tag == cand {
		via = ViaExact
		// Written otherwise than the language it is read as (iw, cmn,
		// zh-guoyu, ger; nob and deu, which even Raw reads as nb and de):
		// an equivalence, not the catalog's own tag.
		base, _ := tag.Base()
		first, _, _ := strings.Cut(s, "-")
		if raw, err := language.Raw.Parse(s); (err == nil && !strings.EqualFold(raw.String(), tag.String())) || !strings.EqualFold(first, base.String()) {
			via = ViaEquivalent
		}
	}
	return e.accept(requested, cand.String(), via)
}

// accept returns the Match for lang if lang is covered.
func (e *Engine) accept(requested, lang, via string) (Match, error) {
	l := e.byLang[strings.ToLower(lang)]
	if l == nil {
		// New refuses a policy that names a language without catalog:
		// only a catalog gone since could bring this here.
		return Match{}, noCatalog(requested, "not-covered: no catalog for "+lang, language.Make(lang))
	}
	if !l.cov.Covered {
		return Match{}, refusal(requested, CodeIncomplete, l.cat.lang,
			fmt.Sprintf("incomplete: %s lacks %s", l.cat.lang, strings.Join(l.cov.Missing, ", ")),
			fmt.Sprintf("nobody whose locale is served in %s is sent; add the missing messages to %s", l.cat.lang, l.cat.file))
	}
	return Match{Requested: requested, Lang: l.cat.lang, Via: via}, nil
}

// emptyFix is the Fix of an empty locale's refusal when no missing_locale
// maps it.
const emptyFix = "write the recipient's language in the row's locale (such as de or pt-BR), " +
	"or map empty locales with locale_policy.missing_locale; until then the row is refused, not sent"

// unparsableFix is the Fix of a locale that is not a language tag when no
// hint says more.
const unparsableFix = "write a language tag in the row's locale (such as de or pt-BR), " +
	"or map this spelling under locale_policy.aliases; until then the row is refused, not sent"

// noCatalog is the refusal, for reason, of a locale (tag) no catalog
// covers: its Fix and Catalog name the catalog file that would cover it
// (noCatalogFix).
func noCatalog(requested, reason string, tag language.Tag) *Refusal {
	fix, file := noCatalogFix(tag)
	r := refusal(requested, CodeNotCovered, "", reason, fix)
	r.Catalog = file
	return r
}

// noCatalogFix says, for a locale no catalog covers, which catalog file
// would cover it: the language's own (pt.toml covers pt-BR), with the
// script when the locale is written in another script than the language
// usually is (zh-Hant.toml for zh-Hant-TW and zh-TW, sr-Latn.toml for
// sr-Latn); file is that file's name, "" when no catalog can cover it.
func noCatalogFix(tag language.Tag) (fix, file string) {
	locale := tag.String()
	if _, c := tag.Base(); c != language.Exact {
		// und, und-CH: x/text guesses a language from the region or
		// script, which is not the recipient's.
		return fmt.Sprintf("%s names no language: write the recipient's language in the row's locale (such as de or pt-BR); until then the row is refused, not sent", locale), ""
	}
	if name := catalogName(tag); !hasPluralRules(tag) {
		return fmt.Sprintf("nobody whose locale is %s is sent; go-i18n, which reads the catalogs, has no plural rules for %s, so no catalog %s.toml can load: "+
			"map %s under locale_policy.aliases to a language these recipients read, or remove these rows", locale, name, name, locale), ""
	}
	file = catalogName(tag) + ".toml"
	return fmt.Sprintf("nobody whose locale is %s is sent; add %s, with every message the template uses, to the locales directory (locales_dir), "+
		"or map %s under locale_policy.aliases, or remove these rows", locale, file, locale), file
}

// hasPluralRules reports whether go-i18n has plural rules for tag's
// language, without which it loads no catalog of it ("no plural rule
// registered"): a refusal must not say to add one.
func hasPluralRules(tag language.Tag) bool {
	base, _ := tag.Base()
	t := language.Make(base.String())
	return i18n.NewBundle(t).AddMessages(t, &i18n.Message{ID: "p", Other: "p"}) == nil
}

// catalogName is the name (without extension) of the catalog that would
// cover tag: its base language, and its script when that is not the one
// the base language is usually written in.
func catalogName(tag language.Tag) string {
	base, _ := tag.Base()
	name := base.String()
	script, _ := tag.Script()
	usual, _ := language.Make(name).Script()
	if script != usual {
		name += "-" + script.String()
	}
	return name
}

// sameBase reports whether requested tag a names the base language of b.
// A tag without a language ("und-CH") has a base that x/text only guesses
// from the region or script (und-CH -> de, und-BE -> nl) and reports at
// High: a guess is not the recipient's language, so it never matches.
func sameBase(a, b language.Tag) bool {
	ab, c := a.Base()
	if c != language.Exact {
		return false
	}
	bb, _ := b.Base()
	return ab == bb
}

// sameScript compares the (likely) scripts: Hans and Hant, Latn and Cyrl are
// different written languages.
func sameScript(a, b language.Tag) bool {
	as, _ := a.Script()
	bs, _ := b.Script()
	return as == bs
}

// canonKey normalises a requested locale or alias key for comparison: its
// spelling only (case, surrounding space, "_" for "-"), never a tag's
// canonical form: x/text rewrites legacy and deprecated tags into other
// languages' (sh and hbs to sr-Latn, mo to ro-MD, tl to fil), and an alias
// maps the locale it names, exactly (sh: hr must not take sr-Latn). Only
// ASCII letters are folded: strings.ToLower would fold the Kelvin sign
// (U+212A) to k, and a lookalike is no spelling of a tag.
func canonKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '_':
			return '-'
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return r
	}, strings.TrimSpace(s))
}

// namesNone reports whether s, a locale, says that the recipient has no
// language: POSIX's C or POSIX (with any charset or modifier), und, i-default
// and the words exports write for a missing value. Only those are for
// missing_locale: anything else that does not parse may name a language
// in a spelling x/text does not read (de_CH.UTF-8, de/CH, de,en;q=0.5,
// Deutsch, a full-width ｄｅ), and that person is refused, not sent the
// language missing_locale names.
func namesNone(s string) bool {
	k := canonKey(s)
	base := k
	if i := strings.IndexAny(k, ".@"); i >= 0 {
		base = k[:i] // C.UTF-8, C@euro, POSIX.utf8@x
	}
	return base == "c" || base == "posix" || noneWords[k]
}

// noneHint ends the refusal of a locale that says there is none when the
// campaign has no missing_locale.
const noneHint = " (it says the recipient has no language: write theirs, such as de or pt-BR, or map such locales with locale_policy.missing_locale)"

// noneSpellings are the locales, in canonKey's form, that say there is
// none, besides empty, C and POSIX: namesNone takes them, and
// missingTakes lists them, from here alone.
var noneSpellings = []string{"und", "i-default", "n/a", "none", "null", "nil", "unknown", "undefined", "-", "--", "?", "*"}

// noneWords is noneSpellings as a set.
var noneWords = func() map[string]bool {
	m := make(map[string]bool, len(noneSpellings))
	for _, w := range noneSpellings {
		m[w] = true
	}
	return m
}()

// missingTakes ends the refusal of a locale that missing_locale did not
// take: it lists every spelling namesNone takes.
var missingTakes = "missing_locale maps only a locale that says there is none (empty, C or POSIX, " + strings.Join(noneSpellings, ", ") + "): map this spelling with locale_policy.aliases if it is one"

// rtlScripts are the scripts written right to left.
var rtlScripts = map[string]bool{
	"Arab": true, "Hebr": true, "Syrc": true, "Thaa": true, "Nkoo": true, "Adlm": true,
	"Rohg": true, "Mand": true, "Samr": true, "Mend": true, "Yezi": true, "Aran": true,
}

// Direction is "rtl" or "ltr": the direction of catalog language lang's
// script, as the templates' .Dir says it ("ltr" for a tag that does not
// parse).
func Direction(lang string) string {
	tag, err := language.Parse(lang)
	if err != nil {
		return "ltr"
	}
	return direction(tag)
}

// direction returns "rtl" or "ltr" for tag's script.
func direction(tag language.Tag) string {
	s, _ := tag.Script()
	if rtlScripts[s.String()] {
		return "rtl"
	}
	return "ltr"
}

// Render renders the template for one recipient in m.Lang. It applies the
// locale rule again to m.Requested and refuses (*Refusal) unless that yields
// m.Lang and m.Lang is covered; every message comes from m.Lang's own
// catalog. It never renders another language. With Config.Data, a
// recipient whose Data differs from it is rendered with the standard
// templates: their own data, at the standard templates' speed.
func (e *Engine) Render(m Match, d Data) (Rendered, error) {
	l, err := e.langFor(m)
	if err != nil {
		return Rendered{}, err
	}
	if err := e.directionControlIn(l, d); err != nil {
		return Rendered{}, err
	}
	return e.render(l, l.templatesFor(d, e.data), m, d)
}

// render renders d, served in l, with ts.
func (e *Engine) render(l *engineLang, ts *langTemplates, m Match, d Data) (Rendered, error) {
	var err error
	v := newView(l, m, d)
	defer putView(v)
	if ts.messages != nil && !ts.messages.fill(l, v) {
		ts = ts.fallback
	}
	r := Rendered{Lang: l.cat.lang}
	if ts.subject.exec == nil {
		r.Subject = ts.subjectLine
	} else {
		s, err := e.output(ts.subject, v, l, "subject.tmpl")
		if err != nil {
			return Rendered{}, err
		}
		r.Subject = oneline.Of(s)
	}
	if r.HTML, err = e.output(ts.html, v, l, "html.tmpl"); err != nil {
		return Rendered{}, err
	}
	if r.Text, err = e.output(ts.text, v, l, "text.tmpl"); err != nil {
		return Rendered{}, err
	}
	return r, nil
}

// builderPool holds the strings.Builders output executes templates into,
// without their bytes (Reset): a Builder given to Execute, an io.Writer,
// would be allocated for every output.
var builderPool = sync.Pool{New: func() any { return new(strings.Builder) }}

// outputSlack is what an output may grow by, over the longest so far,
// without a second allocation: longer names and counts.
const outputSlack = 64

// output renders one template file for v: its constant output, or its
// execution, written into a string of the size the file usually takes
// (no copy).
func (e *Engine) output(f fileTemplate, v *view, l *engineLang, file string) (string, error) {
	if f.exec == nil {
		return f.constant, nil
	}
	if f.plain != nil {
		if s, ok := execPlain(f.plain, v, v.Count); ok {
			return s, nil
		}
	}
	b := builderPool.Get().(*strings.Builder)
	defer func() { b.Reset(); builderPool.Put(b) }() // Reset lets go of the output
	b.Grow(int(f.size.Load()) + outputSlack)
	if err := f.exec.Execute(b, v); err != nil {
		var ref *Refusal
		if errors.As(err, &ref) {
			return "", ref
		}
		return "", e.renderError(l, file, v, err)
	}
	if n := int64(b.Len()); n > f.size.Load() {
		f.size.Store(n)
	}
	return b.String(), nil
}

// langFor applies the locale rule to m again: the covered language m.Lang,
// if m.Requested resolves to it, else a *Refusal.
func (e *Engine) langFor(m Match) (*engineLang, error) {
	got, err := e.Resolve(m.Requested)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(got.Lang, m.Lang) {
		return nil, &Refusal{Requested: m.Requested, Code: CodeNotCovered,
			Reason: fmt.Sprintf("not-covered: %q resolves to %s, not %s", m.Requested, got.Lang, m.Lang)}
	}
	return e.byLang[strings.ToLower(got.Lang)], nil
}

// executor is a text or html template.
type executor interface {
	Execute(w io.Writer, data any) error
}

// hashFiles hashes sorted names and contents, each length-prefixed.
func hashFiles(files map[string][]byte) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	var n [8]byte
	for _, name := range names {
		binary.BigEndian.PutUint64(n[:], uint64(len(name)))
		h.Write(n[:])
		h.Write([]byte(name))
		binary.BigEndian.PutUint64(n[:], uint64(len(files[name])))
		h.Write(n[:])
		h.Write(files[name])
	}
	return hex.EncodeToString(h.Sum(nil))
}
