package render

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// Severities of a Problem.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Problem is one finding of Lint. File is named like the keys of Snapshot
// ("templates/welcome/html.tmpl", "locales/de.toml"; see ResolvePath); Line
// is the template line or the catalog line of the key.
type Problem struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Lang     string `json:"lang,omitempty"`
	Key      string `json:"key,omitempty"`
	Severity string `json:"severity"`
	Msg      string `json:"msg"`
}

// String returns "file:line: msg", with "warning: " before warnings.
func (p Problem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	if p.Severity == SeverityWarning {
		return loc + ": warning: " + p.Msg
	}
	return loc + ": " + p.Msg
}

// LanguageSummary is one catalog's line in the check summary.
type LanguageSummary struct {
	Lang           string `json:"lang"`
	File           string `json:"file"`
	Keys           int    `json:"keys"`            // messages in the catalog
	Missing        int    `json:"missing"`         // template keys it lacks
	PluralProblems int    `json:"plural_problems"` // keys lacking plural forms
	Errors         int    `json:"errors"`
	Warnings       int    `json:"warnings"`
	Status         string `json:"status"` // ok, incomplete, errors, warnings
}

// Report is the result of Inspect.
type Report struct {
	Templates []string          `json:"templates"`
	Default   string            `json:"default_locale"`
	Problems  []Problem         `json:"problems"`
	Languages []LanguageSummary `json:"languages"`
}

// Errors counts the problems of severity error.
func (r *Report) Errors() int {
	n := 0
	for _, p := range r.Problems {
		if p.Severity == SeverityError {
			n++
		}
	}
	return n
}

// Lint checks every template directory against every catalog: template
// errors, literal prose in templates (prose.go), keys used but missing per
// language, missing plural forms, unused keys (warning), placeholders that
// differ from the default language, and unknown data fields. Input that cannot be read or parsed at all is returned
// as a single error Problem.
func Lint(templates, locales fs.FS, defaultLocale string) []Problem {
	r, err := Inspect(templates, locales, defaultLocale)
	if err != nil {
		return []Problem{problemFromErr(err)}
	}
	return r.Problems
}

func problemFromErr(err error) Problem {
	var fe *FileError
	if errors.As(err, &fe) {
		return fe.problem()
	}
	return Problem{Severity: SeverityError, Msg: err.Error()}
}

