package render

// The prose rule of Inspect: a template holds message keys, never literal
// language. Text that is written in a template file goes to every
// recipient as is, whatever their language (incident #1: English prose in a
// template sent to everyone), so a letter in any script (unicode.IsLetter)
// in template text outside actions is a problem:
//
//   - subject.tmpl, text.tmpl: in every text node of the parse tree.
//   - html.tmpl: in the text content (including <title>) and in the
//     attributes people read (alt, title, placeholder, aria-label, ...,
//     and the value of an <input> button).
//     HTML markup itself (tag and attribute names, the doctype, comments),
//     other attribute values (href, src, style, class, ...) and the content
//     of <style> and <script> are no language. Entities are decoded first:
//     &nbsp; and &copy; are not letters, &eacute; is. The content of an
//     Outlook conditional comment (<!--[if mso]>...<![endif]-->) is HTML
//     that Outlook shows, and is checked as such.
//
// What is left is allowed: whitespace, punctuation, digits, symbols and
// emoji (a "--" signature separator, "·", "©", "→", "2026").
//
// A quoted string in an action is text too when the action may print it
// ({{"Welcome"}}, {{printf "Hi %s" .Name}}, {{or .Fields.nick "friend"}}):
// it is checked as if it were written where the action is, so the same
// contexts apply (an href's URL is no language, an alt text is). Not
// printed there, so not checked: the message key of t and tc, the keys of
// index, what eq, ne, lt, le, gt, ge, len and not compare or count,
// printf's verbs and an {{if}}'s condition. A declaration or assignment
// ({{$hi := "Hello"}}, {{$brand := "#0a84ff"}}) prints nothing where it
// is; its string is checked where the variable is printed ({{$hi}}), in
// that place's context, so a colour printed in a style attribute or a URL
// in an href is no language and a greeting printed as text is (reported at
// the declaration's line, which is what to change).

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template/parse"
	"unicode"

	"golang.org/x/net/html"
)

// literal is a piece of template text with letters in it.
type literal struct {
	File string
	Line int
	Text string // the text, actions shown as {{…}}
	Attr string // the attribute it is the value of (html.tmpl), or ""
	// For a string a declaration gives a variable: the variable, and the
	// line of the action that prints it.
	Var     string
	VarLine int
}

// varPrint is a variable an action prints, at pos in the file's source
// (n bytes: "$name"), with the strings its declarations may give it.
type varPrint struct {
	name   string
	pos, n int
	decls  []declared
}

// declared is a string a declaration or assignment gives a variable.
type declared struct {
	text string // printf's verbs removed
	line int
}

// fileProse returns the literal prose of one template file: findLiterals,
// then each string a printed variable may hold, checked where it is
// printed: the place is marked with letters, and the string is prose when
// that adds a finding. It is reported once, at its declaration's line.
func fileProse(key, src string, scan fileScan, isHTML bool) []literal {
	texts, strs := scan.texts, scan.strs
	found := findLiterals(key, src, texts, strs, isHTML)
	seen := map[literal]bool{}
	for _, l := range found {
		seen[l] = true
	}
	n := len(found)
	for _, v := range scan.vars {
		if !slices.ContainsFunc(v.decls, func(d declared) bool { return strings.ContainsFunc(d.text, unicode.IsLetter) }) {
			continue
		}
		mark := quoted{pos: v.pos, text: strings.Repeat("x", v.n)}
		if start := strings.LastIndex(src[:v.pos], "{{"); isHTML && start > 0 && tagNames(v.decls) &&
			(strings.HasSuffix(src[:start], "<") || strings.HasSuffix(src[:start], "</")) {
			// Printed where an element's name may start (<{{$tag}}>), and
			// every text it may hold is one: marked from the action's
			// start, so that the tokenizer reads an element there (markup)
			// in text, and text in an attribute's value (alt="<{{$x}}").
			mark = quoted{pos: start, text: strings.Repeat("x", v.pos+v.n-start)}
		}
		marked := findLiterals(key, src, texts, append(slices.Clip(strs), mark), isHTML)
		i := slices.IndexFunc(marked, func(l literal) bool { return !seen[l] })
		if i < 0 {
			continue // printed where nobody reads it: a URL, a style, markup
		}
		for _, d := range v.decls {
			l := literal{File: key, Line: d.line, Text: cut(d.text), Attr: marked[i].Attr, Var: v.name, VarLine: 1 + strings.Count(src[:v.pos], "\n")}
			if strings.ContainsFunc(d.text, unicode.IsLetter) && !slices.ContainsFunc(found[n:], func(f literal) bool { return f.Line == l.Line && f.Text == l.Text }) {
				found = append(found, l)
			}
		}
	}
	return found
}

