package render

import (
	"strings"
	"text/template/parse"
	"unicode"
)

// blankSuffix marks a form missingForms lists because it prints nothing
// ("other: blank").
const blankSuffix = ": blank"

// blankForm reports whether src, one form of a catalog message with its
// delimiters (empty means {{ and }}), prints nothing visible whatever the
// data: only spaces, invisible characters (a zero-width or no-break space,
// a direction mark, a Hangul filler), comments and quoted strings of
// those. Such a form is an empty translation in disguise: the recipient
// would get a blank subject or paragraph. A form that prints a data field
// ({{.Name}}) or any visible character is not blank; a form that does
// not parse is not either (the catalog rule reports it).
func blankForm(src, left, right string) bool {
	if left == "" {
		left = "{{"
	}
	if right == "" {
		right = "}}"
	}
	if !strings.Contains(src, left) {
		return printsNothing(src) // go-i18n's rule: no delimiter, no template
	}
	t := parse.New("message")
	t.Mode = parse.SkipFuncCheck
	if _, err := t.Parse(src, left, right, map[string]*parse.Tree{}); err != nil || t.Root == nil {
		return false
	}
	for _, n := range t.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			if !printsNothing(string(n.Text)) {
				return false
			}
		case *parse.CommentNode:
		case *parse.ActionNode:
			p := n.Pipe
			if len(p.Decl) > 0 || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
				return false
			}
			q, ok := p.Cmds[0].Args[0].(*parse.StringNode)
			if !ok || !printsNothing(q.Text) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// fillers are the letters and symbols that show as nothing: the Hangul
// fillers and the blank Braille pattern.
var fillers = map[rune]bool{0x115F: true, 0x1160: true, 0x3164: true, 0xFFA0: true, 0x2800: true}

// printsNothing reports whether s has no character a reader sees: spaces,
// control characters (which the subject turns into spaces), format
// characters (zero-width spaces and joiners, direction marks, the
// soft hyphen, a BOM), combining marks with nothing to combine with, and
// fillers.
func printsNothing(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && !unicode.In(r, unicode.Cc, unicode.Cf, unicode.Mn, unicode.Me) && !fillers[r] {
			return false
		}
	}
	return true
}
