package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"go.yaml.in/yaml/v4"
	"golang.org/x/text/language"
)

// catalogExts are the accepted catalog file extensions.
var catalogExts = map[string]func([]byte, any) error{
	".toml": toml.Unmarshal,
	".json": json.Unmarshal,
	".yaml": yaml.Unmarshal,
	".yml":  yaml.Unmarshal,
}

// pluralForms lists the CLDR plural forms in their canonical order.
var pluralForms = []string{"zero", "one", "two", "few", "many", "other"}

// catalog is one language's message file.
type catalog struct {
	tag      language.Tag
	lang     string // tag.String()
	file     string // snapshot key, e.g. locales/de.toml
	src      []byte
	messages []*i18n.Message
	byID     map[string]*i18n.Message
	forms    []string // plural forms this language needs
	// fields holds, per message, the data fields its forms use (".Name").
	fields map[string]map[string]bool
	// issues are the messages the catalog rule refuses (see rule.go), in
	// line order, each with its Key.
	issues []*FileError
}

// line returns the line of key id in the catalog source (1 if not found).
func (c *catalog) line(id string) int { return keyLine(c.src, id) }

// messageForms returns the non-empty plural forms of m by CLDR name.
func messageForms(m *i18n.Message) map[string]string {
	out := map[string]string{}
	for _, f := range []struct {
		name, src string
	}{{"zero", m.Zero}, {"one", m.One}, {"two", m.Two}, {"few", m.Few}, {"many", m.Many}, {"other", m.Other}} {
		if f.src != "" {
			out[f.name] = f.src
		}
	}
	return out
}

