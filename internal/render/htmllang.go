package render

import (
	"bytes"
	"fmt"
	"strings"
	"text/template/parse"

	"golang.org/x/net/html"
)

// The language and direction html.tmpl declares (Inspect).
//
// A message's HTML says its language (lang) and direction (dir); mail
// clients and browsers draw and lay it out by them. An html.tmpl that
// writes them as text (<html lang="en">) or not at all declares every
// language's message as that one, laid out left to right: an Arabic or
// Hebrew message then shows its punctuation, numbers and Latin words out
// of place, and a Japanese one is drawn with another language's glyphs and
// read by a screen reader in another voice. The right language, in the
// wrong shape: Inspect warns of it, per language it misdeclares.
//
// What is read is the template's markup, its actions masked (maskActions):
// an attribute whose value an action writes (lang="{{.Locale}}",
// dir="{{.Dir}}") is taken to follow the language; dir="auto" follows the
// text.

// htmlDecl is what one html.tmpl declares of language and direction.
type htmlDecl struct {
	line       int    // the line of the <html> element, 1 without one
	hasHTML    bool   // there is an <html> element
	lang       string // its lang, as written ("" without one)
	hasLang    bool
	langAction bool   // an action writes its lang
	dir        string // its dir as written, lower case
	dirAction  bool   // some element's dir is written by an action, or is auto
	rtl        bool   // some element's dir is rtl, as written
}

// declaredLang reads what the html.tmpl source src (its text nodes texts)
// declares.
func declaredLang(src string, texts []*parse.TextNode) htmlDecl {
	d := htmlDecl{line: 1}
	masked := maskActions(src, texts)
	z := html.NewTokenizer(bytes.NewReader(masked))
	off := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return d
		}
		start := off
		off += len(z.Raw())
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, more := z.TagName()
		isHTML := string(name) == "html" && !d.hasHTML
		if isHTML {
			d.hasHTML, d.line = true, 1+strings.Count(src[:start], "\n")
		}
		for more {
			var k, v []byte
			k, v, more = z.TagAttr()
			dynamic := bytes.IndexByte(v, hole) >= 0
			val := strings.ToLower(strings.TrimSpace(string(v)))
			switch string(k) {
			case "dir":
				d.dirAction = d.dirAction || dynamic || val == "auto"
				d.rtl = d.rtl || (!dynamic && val == "rtl")
				if isHTML && !dynamic {
					d.dir = val
				}
			case "lang":
				if isHTML {
					d.hasLang, d.langAction, d.lang = true, dynamic, strings.TrimSpace(string(v))
				}
			}
		}
	}
}

// problems returns the warnings of d for the catalog c: its language
// declared as another, or its direction not its own; and, once (lang ""),
// an <html> element without lang.
func (d htmlDecl) problems(file string, c *catalog) []Problem {
	var out []Problem
	warn := func(msg string) {
		out = append(out, Problem{File: file, Line: d.line, Severity: SeverityWarning, Msg: msg})
	}
	if d.hasLang && !d.langAction && !strings.EqualFold(d.lang, c.lang) {
		warn(fmt.Sprintf("%s: the <html> element says lang=%q, so the %s message is declared to be in %s: mail clients draw it with that language's glyphs and screen readers read it in that voice; write lang=\"{{.Locale}}\"", c.lang, d.lang, c.lang, d.lang))
	}
	want := direction(c.tag)
	ok := d.dirAction || (want == "rtl" && d.rtl && d.dir != "ltr") || (want == "ltr" && d.dir != "rtl")
	if !ok && want == "rtl" {
		warn(fmt.Sprintf("%s: %s is written right to left, but html.tmpl writes no direction (dir=\"{{.Dir}}\"), so the %s message is laid out left to right, its punctuation, numbers and Latin words out of place; write dir=\"{{.Dir}}\" on the <html> element (and the outermost table)", c.lang, c.lang, c.lang))
	}
	if !ok && want == "ltr" {
		warn(fmt.Sprintf("%s: %s is written left to right, but the <html> element says dir=\"rtl\", so the %s message is laid out right to left; write dir=\"{{.Dir}}\"", c.lang, c.lang, c.lang))
	}
	return out
}

// langProblem is the warning of an <html> element without lang, nil when
// it has one or there is none.
func (d htmlDecl) langProblem(file string) *Problem {
	if !d.hasHTML || d.hasLang {
		return nil
	}
	return &Problem{File: file, Line: d.line, Severity: SeverityWarning,
		Msg: "the <html> element has no lang attribute, so no message says its language: mail clients draw CJK with another language's glyphs and screen readers read every language in one voice; write lang=\"{{.Locale}}\""}
}