// Inspect is Lint with the per-language summary. It checks the named
// templates (every template directory when none is named). A template or
// catalog that does not parse is a problem with its file and line, and
// every other file is still checked (a broken or missing default catalog
// is a problem then too). What cannot be inspected at all (no templates
// or catalogs, an unknown template, a missing default catalog when no
// file is at fault) is returned as an error.
func Inspect(templates, locales fs.FS, defaultLocale string, names ...string) (*Report, error) {
	if defaultLocale == "" {
		defaultLocale = "en"
	}
	if templates == nil || locales == nil {
		return nil, errors.New("inspect: templates and locales directories are required")
	}
	if len(names) == 0 {
		if _, err := fs.ReadDir(templates, "."); err != nil {
			return nil, fmt.Errorf("inspect: cannot list the templates directory (%s)", errText(err))
		}
		names = templateNames(templates)
		if len(names) == 0 {
			return nil, errors.New("inspect: the templates directory holds no template; a template is a directory <name>/ with subject.tmpl, html.tmpl and text.tmpl")
		}
	}
	r := &Report{Templates: names}
	var sets []*tmplSet
	for _, n := range names {
		s, err := loadTemplate(templates, n)
		if fe := (*FileError)(nil); errors.As(err, &fe) {
			// Said with the others; its keys cannot be checked.
			r.Problems = append(r.Problems, fe.problem())
			continue
		}
		if err != nil {
			return nil, err
		}
		sets = append(sets, s)
		for _, is := range s.issues {
			r.Problems = append(r.Problems, Problem{File: is.File, Line: is.Line, Severity: SeverityError, Msg: is.Msg})
		}
	}
	cats, bad, err := readCatalogs(locales)
	if err != nil {
		return nil, err
	}
	for _, fe := range bad {
		r.Problems = append(r.Problems, fe.problem())
	}
	r.Problems = append(r.Problems, notRead(locales, cats)...)
	if len(cats) == 0 && len(bad) == 0 {
		return nil, fmt.Errorf("inspect: %w: the locales directory holds no <lang>.toml, .json, .yaml or .yml file", ErrNoCatalog)
	}
	var e Engine
	def, err := e.catalogFor(cats, defaultLocale, "default_locale")
	switch {
	case err != nil && len(bad) == 0:
		return nil, err
	case err != nil:
		// Missing (said here) or among the files said above: the others
		// are still checked, with nothing to compare them with.
		want, _ := parseTag(strings.TrimSpace(defaultLocale))
		if !slices.ContainsFunc(bad, func(fe *FileError) bool {
			t, err := parseTag(catalogBase(fe.File))
			return err == nil && t == want
		}) {
			p := problemFromErr(err)
			p.File = "locales/"
			r.Problems = append(r.Problems, p)
		}
		def = &catalog{lang: defaultLocale, file: "the default catalog"}
	}
	r.Default = def.lang
	for _, s := range sets {
		r.Problems = append(r.Problems, proseProblems(s.prose(), s.name, s.keys(), def, def.file)...)
	}

	allParsed := len(sets) == len(names) // else some keys used are unknown: none is said unused

	// What each html.tmpl declares of language and direction (htmllang.go).
	decls := make([]htmlDecl, len(sets))
	htmlFile := slices.Index(templateFiles, "html.tmpl")
	for i, s := range sets {
		file := "templates/" + s.name + "/html.tmpl"
		decls[i] = declaredLang(string(s.files[file]), s.scans[htmlFile].texts)
		if p := decls[i].langProblem(file); p != nil {
			r.Problems = append(r.Problems, *p)
		}
	}

	// Every key used by any template, with its first use and whether any
	// use is plural.
	used := map[string]keyUse{}
	var usedKeys []string
	for _, s := range sets {
		for _, k := range s.keys() {
			if prev, ok := used[k.Key]; ok {
				prev.Plural = prev.Plural || k.Plural
				used[k.Key] = prev
				continue
			}
			used[k.Key] = k
			usedKeys = append(usedKeys, k.Key)
		}
	}
	sort.Strings(usedKeys)
	defPh := def.fields

	for _, c := range cats {
		sum := LanguageSummary{Lang: c.lang, File: c.file, Keys: len(c.messages)}
		add := func(p Problem) {
			p.Lang = c.lang
			r.Problems = append(r.Problems, p)
			if p.Severity == SeverityError {
				sum.Errors++
			} else {
				sum.Warnings++
			}
		}
		for _, key := range usedKeys {
			u := used[key]
			m := c.byID[key]
			if m == nil {
				sum.Missing++
				add(Problem{File: u.File, Line: u.Line, Key: key, Severity: SeverityError,
					Msg: fmt.Sprintf("%s: message %s is missing in %s; add it (see %s)", c.lang, key, c.file, def.file)})
				continue
			}
			if f := missingForms(c, m, u.Plural); len(f) > 0 {
				sum.PluralProblems++
				need := "other"
				if u.Plural {
					need = strings.Join(c.forms, ", ")
				}
				var lack, blank []string
				for _, form := range f {
					if b, ok := strings.CutSuffix(form, blankSuffix); ok {
						blank = append(blank, b)
					} else {
						lack = append(lack, form)
					}
				}
				if len(lack) > 0 {
					add(Problem{File: c.file, Line: c.line(key), Key: key, Severity: SeverityError,
						Msg: fmt.Sprintf("%s: %s lacks plural form %s (%s needs %s)", c.lang, key, strings.Join(lack, ", "), c.lang, need)})
				}
				if len(blank) > 0 {
					add(Problem{File: c.file, Line: c.line(key), Key: key, Severity: SeverityError,
						Msg: fmt.Sprintf("%s: %s prints nothing in its form %s (only spaces, invisible characters or comments): translate it; until then %s is incomplete and its recipients are refused", c.lang, key, strings.Join(blank, ", "), c.lang)})
				}
			}
			if script, own := foreignScript(c, messageForms(m)); script != "" {
				add(scriptProblem(c, key, script, own))
			}
			if u.Plural {
				have := messageForms(m)
				for _, f := range pluralForms {
					if have[f] != "" && !contains(c.forms, f) {
						add(Problem{File: c.file, Line: c.line(key), Key: key, Severity: SeverityWarning,
							Msg: fmt.Sprintf("%s: %s has plural form %s, which %s never uses", c.lang, key, f, c.lang)})
					}
				}
			}
		}
		for _, is := range c.issues {
			add(Problem{File: is.File, Line: is.Line, Key: is.Key, Severity: SeverityError, Msg: is.Msg})
		}
		for i, s := range sets {
			for _, p := range decls[i].problems("templates/"+s.name+"/html.tmpl", c) {
				add(p)
			}
		}
		ph := c.fields
		ids := make([]string, 0, len(c.byID))
		for id := range c.byID {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			if _, ok := used[id]; !ok && allParsed {
				add(Problem{File: c.file, Line: c.line(id), Key: id, Severity: SeverityWarning,
					Msg: fmt.Sprintf("%s: %s is not used by any template", c.lang, id)})
			}
			if c == def {
				continue
			}
			switch from := copiedFrom(c, def, cats, id); {
			case from == def:
				add(Problem{File: c.file, Line: c.line(id), Key: id, Severity: SeverityWarning,
					Msg: fmt.Sprintf("%s: %s is word for word the %s text of %s: if it is not translated yet, translate it, or %s recipients are sent it in %s", c.lang, id, def.lang, def.file, c.lang, def.lang)})
			case from != nil:
				// Which of the two is the copy, only a reader can tell.
				add(Problem{File: c.file, Line: c.line(id), Key: id, Severity: SeverityWarning,
					Msg: fmt.Sprintf("%s: %s is word for word the %s text of %s: one of the two is not translated (a catalog started from a copy of the other?): translate it, or %s or %s recipients are sent the other's language", c.lang, id, from.lang, from.file, c.lang, from.lang)})
			}
			dp, ok := defPh[id]
			if !ok {
				continue
			}
			for _, f := range sortedKeys(dp) {
				if !ph[id][f] {
					add(Problem{File: c.file, Line: c.line(id), Key: id, Severity: SeverityError,
						Msg: fmt.Sprintf("%s: %s does not use {{%s}}, which the %s text uses", c.lang, id, f, def.lang)})
				}
			}
			for _, f := range sortedKeys(ph[id]) {
				if !dp[f] {
					add(Problem{File: c.file, Line: c.line(id), Key: id, Severity: SeverityError,
						Msg: fmt.Sprintf("%s: %s uses {{%s}}, which the %s text does not", c.lang, id, f, def.lang)})
				}
			}
		}
		switch {
		case sum.Missing > 0 || sum.PluralProblems > 0:
			sum.Status = "incomplete"
		case sum.Errors > 0:
			sum.Status = "errors"
		case sum.Warnings > 0:
			sum.Status = "warnings"
		default:
			sum.Status = "ok"
		}
		r.Languages = append(r.Languages, sum)
	}
	sort.SliceStable(r.Problems, func(i, j int) bool {
		a, b := r.Problems[i], r.Problems[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return r, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// notRead warns of each file at the root of locales named for a language
// (nl.tml, pt-BR.po, de.toml~) that is not read, its extension not being a
// catalog's, when no catalog of cats is that language's: the language
// would be missing from every check, preview and send without a word.
// Hidden files, files not named for a language (embed.go, README.md) and
// those of a language read (de.html beside de.toml) are passed over.
func notRead(locales fs.FS, cats []*catalog) []Problem {
	entries, _ := fs.ReadDir(locales, ".") // readCatalogs said why it cannot be listed
	var out []Problem
	for _, e := range entries {
		name := e.Name()
		ext := path.Ext(name)
		if _, ok := catalogExts[strings.ToLower(ext)]; ok || ext == "" || e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		lang, _, _ := strings.Cut(name, ".")
		tag, err := parseTag(lang)
		if err != nil || slices.ContainsFunc(cats, func(c *catalog) bool { return c.tag == tag }) {
			continue
		}
		out = append(out, Problem{File: "locales/" + name, Severity: SeverityWarning, Msg: fmt.Sprintf(
			"not read: its name is the language %s, but a catalog's ends in .toml, .json, .yaml or .yml: rename it %s.toml if it is the %s catalog, or move it out of the locales directory", lang, lang, lang)})
	}
	return out
}

// copiedFrom returns the catalog whose text message id of c is, word for
// word (untranslated), or nil: the default catalog if it is one of them
// (a translation tool's export of a message not yet translated), else the
// first other (fr.toml started from a copy of de.toml), unless a catalog
// of c's own base language holds the same text (de and de-AT both): then
// the text is taken as c's language's, and nil.
func copiedFrom(c, def *catalog, cats []*catalog, id string) *catalog {
	forms := messageForms(c.byID[id])
	if dm := def.byID[id]; dm != nil && c != def && untranslated(c, def, forms, messageForms(dm)) {
		return def
	}
	var from *catalog
	for _, o := range cats {
		om := o.byID[id]
		if o == c || om == nil {
			continue
		}
		if sameBase(c.tag, o.tag) {
			if equalForms(forms, messageForms(om)) {
				return nil
			}
			continue
		}
		if from == nil && o != def && untranslated(c, o, forms, messageForms(om)) {
			from = o
		}
	}
	return from
}

// equalForms reports whether two messages have the same forms, each with
// the same text.
func equalForms(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for f, text := range a {
		if b[f] != text {
			return false
		}
	}
	return true
}

// untranslated reports whether a message of catalog c is, in every form
// it has, the default catalog's text of the same form (of other, for a
// form the default's message lacks): a translator's
// tool fills an untranslated message with the source text, and the
// locale rule, which asks only that every key be there, would send it.
// Only prose counts (two words of letters outside the actions: not a
// name, a URL or {{.Name}} alone), and only between different base
// languages (en-GB may say what en says).
func untranslated(c, def *catalog, forms, defForms map[string]string) bool {
	if sameBase(c.tag, def.tag) || len(forms) == 0 {
		return false
	}
	for f, text := range forms {
		want, ok := defForms[f]
		if !ok {
			// A form the language needs and the default's lacks (French
			// many): a tool fills it with the default's other.
			want = defForms["other"]
		}
		if want != text {
			return false
		}
	}
	return proseWords(forms["other"]) >= 2
}

// proseWords counts the words of s outside its {{actions}} that hold two
// letters or more, leaving out addresses and URLs.
func proseWords(s string) int { return len(proseWordList(s)) }

// proseWordList returns the words proseWords counts.
func proseWordList(s string) []string {
	var words []string
	for s != "" {
		before, after, ok := strings.Cut(s, "{{")
		for _, w := range strings.Fields(before) {
			letters := 0
			for _, r := range w {
				if unicode.IsLetter(r) {
					letters++
				}
			}
			if letters >= 2 && !strings.Contains(w, "://") && !strings.ContainsRune(w, '@') {
				words = append(words, w)
			}
		}
		if !ok {
			break
		}
		_, s, _ = strings.Cut(after, "}}")
	}
	return words
}