// loadCatalogs reads every catalog file at the root of locales, sorted by
// language; the first file that cannot be used is the error.
func loadCatalogs(locales fs.FS) ([]*catalog, error) {
	out, bad, err := readCatalogs(locales)
	if err == nil && len(bad) > 0 {
		err = bad[0]
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// catalogBase is the language a catalog file is named for, as written
// ("active.de.toml" -> "de": go-i18n's convention).
func catalogBase(file string) string {
	base := strings.TrimSuffix(path.Base(file), path.Ext(file))
	if i := strings.LastIndexByte(base, '.'); i >= 0 {
		base = base[i+1:]
	}
	return base
}

// regionAsLanguage says why the name of catalog file, whose language is
// written base, may name a region rather than the language it parses as,
// or "". x/text reads a tag case-insensitively, so "fr.CA.toml" would be
// the Catalan catalog (its French text sent to Catalan recipients) and
// "en.IN.toml" the Indonesian one ("in", the old code of id): a first
// subtag in upper case, or one after a dot that follows a two-letter
// language, is refused, with the name to give instead.
func regionAsLanguage(file, base string) string {
	first, _, _ := strings.Cut(strings.ReplaceAll(base, "_", "-"), "-")
	lower, ext := strings.ToLower(first), path.Ext(file)
	stem := strings.TrimSuffix(path.Base(file), ext)
	prev := strings.TrimSuffix(stem, "."+base)
	if i := strings.LastIndexByte(prev, '.'); i >= 0 {
		prev = prev[i+1:]
	}
	if _, err := language.ParseBase(prev); err == nil && prev != stem && len(prev) == 2 && prev == strings.ToLower(prev) {
		return fmt.Sprintf("%q after the language %q reads as a region, but would be read as the language %q; to name %s in a region, join them with a hyphen (%s-%s%s); for go-i18n's active.<lang> naming, put no language before the last dot",
			base, prev, lower, prev, prev, strings.ToUpper(base), ext)
	}
	if first != lower {
		return fmt.Sprintf("%q is written in upper case, as a region is, and would be read as the language %q; name catalogs after their language in lower case (%s%s), with a region after a hyphen (e.g. fr-CA.toml)",
			base, lower, strings.ToLower(base), ext)
	}
	return ""
}

// readCatalogs reads every catalog file at the root of locales: those it
// can use, sorted by language, and why each other cannot be used (Inspect
// reports them all).
func readCatalogs(locales fs.FS) (out []*catalog, bad []*FileError, err error) {
	if locales == nil {
		return nil, nil, errors.New("load catalogs: no locales directory given")
	}
	entries, err := fs.ReadDir(locales, ".")
	if err != nil {
		return nil, nil, fmt.Errorf("load catalogs: cannot list the locales directory (%s)", errText(err))
	}
	byLang := map[string]seenCatalog{} // by withoutUsualScript
	for _, e := range entries {
		name := e.Name()
		ext := strings.ToLower(path.Ext(name))
		unmarshal, ok := catalogExts[ext]
		if e.IsDir() || !ok || strings.HasPrefix(name, ".") {
			continue
		}
		key := "locales/" + name
		base := catalogBase(name)
		tag, err := parseTag(base)
		if sc := (*serboCroatianError)(nil); errors.As(err, &sc) {
			bad = append(bad, &FileError{File: key, Msg: sc.Error() + ": name the catalog after the language it is written in (sr-Latn" + ext + ", hr" + ext + ", bs" + ext + " or cnr" + ext + ")"})
			continue
		}
		if xe := (*extlangError)(nil); errors.As(err, &xe) {
			bad = append(bad, &FileError{File: key, Msg: xe.Error() + ": name the catalog after the one language it is written in (" + xe.first + ext + " or " + xe.ext + ext + ")"})
			continue
		}
		if ve := (*variantLanguageError)(nil); errors.As(err, &ve) {
			bad = append(bad, &FileError{File: key, Msg: ve.Error() + ", which x/text does not know: a catalog cannot be named so; name it after a language x/text knows, and map these recipients with locale_policy.aliases"})
			continue
		}
		if err != nil {
			bad = append(bad, &FileError{File: key, Msg: fmt.Sprintf("%q is not a language tag; name catalogs after their language, e.g. de.toml or pt-BR.toml", base)})
			continue
		}
		if canonKey(base) == "i-default" {
			// x/text reads it as en-x-i-default, English: it asks for a
			// default language, whichever the file is written in.
			bad = append(bad, &FileError{File: key, Msg: fmt.Sprintf("%q names no language (it asks for a default one, which x/text reads as English): name the catalog after the language it is written in, e.g. de.toml or pt-BR.toml", base)})
			continue
		}
		if b, c := tag.Base(); c != language.Exact || noLanguage[b.String()] != "" {
			code := b.String()
			if c != language.Exact {
				code = "und" // x/text's Base guesses one from the region or script
			}
			bad = append(bad, &FileError{File: key, Msg: fmt.Sprintf("%q names no single language (%s: %s): name the catalog after the language it is written in, e.g. de.toml or pt-BR.toml", base, code, noLanguage[code])})
			continue
		}
		if msg := regionAsLanguage(name, base); msg != "" {
			bad = append(bad, &FileError{File: key, Msg: msg})
			continue
		}
		lang := tag.String()
		same, scripted := withoutUsualScript(tag)
		if prev, dup := byLang[strings.ToLower(same)]; dup {
			note, spelled := "", tag
			if !scripted {
				scripted, spelled = prev.scripted, prev.tag
			}
			if scripted {
				sc, _ := spelled.Script()
				note = fmt.Sprintf(", %s: %s is written in %s unless its tag says otherwise", spelled, same, sc)
			}
			bad = append(bad, &FileError{File: key, Msg: fmt.Sprintf("second catalog for %s (first: %s%s); keep one file per language", same, prev.file, note)})
			continue
		}
		byLang[strings.ToLower(same)] = seenCatalog{file: key, tag: tag, scripted: scripted}
		src, err := fs.ReadFile(locales, name)
		if err != nil {
			bad = append(bad, &FileError{File: key, Msg: fmt.Sprintf("cannot read catalog (%s)", errText(err))})
			continue
		}
		msgs, err := i18n.ParseMessageBytes(src, unmarshal)
		if err != nil {
			bad = append(bad, catalogSyntaxError(key, ext, src, err))
			continue
		}
		c := &catalog{tag: tag, lang: lang, file: key, src: src, messages: msgs, byID: map[string]*i18n.Message{},
			forms: pluralRuleFor(tag).needed, fields: map[string]map[string]bool{}}
		if err := c.check(); err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				return nil, nil, err
			}
			bad = append(bad, fe)
			continue
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].lang < out[j].lang })
	return out, bad, nil
}

// seenCatalog is a catalog file readCatalogs has read, for the next
// file's check that it is not a second catalog of the same language.
type seenCatalog struct {
	file     string
	tag      language.Tag
	scripted bool // its name spells the usual script (zh-Hans)
}