// hole stands for every byte of a template file that is not template text
// (actions, trim markers): it is no letter, no space, no markup and no
// entity, so the text around an action keeps its HTML context.
const hole = '\x01'

// litSpace stands for a space inside a quoted string an action prints, and
// litMarkup for the characters of it that are markup in HTML: control
// bytes the HTML tokenizer takes for text, shown as what they stand for.
const litSpace = '\x02'

var (
	litMarkup = map[byte]byte{'<': 0x03, '>': 0x04, '&': 0x05, '"': 0x06, '\'': 0x07, '=': 0x0e}
	litShown  = strings.NewReplacer(string(rune(litSpace)), " ", "\x03", "<", "\x04", ">", "\x05", "&", "\x06", `"`, "\x07", "'", "\x0e", "=")
)

// readableAttrs are the HTML attributes whose values people read or hear
// (screen readers, images not shown, tooltips).
var readableAttrs = map[string]bool{
	"alt": true, "title": true, "placeholder": true, "label": true, "abbr": true, "summary": true,
	"aria-label": true, "aria-description": true, "aria-roledescription": true,
	"aria-placeholder": true, "aria-valuetext": true,
}

// findLiterals returns the literal prose in the template file key: texts
// are the text nodes of every tree parsed from src.
func findLiterals(key, src string, texts []*parse.TextNode, strs []quoted, isHTML bool) []literal {
	masked := maskActions(src, texts)
	for _, q := range strs {
		copy(masked[q.pos:], q.text)
	}
	f := &literalFinder{file: key, src: src}
	if isHTML {
		f.html(masked, 0)
	} else {
		f.text(masked, 0, false)
	}
	return f.found
}

// maskActions returns src with every byte that is not in one of its text
// nodes texts (actions, trim markers) replaced by a hole.
func maskActions(src string, texts []*parse.TextNode) []byte {
	masked := bytes.Repeat([]byte{hole}, len(src))
	for _, n := range texts {
		// A text node is the source's own bytes at its position
		// (FuzzTemplateProse finds any letter missed).
		if p := int(n.Pos); p >= 0 && p+len(n.Text) <= len(src) && src[p:p+len(n.Text)] == string(n.Text) {
			copy(masked[p:], n.Text)
		}
	}
	return masked
}

// literalFinder collects the literals of one template file.
type literalFinder struct {
	file  string
	src   string
	found []literal
}

func (f *literalFinder) add(off int, text, attr string) {
	f.found = append(f.found, literal{File: f.file, Line: 1 + strings.Count(f.src[:off], "\n"), Text: cut(text), Attr: attr})
}

// cut shortens text to about 60 characters around its first letter.
func cut(text string) string {
	const width = 59
	rs := []rune(text)
	if len(rs) <= width+1 {
		return text
	}
	start := max(0, slices.IndexFunc(rs, unicode.IsLetter)-20)
	out := string(rs[start:min(start+width, len(rs))])
	if start > 0 {
		out = "…" + out
	}
	if start+width < len(rs) {
		out += "…"
	}
	return out
}

// text adds each line of b (at offset base in the file) that has letters;
// unescape decodes HTML entities first.
func (f *literalFinder) text(b []byte, base int, unescape bool) {
	for off := 0; off < len(b); {
		end := bytes.IndexByte(b[off:], '\n')
		if end < 0 {
			end = len(b) - off
		}
		line := string(b[off : off+end])
		if unescape {
			line = html.UnescapeString(line)
		}
		if t := showText(line); strings.ContainsFunc(t, unicode.IsLetter) {
			lead := len(b[off:off+end]) - len(bytes.TrimLeft(b[off:off+end], " \t\r\x01"))
			f.add(base+off+lead, t, "")
		}
		off += end + 1
	}
}

