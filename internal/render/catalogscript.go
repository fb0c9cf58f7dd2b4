package render

import (
	"fmt"
	"sort"
	"unicode"
)

// The script of a catalog's messages (Inspect).
//
// The locale rule asks that a catalog hold every key the template uses; it
// cannot tell that a message is in the catalog's language. A he.toml made
// from a copy of ar.toml, or a message pasted from another catalog, is
// covered, and its recipients are sent another language. What can be told
// is the script: a message whose letters (outside its actions, leaving
// out addresses and URLs) are all of one script that is neither the
// language's nor Latin is another language's text. Latin is allowed in
// every language (brand names, "Altea" in an Arabic message); a message
// in the language's own script with a word of another is a quotation, not
// warned of. A language whose script is not in scriptTables is not judged.

// scriptTables are the Unicode scripts of the ISO 15924 scripts
// golang.org/x/text gives catalog languages (Jpan: Han and kana).
var scriptTables = map[string][]*unicode.RangeTable{
	"Latn": {unicode.Latin}, "Cyrl": {unicode.Cyrillic}, "Grek": {unicode.Greek},
	"Arab": {unicode.Arabic}, "Hebr": {unicode.Hebrew}, "Syrc": {unicode.Syriac}, "Thaa": {unicode.Thaana},
	"Armn": {unicode.Armenian}, "Geor": {unicode.Georgian}, "Ethi": {unicode.Ethiopic},
	"Deva": {unicode.Devanagari}, "Beng": {unicode.Bengali}, "Guru": {unicode.Gurmukhi}, "Gujr": {unicode.Gujarati},
	"Orya": {unicode.Oriya}, "Taml": {unicode.Tamil}, "Telu": {unicode.Telugu}, "Knda": {unicode.Kannada},
	"Mlym": {unicode.Malayalam}, "Sinh": {unicode.Sinhala}, "Thai": {unicode.Thai}, "Laoo": {unicode.Lao},
	"Mymr": {unicode.Myanmar}, "Khmr": {unicode.Khmer}, "Tibt": {unicode.Tibetan}, "Mong": {unicode.Mongolian},
	"Hans": {unicode.Han}, "Hant": {unicode.Han}, "Jpan": {unicode.Han, unicode.Hiragana, unicode.Katakana},
	"Kore": {unicode.Hangul, unicode.Han},
}

// foreignScript returns the name of the script a message of c in forms is
// written in when it is another language's (see above), else "": every
// letter outside the language's script and Latin, of one script.
func foreignScript(c *catalog, forms map[string]string) (script, own string) {
	s, _ := c.tag.Script()
	tables := scriptTables[s.String()]
	if tables == nil {
		return "", ""
	}
	counts := map[string]int{}
	for _, text := range forms {
		for _, w := range proseWordList(text) {
			for _, r := range w {
				if !unicode.IsLetter(r) || unicode.Is(unicode.Latin, r) {
					continue
				}
				if unicode.In(r, tables...) {
					return "", ""
				}
				counts[scriptOf(r)]++
			}
		}
	}
	if len(counts) != 1 {
		return "", "" // none, or several: not one other language's text
	}
	for name := range counts {
		script = name
	}
	return script, scriptNames(tables)
}

// scriptNames names tables as unicode.Scripts does, joined by " and ".
func scriptNames(tables []*unicode.RangeTable) string {
	var names []string
	for name, t := range unicode.Scripts {
		for _, u := range tables {
			if t == u {
				names = append(names, name)
			}
		}
	}
	sort.Strings(names)
	out := ""
	for i, n := range names {
		if i > 0 {
			out += " and "
		}
		out += n
	}
	return out
}

// scriptProblem is the warning of message key of c, in script, not own.
func scriptProblem(c *catalog, key, script, own string) Problem {
	return Problem{File: c.file, Line: c.line(key), Key: key, Severity: SeverityWarning,
		Msg: fmt.Sprintf("%s: %s is written in %s, not in %s, the script of %s: is it another language's text? translate it into %s, or %s recipients are sent it", c.lang, key, script, own, c.lang, c.lang, c.lang)}
}
