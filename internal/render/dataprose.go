package render

import (
	"cmp"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// DataProse is a value of the campaign's data that is prose and reaches,
// as it is, the messages of recipients of more than one language: the same
// sentence cannot be in the language of each of them. Catalog strings are
// translated; data values are not.
type DataProse struct {
	// Path is the value's key in the campaign file's data, as
	// ["deadline_note"] or ["notes", "deadline"] (a list's items are
	// their list's).
	Path []string
	// Text is the value (shortened).
	Text string
	// Langs are the catalog languages whose messages print it, of two base
	// languages or more.
	Langs []string
	// File and Line are where the value is printed first: a template file
	// ("templates/welcome/html.tmpl": every language prints it), else a
	// catalog's message (the default catalog's when it prints it).
	File string
	Line int
}

// InspectData returns the values of data (a campaign's) that are prose
// (two words or more of two letters outside {{...}}, not an address or a
// URL, and not a name: at least one word not capitalised) and that the
// template name prints, directly or through a message, for recipients of
// two base languages or more: by the template itself (every language), or
// by the messages of several catalogs. A value only one language's
// messages print (note_de, used only by de.toml) may be in that language,
// and is not reported. The templates and catalogs that cannot be read are
// Inspect's to report: nothing is returned for them.
func InspectData(templates, locales fs.FS, defaultLocale, name string, data map[string]any) []DataProse {
	var leaves []dataLeaf
	flattenData(data, nil, &leaves)
	seen := map[string]bool{} // a path's first prose is said, not each item of a list
	leaves = slices.DeleteFunc(leaves, func(l dataLeaf) bool {
		k := strings.Join(l.path, "\x00")
		if seen[k] || !dataIsProse(l.text) {
			return true
		}
		seen[k] = true
		return false
	})
	if len(leaves) == 0 || templates == nil || locales == nil {
		return nil
	}
	s, err := loadTemplate(templates, name)
	if err != nil {
		return nil
	}
	cats, _, err := readCatalogs(locales)
	if err != nil {
		return nil
	}
	var e Engine
	def, err := e.catalogFor(cats, cmp.Or(defaultLocale, "en"), "default_locale")
	if err != nil {
		return nil
	}
	var out []DataProse
	for _, l := range leaves {
		d := DataProse{Path: l.path, Text: cut(l.text)}
		reached := map[string]bool{} // base languages
		for _, u := range s.fields {
			if u.Chain[0] == "Data" && related(u.Chain[1:], l.path) {
				d.File, d.Line = u.File, u.Line
				for _, c := range cats {
					d.add(c, reached)
				}
				break
			}
		}
		if d.File == "" {
			for _, c := range cats {
				for _, k := range s.keys() {
					if c.byID[k.Key] != nil && printsData(c.fields[k.Key], l.path) {
						if d.File == "" || c == def {
							d.File, d.Line = c.file, c.line(k.Key)
						}
						d.add(c, reached)
						break
					}
				}
			}
		}
		if len(reached) >= 2 {
			out = append(out, d)
		}
	}
	return out
}

// add records that catalog c's messages print d's value.
func (d *DataProse) add(c *catalog, reached map[string]bool) {
	base, _ := c.tag.Base()
	reached[base.String()] = true
	if !slices.Contains(d.Langs, c.lang) {
		d.Langs = append(d.Langs, c.lang)
		sort.Strings(d.Langs)
	}
}

// dataLeaf is a text of the campaign's data, at its key path.
type dataLeaf struct {
	path []string
	text string
}

// flattenData collects the texts of v, at path; a list's items are at the
// list's path (a template ranging over it prints them).
func flattenData(v any, path []string, out *[]dataLeaf) {
	switch x := v.(type) {
	case string:
		*out = append(*out, dataLeaf{path: path, text: x})
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			flattenData(x[k], append(slices.Clip(path), k), out)
		}
	case []any:
		for _, e := range x {
			flattenData(e, path, out)
		}
	}
}

// printsData reports whether a message whose forms use fields prints the
// data at path.
func printsData(fields map[string]bool, path []string) bool {
	for f := range fields {
		if rest, ok := strings.CutPrefix(f, ".Data."); ok && related(strings.Split(rest, "."), path) {
			return true
		}
	}
	return false
}

// related reports whether one of the key paths a and b holds the other:
// printing a map prints its texts.
func related(a, b []string) bool {
	n := min(len(a), len(b))
	return n > 0 && slices.Equal(a[:n], b[:n])
}

// dataIsProse reports whether a data value is prose: CJK text that reads
// as a sentence (cjkProse), or two words or more (proseWords) of which one
// is not capitalised and not a name's particle ("de", "van"), or of which
// two are the small words of a sentence though capitalised
// (sentenceWords: "Please Log In Before Friday"). "Altea Community",
// "Summer Meetup 2026", "Mary Ann de la Cruz" or "The Museum Of Modern
// Art" is a name, the same in every language; "Please log in before
// Friday" is a sentence. It is a guess, for a warning.
func dataIsProse(s string) bool {
	if cjkProse(s) {
		return true
	}
	words := proseWordList(s)
	if len(words) < 2 {
		return false
	}
	small := 0
	for _, w := range words {
		i := strings.IndexFunc(w, unicode.IsLetter)
		r := []rune(w[i:])[0]
		bare := strings.ToLower(strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) }))
		switch {
		case unicode.IsUpper(r) || unicode.IsTitle(r):
			if sentenceWords[bare] {
				small++
			}
		case !nameParticles[bare]:
			return true
		}
	}
	return small >= 2
}

// nameParticles are the lower-case words of people's and places' names
// ("Mary Ann de la Cruz", "Ludwig van Beethoven").
var nameParticles = wordSet("al bin da das de del della der di do dos du el la le les van von y zu ten ter den")

// sentenceWords are words of sentences that names seldom hold (pronouns,
// "please", prepositions of time, auxiliaries), in the languages of
// Europe most written in Title Case by mistake: two of them, capitalised,
// make a Title Case text a sentence. Articles and "of" are not among
// them: names hold them ("The Museum Of Modern Art").
var sentenceWords = wordSet("please your you we our us my before after until will is are must can to now here " +
	"bitte sie ihr ihre ihren ihrem sich vor bis nach wir unser unsere jetzt ist sind " +
	"veuillez vous votre vos avant nous notre est sont " +
	"por favor su sus antes usted es son hasta per prima vostro")

func wordSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// cjkProse reports whether s reads as a CJK sentence, which has no spaces
// between its words: sentence punctuation (。、，！？) after two CJK
// letters or more, hiragana (Japanese particles and endings) among six or
// more, or ten or more. A name (李小龍, 山田太郎, アルテア, 阿尔泰社区) is
// shorter.
func cjkProse(s string) bool {
	cjk, hiragana, punct := 0, 0, false
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Hiragana, r):
			hiragana++
			cjk++
		case unicode.In(r, unicode.Han, unicode.Katakana):
			cjk++
		case strings.ContainsRune("。、，！？", r):
			punct = true
		}
	}
	return cjk >= 2 && (punct || hiragana > 0 && cjk >= 6 || cjk >= 10)
}