// html tokenizes b (at offset base in the file) and adds the text content
// and the readable attribute values that have letters.
func (f *literalFinder) html(b []byte, base int) {
	z := html.NewTokenizer(bytes.NewReader(b))
	code := false // the next text is the content of <script> or <style>
	for off := 0; ; {
		tt := z.Next()
		raw := z.Raw()
		at := off
		off += len(raw)
		switch tt {
		case html.ErrorToken:
			return
		case html.TextToken:
			if !code {
				f.text(raw, base+at, true)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			var value []byte // an <input>'s value, shown on its button (below)
			button := false
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				// An action before the attribute leaves holes stuck to its
				// name ({{if .X}}height="1" {{end}}alt="...").
				k = bytes.Trim(k, string(rune(hole)))
				if t := showText(string(v)); readableAttrs[string(k)] && strings.ContainsFunc(t, unicode.IsLetter) {
					f.add(base+at+attrOffset(raw, string(k)), t, string(k))
				}
				switch {
				case string(k) == "value":
					value = v
				case string(k) == "type":
					button = slices.Contains([]string{"submit", "button", "reset"}, strings.ToLower(string(v)))
				}
			}
			// The value of <input type="submit|button|reset"> is the text on
			// the button; other values (a form's data, <option value="de">)
			// are no language.
			if t := showText(string(value)); string(name) == "input" && button && strings.ContainsFunc(t, unicode.IsLetter) {
				f.add(base+at+attrOffset(raw, "value"), t, "value")
			}
			code = tt == html.StartTagToken && (string(name) == "script" || string(name) == "style")
			continue
		case html.CommentToken:
			// <!--[if mso]>HTML<![endif]-->: HTML that Outlook shows.
			if open := bytes.Index(raw, []byte("]>")); bytes.HasPrefix(bytes.TrimSpace(raw[min(4, len(raw)):]), []byte("[if")) && open >= 0 {
				if end := bytes.LastIndex(raw, []byte("<![endif]")); end > open {
					f.html(raw[open+2:end], base+at+open+2)
				}
			}
		}
		code = false
	}
}

// attrOffset returns where the attribute name starts in the raw tag, or 0.
func attrOffset(raw []byte, name string) int {
	// ASCII only, byte for byte: bytes.ToLower turns each invalid UTF-8
	// byte into a 3-byte U+FFFD, and the index would not be raw's.
	lower := make([]byte, len(raw))
	for i, c := range raw {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	for i := 1; i < len(lower); i++ {
		j := bytes.Index(lower[i:], []byte(name))
		if j < 0 {
			return 0
		}
		i += j
		rest := bytes.TrimLeft(lower[i+len(name):], " \t\r\n")
		// Before the name: a space, or an action ending after one
		// ("{{end}}alt=": holes), not a value's text ("?{{.Q}}title=").
		k := i - 1
		for k > 0 && lower[k] == hole {
			k--
		}
		if isSpace(lower[k]) && len(rest) > 0 && rest[0] == '=' {
			return i
		}
	}
	return 0
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' }

// showText trims s and shows each run of holes inside it as {{…}}.
func showText(s string) string {
	s = strings.Trim(litShown.Replace(s), " \t\r\n\f\u00a0\x01")
	var b strings.Builder
	for i, part := range strings.FieldsFunc(s, func(r rune) bool { return r == hole }) {
		if i > 0 {
			b.WriteString("{{…}}")
		}
		b.WriteString(part)
	}
	return b.String()
}

// proseProblems words lits for Inspect and Engine.Prose: the template is
// name, with the message keys keys, and def the default catalog, named
// defFile. Each text gets a message key to move it into that nothing holds
// yet (neither keys, def, nor another text's suggestion), the same key for
// the same text.
func proseProblems(lits []literal, name string, keys []keyUse, def *catalog, defFile string) []Problem {
	taken := func(k string) bool {
		_, ok := def.byID[k]
		return ok || slices.ContainsFunc(keys, func(u keyUse) bool { return u.Key == k })
	}
	given := map[string]string{} // key -> the text it was suggested for
	out := make([]Problem, 0, len(lits))
	for _, l := range lits {
		base := name + "." + suggestKey(l.Text)
		key := base
		for i := 2; taken(key) || given[key] != "" && given[key] != l.Text; i++ {
			key = fmt.Sprintf("%s_%d", base, i)
		}
		given[key] = l.Text
		out = append(out, l.problem(key, defFile))
	}
	return out
}

// problem words l, suggesting key, with defFile the default catalog.
func (l literal) problem(key, defFile string) Problem {
	use := fmt.Sprintf("{{t %q .}}", key)
	what := fmt.Sprintf("literal text %q", l.Text)
	if l.Attr != "" {
		use = fmt.Sprintf("%s=\"%s\"", l.Attr, use)
		what += " in " + l.Attr + `="…"`
	}
	if l.Var != "" {
		what += fmt.Sprintf(", printed by {{%s}} on line %d,", l.Var, l.VarLine)
		use = fmt.Sprintf("{{%s := t %q .}}", l.Var, key)
	}
	return Problem{File: l.File, Line: l.Line, Severity: SeverityError,
		Msg: fmt.Sprintf("%s would reach every language untranslated: move it into a message, e.g. %s with the text in %s and every other catalog (a URL or name that is the same in every language goes in the campaign's data: {{.Data.name}})", what, use, defFile)}
}

// suggestKey makes a message key from the first words of text: its first
// three ASCII words, lower-cased ("your_password_has"), else "text".
func suggestKey(text string) string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	})
	if len(words) == 0 {
		return "text"
	}
	return strings.Join(words[:min(3, len(words))], "_")
}