// withoutUsualScript returns tag without its script when the script is
// the one the language (in the tag's region) is written in anyway, and
// whether it dropped one: zh-Hans is zh, sr-Cyrl is sr, pt-Latn-BR is
// pt-BR, zh-Hant-TW is zh-TW; zh-Hant, sr-Latn and sr-Cyrl-ME keep theirs.
// Two catalogs with one result are two catalogs for one language.
func withoutUsualScript(tag language.Tag) (string, bool) {
	sc, c := tag.Script()
	if c != language.Exact {
		return tag.String(), false
	}
	stripped, err := language.Parse(strings.Replace(tag.String(), "-"+sc.String(), "", 1))
	if err != nil {
		return tag.String(), false
	}
	if usual, _ := stripped.Script(); usual != sc {
		return tag.String(), false
	}
	return stripped.String(), true
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// catalogSyntaxError names the file and line of a catalog that does not parse.
func catalogSyntaxError(key, ext string, src []byte, err error) *FileError {
	fe := &FileError{File: key, Msg: fmt.Sprintf("catalog syntax error: %s; fix the %s file", err.Error(), strings.TrimPrefix(ext, "."))}
	var tp toml.ParseError
	var tpp *toml.ParseError
	var js *json.SyntaxError
	switch {
	case errors.As(err, &tp):
		fe.Line = tp.Position.Line
		fe.Msg = fmt.Sprintf("catalog syntax error: %s; fix the TOML", tp.Message)
	case errors.As(err, &tpp):
		fe.Line = tpp.Position.Line
		fe.Msg = fmt.Sprintf("catalog syntax error: %s; fix the TOML", tpp.Message)
	case errors.As(err, &js):
		fe.Line = 1 + bytes.Count(src[:min(int(js.Offset), len(src))], []byte("\n"))
	default:
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil && (ext == ".yaml" || ext == ".yml") {
			fe.Line, _ = strconv.Atoi(m[1])
		}
	}
	return fe
}

// keyLine finds the line that defines message id in a catalog source. It
// looks for the full dotted id first ([welcome.greeting], "welcome.greeting"),
// then for its segments in order (nested tables or objects). It returns 1 when
// nothing matches.
func keyLine(src []byte, id string) int {
	lines := strings.Split(string(src), "\n")
	for i, l := range lines {
		if containsKey(l, id) {
			return i + 1
		}
	}
	segs := strings.Split(id, ".")
	at := -1
	for _, seg := range segs {
		found := -1
		for i := at + 1; i < len(lines); i++ {
			if containsKey(lines[i], seg) {
				found = i
				break
			}
		}
		if found < 0 {
			break
		}
		at = found
	}
	if at >= 0 {
		return at + 1
	}
	return 1
}

// containsKey reports whether line defines key (as a table header, a quoted
// key or a bare key before = or :).
func containsKey(line, key string) bool {
	l := strings.TrimSpace(line)
	for _, p := range []string{"[" + key + "]", `["` + key + `"]`, `"` + key + `"`, `'` + key + `'`} {
		if strings.Contains(l, p) {
			return true
		}
	}
	if strings.HasPrefix(l, key) {
		rest := strings.TrimSpace(l[len(key):])
		return strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, ":")
	}
	return false
}

// parseErrText strips text/template/parse's "template: message:LINE: "
// prefix: the line is within the message, not the catalog.
func parseErrText(err error) string {
	s := err.Error()
	if rest, ok := strings.CutPrefix(s, "template: message:"); ok {
		if _, msg, ok := strings.Cut(rest, ": "); ok {
			return msg
		}
	}
	return s
}

// check indexes the messages of c and applies the catalog rule to every
// form of every message, with the message's own delimiters. A form that is
// not a valid template is an error; what the rule refuses goes to c.issues.
func (c *catalog) check() error {
	for _, m := range c.messages {
		c.byID[m.ID] = m
		fields := map[string]bool{}
		var vs []violation
		forms := messageForms(m)
		for _, form := range pluralForms {
			src, ok := forms[form]
			if !ok {
				continue
			}
			mc, err := checkMessage(src, m.LeftDelim, m.RightDelim)
			if err != nil {
				return &FileError{File: c.file, Line: c.line(m.ID), Key: m.ID,
					Msg: fmt.Sprintf("message %s (%s) is not a valid template: %s", m.ID, form, parseErrText(err))}
			}
			for f := range mc.fields {
				fields[f] = true
			}
			vs = append(vs, mc.violations...)
		}
		c.fields[m.ID] = fields
		if len(vs) > 0 {
			c.issues = append(c.issues, &FileError{File: c.file, Line: c.line(m.ID), Key: m.ID, Msg: ruleMessage(c.lang, m.ID, vs)})
		}
	}
	sort.Slice(c.issues, func(i, j int) bool {
		a, b := c.issues[i], c.issues[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Key < b.Key
	})
	return nil
}