// tagName matches what HTML reads as an element's name after "<".
var tagName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)

// tagNames reports whether every declared text with a letter is an
// element's name.
func tagNames(ds []declared) bool {
	return !slices.ContainsFunc(ds, func(d declared) bool {
		return strings.ContainsFunc(d.text, unicode.IsLetter) && !tagName.MatchString(d.text)
	})
}

// quoted is a string literal that an action may print: its text, with
// printf's verbs made holes and the characters that are markup in HTML
// blanked, to be read at pos, the position of its first byte inside the
// quotes (never longer than the literal's source).
type quoted struct {
	pos  int
	text string
}

// notPrinted names the functions whose string arguments are not printed:
// they are compared, counted or looked up (t and tc's message key too).
var notPrinted = map[string]bool{"t": true, "tc": true, "index": true, "eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true, "len": true, "not": true}

// funcName is the function command c calls, or "".
func funcName(c *parse.CommandNode) string {
	if id, ok := c.Args[0].(*parse.IdentifierNode); ok {
		return id.Ident
	}
	return ""
}

// printfVerb matches a fmt verb with its flags, width and precision.
var printfVerb = regexp.MustCompile(`%[-+# 0]*(\[\d+\])?(\d+|\*)?(\.(\d+|\*))?(\[\d+\])?[a-zA-Z%]`)

// quoted collects the string literals of c that may be printed (see the
// package's prose rule), where they are in the source.
func (a *analyzer) quoted(c *parse.CommandNode) {
	fn := funcName(c)
	if notPrinted[fn] {
		return
	}
	for i, arg := range c.Args {
		s, ok := arg.(*parse.StringNode)
		p := int(arg.Position())
		if !ok || p < 0 || p+len(s.Quoted) > len(a.src) || a.src[p:p+len(s.Quoted)] != s.Quoted || len(s.Text) > len(s.Quoted)-2 {
			continue
		}
		text := s.Text
		if fn == "printf" && i == 1 {
			text = printfVerb.ReplaceAllStringFunc(text, func(v string) string { return strings.Repeat(string(rune(hole)), len(v)) })
		}
		b := []byte(text)
		for j, c := range b {
			switch {
			case litMarkup[c] != 0:
				b[j] = litMarkup[c]
			case c == ' ' || c == '\t' || c == '\f' || c == '\r' || c == '\n':
				// Not a space to the HTML tokenizer (an unquoted attribute
				// value goes on, as html/template escapes the space), shown
				// as one.
				b[j] = litSpace
			}
		}
		a.strs = append(a.strs, quoted{pos: p + 1, text: string(b)})
	}
	for _, arg := range c.Args {
		if v, ok := arg.(*parse.VariableNode); ok && len(v.Ident) == 1 && len(a.decls[v.Ident[0]]) > 0 {
			name, p := v.Ident[0], int(v.Position())
			if p >= 0 && p+len(name) <= len(a.src) && a.src[p:p+len(name)] == name {
				a.vars = append(a.vars, varPrint{name: name, pos: p, n: len(name), decls: slices.Clone(a.decls[name])})
			}
		}
	}
}

// declare records the strings the declaration or assignment p gives its
// variables, for where they are printed (fileProse): the quoted strings its
// commands may print, and what a variable it passes on may hold. They
// replace what the variables held ({{$v := .Name}} after {{$v := "#fff"}}
// holds no string): a branch that may not run is scoped's to merge.
func (a *analyzer) declare(p *parse.PipeNode) {
	ds := a.printable(p)
	if a.decls == nil {
		a.decls = map[string][]declared{}
	}
	for _, v := range p.Decl {
		a.decls[v.Ident[0]] = ds
		if !p.IsAssign && a.local != nil {
			a.local[v.Ident[0]] = true // a new variable, until the structure's end
		}
	}
}

// scoped walks the lists of an if, range or with (walks) for the strings
// variables hold, as Go's templates scope them. Each list starts from what
// the variables held before, with the structure's own declaration (pipe's)
// holding what the pipeline may print (own: an if's) or nothing (a range's
// element, a with's value: checked where it is). A range's body may run
// again after an assignment in it, so it starts with those assignments'
// strings too. Afterwards a variable declared before holds what it held
// before or after any list (none of them may run); one declared inside ends
// with the structure.
func (a *analyzer) scoped(pipe *parse.PipeNode, ownStrings, loop bool, lists []*parse.ListNode, walk func(*parse.ListNode)) {
	before, outerLocal := maps.Clone(a.decls), a.local
	defer func() { a.local = outerLocal }()
	inner, own := maps.Clone(before), map[string]bool{}
	if inner == nil {
		inner = map[string][]declared{}
	}
	if pipe != nil && len(pipe.Decl) > 0 {
		var ds []declared
		if ownStrings {
			ds = a.printable(pipe)
		}
		for _, v := range pipe.Decl {
			inner[v.Ident[0]], own[v.Ident[0]] = ds, true
		}
	}
	if loop {
		// A later iteration may see what any assignment of the body gave an
		// outer variable, also through another variable assigned in an
		// earlier iteration ($b = $a, then $a = "text"): repeated until no
		// variable gains a string.
		for grew := true; grew; {
			grew = false
			a.decls = maps.Clone(inner)
			for _, l := range lists {
				a.assignments(l, func(name string, ds []declared) {
					if _, outer := before[name]; !outer || own[name] {
						return
					}
					for _, d := range ds {
						if !slices.Contains(inner[name], d) {
							inner[name], grew = append(slices.Clip(inner[name]), d), true
						}
					}
				})
			}
		}
		a.decls = before
	}
	after := maps.Clone(before)
	for _, l := range lists {
		a.decls, a.local = maps.Clone(inner), maps.Clone(own)
		walk(l)
		for name := range before {
			if !a.local[name] { // not shadowed: the outer variable, assigned
				after[name] = append(slices.Clip(after[name]), a.decls[name]...)
			}
		}
	}
	for name, ds := range after {
		slices.SortFunc(ds, func(x, y declared) int { return cmp.Or(x.line-y.line, strings.Compare(x.text, y.text)) })
		after[name] = slices.Compact(ds)
	}
	a.decls = after
}

// assignments calls f with the strings of every assignment ({{$v = ...}})
// in list, at any depth.
func (a *analyzer) assignments(list *parse.ListNode, f func(name string, ds []declared)) {
	if list == nil {
		return
	}
	for _, n := range list.Nodes {
		switch n := n.(type) {
		case *parse.ActionNode:
			if n.Pipe.IsAssign {
				ds := a.printable(n.Pipe)
				for _, v := range n.Pipe.Decl {
					f(v.Ident[0], ds)
				}
			}
		case *parse.IfNode:
			a.assignments(n.List, f)
			a.assignments(n.ElseList, f)
		case *parse.RangeNode:
			a.assignments(n.List, f)
			a.assignments(n.ElseList, f)
		case *parse.WithNode:
			a.assignments(n.List, f)
			a.assignments(n.ElseList, f)
		}
	}
}

// printable returns the strings pipeline p may print, as quoted collects
// them, with the strings of the variables it passes on.
func (a *analyzer) printable(p *parse.PipeNode) []declared {
	var ds []declared
	if n := len(p.Cmds); n > 1 && notPrinted[funcName(p.Cmds[n-1])] {
		return nil // a number or a truth
	}
	for _, c := range p.Cmds {
		fn := funcName(c)
		if notPrinted[fn] {
			continue
		}
		for i, arg := range c.Args {
			switch n := arg.(type) {
			case *parse.StringNode:
				text := n.Text
				if fn == "printf" && i == 1 {
					text = printfVerb.ReplaceAllString(text, "{{…}}")
				}
				ds = append(ds, declared{text: text, line: a.line(n)})
			case *parse.VariableNode:
				if len(n.Ident) == 1 {
					ds = append(ds, a.decls[n.Ident[0]]...)
				}
			case *parse.PipeNode:
				ds = append(ds, a.printable(n)...)
			}
		}
	}
	return ds
}
