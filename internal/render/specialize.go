package render

import (
	"bytes"
	"errors"
	htmltemplate "html/template"
	"io"
	"strings"
	"sync"
	texttemplate "text/template"
	"text/template/parse"
)

// langTemplates is the template specialised for one catalog language when
// the engine is built: every {{t "key" .}} whose message has no action, and
// every {{.Locale}} and {{.Dir}}, is replaced by its text (escaped in HTML
// exactly as html/template escapes it in that place), and the messages with
// simple actions ("Hallo {{.Name}},") are spliced into the template. What is
// left for each Render is the recipient's data and the plural messages.
//
// Only the top level of the main template is specialised (inside if, not
// inside range, with or a defined template), where dot is the template data.
// Anything the specialiser does not know how to do exactly stays a call of t.
// TestCompiledEqualsI18n proves the result equal to rendering every message
// through go-i18n with the generic template.
type langTemplates struct {
	subject, text *texttemplate.Template
	html          *htmltemplate.Template
	// The same, compiled (see program); nil where a template does not
	// compile.
	subjectProg, textProg, htmlProg *program
}

// specialize builds l's templates from the generic set. It must run before
// set.html is executed (html/template cannot be cloned afterwards).
func specialize(set *tmplSet, l *engineLang) (*langTemplates, error) {
	subject, err := specializeText(set.subject, l)
	if err != nil {
		return nil, err
	}
	text, err := specializeText(set.text, l)
	if err != nil {
		return nil, err
	}
	html, err := specializeHTML(set.html, l)
	if err != nil {
		return nil, err
	}
	lt := &langTemplates{subject: subject, text: text, html: html}
	if subject.Tree != nil {
		lt.subjectProg, _ = compileProgram(subject.Tree.Root, false)
	}
	if text.Tree != nil {
		lt.textProg, _ = compileProgram(text.Tree.Root, false)
	}
	if html != set.html && html.Tree != nil {
		lt.htmlProg, _ = compileProgram(html.Tree.Root, true)
	}
	return lt, nil
}

// specializeText copies a text template (all its associated templates) and
// specialises the main one.
func specializeText(orig *texttemplate.Template, l *engineLang) (*texttemplate.Template, error) {
	out := texttemplate.New(orig.Name()).Funcs(funcs).Option("missingkey=error")
	for _, tt := range orig.Templates() {
		if tt.Tree == nil {
			continue
		}
		tree := tt.Tree.Copy()
		if tt.Name() == orig.Name() {
			(&specializer{l: l}).list(tree.Root)
		}
		if _, err := out.AddParseTree(tt.Name(), tree); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// specializeHTML clones the html template, lets html/template escape the
// clone, and specialises the escaped tree. A template that does not escape
// is returned unspecialised, so that Render reports the error as before.
func specializeHTML(orig *htmltemplate.Template, l *engineLang) (*htmltemplate.Template, error) {
	c, err := orig.Clone()
	if err != nil {
		return nil, err
	}
	// Executing escapes the whole template first; with no data the execution
	// itself then stops at the first action, which is fine.
	err = c.Execute(io.Discard, nil)
	var ee texttemplate.ExecError
	if err != nil && !errors.As(err, &ee) {
		return orig, nil
	}
	if c.Tree == nil {
		return orig, nil
	}
	(&specializer{l: l, html: true}).list(c.Tree.Root)
	return c, nil
}

// specializer rewrites one parse tree for one language.
type specializer struct {
	l    *engineLang
	html bool // the tree is html/template's escaped tree
}

// list rewrites the nodes of n at the top level (dot is the template data).
func (s *specializer) list(n *parse.ListNode) {
	if n == nil {
		return
	}
	out := make([]parse.Node, 0, len(n.Nodes))
	for _, c := range n.Nodes {
		switch c := c.(type) {
		case *parse.ActionNode:
			if rep, ok := s.action(c); ok {
				out = append(out, rep...)
				continue
			}
		case *parse.IfNode:
			s.list(c.List)
			s.list(c.ElseList)
		}
		out = append(out, c)
	}
	n.Nodes = mergeText(out)
}

// action returns the nodes that replace a, if it can be specialised.
func (s *specializer) action(a *parse.ActionNode) ([]parse.Node, bool) {
	if a.Pipe == nil || len(a.Pipe.Decl) > 0 || a.Pipe.IsAssign || len(a.Pipe.Cmds) == 0 {
		return nil, false
	}
	first, chain := a.Pipe.Cmds[0], a.Pipe.Cmds[1:]
	esc, ok := s.escaper(chain)
	if !ok {
		return nil, false
	}
	args := first.Args
	switch {
	case len(args) == 1 && isField(args[0], "Locale"):
		return constText(esc, s.l.cat.lang)
	case len(args) == 1 && isField(args[0], "Dir"):
		return constText(esc, s.l.dir)
	case len(args) == 3 && isIdent(args[0], "t") && args[2].Type() == parse.NodeDot:
		key, ok := args[1].(*parse.StringNode)
		if !ok {
			return nil, false
		}
		msg := s.l.msgs[key.Text]
		if msg == nil || !msg.forms[formOther].ok {
			return nil, false // Render refuses at run time
		}
		f := msg.forms[formOther]
		if f.tmpl == nil {
			return constText(esc, f.text)
		}
		return s.splice(f.tmpl.Tree.Root, chain, esc)
	}
	return nil, false
}

// splice returns a message's nodes for insertion in place of {{t "key" .}}:
// in a text template the message tree as it is (same data, same printing);
// in HTML its text escaped and each field followed by the action's escapers,
// only where escaping is character by character (so escaping the parts is
// escaping the whole) and the fields are plain strings or numbers (never
// typed content such as template.HTML, which escapers would not escape).
func (s *specializer) splice(root *parse.ListNode, chain []*parse.CommandNode, esc func(string) (string, bool)) ([]parse.Node, bool) {
	if s.html && (len(chain) != 1 || !charwiseEscapers[identName(chain[0])]) {
		return nil, false
	}
	var out []parse.Node
	for _, n := range root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			t, ok := constText(esc, string(n.Text))
			if !ok {
				return nil, false
			}
			out = append(out, t...)
		case *parse.ActionNode:
			if n.Pipe == nil || len(n.Pipe.Decl) > 0 || n.Pipe.IsAssign {
				return nil, false
			}
			if !s.html {
				out = append(out, n.Copy())
				continue
			}
			if len(n.Pipe.Cmds) != 1 || len(n.Pipe.Cmds[0].Args) != 1 || !plainField(n.Pipe.Cmds[0].Args[0]) {
				return nil, false
			}
			cmds := append([]*parse.CommandNode{n.Pipe.Cmds[0].Copy().(*parse.CommandNode)}, chain...)
			out = append(out, &parse.ActionNode{NodeType: parse.NodeAction, Pos: n.Pos, Line: n.Line,
				Pipe: &parse.PipeNode{NodeType: parse.NodePipe, Pos: n.Pipe.Pos, Line: n.Pipe.Line, Cmds: cmds}})
		default:
			return nil, false
		}
	}
	return out, true
}

// charwiseEscapers are html/template's escapers that replace character by
// character, so that escape(a+b) == escape(a)+escape(b).
var charwiseEscapers = map[string]bool{
	"_html_template_htmlescaper":   true,
	"_html_template_rcdataescaper": true,
	"_html_template_attrescaper":   true,
}

// plainField reports whether n is a field of the template data whose value
// is a plain string or integer.
func plainField(n parse.Node) bool {
	f, ok := n.(*parse.FieldNode)
	if !ok {
		return false
	}
	switch len(f.Ident) {
	case 1:
		switch f.Ident[0] {
		case "ID", "Email", "Name", "Campaign", "Locale", "RequestedLocale", "Dir", "Count":
			return true
		}
	case 2:
		return f.Ident[0] == "Fields" // map[string]string
	}
	return false
}

// escaper returns the function applying the escapers of an action's chain
// to a constant: the identity in text templates.
func (s *specializer) escaper(chain []*parse.CommandNode) (func(string) (string, bool), bool) {
	if !s.html {
		if len(chain) > 0 {
			return nil, false
		}
		return func(v string) (string, bool) { return v, true }, true
	}
	names := make([]string, 0, len(chain))
	for _, c := range chain {
		n := identName(c)
		if !strings.HasPrefix(n, "_html_template_") {
			return nil, false
		}
		names = append(names, n)
	}
	p := escapeProbes()[strings.Join(names, " | ")]
	if p == nil {
		return nil, false
	}
	return p.escape, true
}

// constText returns a text node holding esc(v).
func constText(esc func(string) (string, bool), v string) ([]parse.Node, bool) {
	e, ok := esc(v)
	if !ok {
		return nil, false
	}
	return []parse.Node{&parse.TextNode{NodeType: parse.NodeText, Text: []byte(e)}}, true
}

// mergeText joins adjacent text nodes.
func mergeText(nodes []parse.Node) []parse.Node {
	out := nodes[:0]
	for _, n := range nodes {
		t, ok := n.(*parse.TextNode)
		if ok && len(out) > 0 {
			if prev, ok := out[len(out)-1].(*parse.TextNode); ok {
				joined := append(append([]byte(nil), prev.Text...), t.Text...)
				out[len(out)-1] = &parse.TextNode{NodeType: parse.NodeText, Pos: prev.Pos, Text: joined}
				continue
			}
		}
		out = append(out, n)
	}
	return out
}

func isField(n parse.Node, name string) bool {
	f, ok := n.(*parse.FieldNode)
	return ok && len(f.Ident) == 1 && f.Ident[0] == name
}

func isIdent(n parse.Node, name string) bool {
	i, ok := n.(*parse.IdentifierNode)
	return ok && i.Ident == name
}

// identName returns the name of a command that is a lone identifier.
func identName(c *parse.CommandNode) string {
	if len(c.Args) != 1 {
		return ""
	}
	if i, ok := c.Args[0].(*parse.IdentifierNode); ok {
		return i.Ident
	}
	return ""
}

// escapeProbe is a one-action html/template in a known context: executing
// it with a string gives pre + the escaped string + post.
type escapeProbe struct {
	t         *htmltemplate.Template
	pre, post string
}

// escape applies the probe's escapers to v.
func (p *escapeProbe) escape(v string) (string, bool) {
	var b bytes.Buffer
	if err := p.t.Execute(&b, v); err != nil {
		return "", false
	}
	out := b.String()
	if len(out) < len(p.pre)+len(p.post) || !strings.HasPrefix(out, p.pre) || !strings.HasSuffix(out, p.post) {
		return "", false
	}
	return out[len(p.pre) : len(out)-len(p.post)], true
}

// probeSources put one action in each context a message is commonly used
// in. html/template itself says which escapers each one gets.
var probeSources = []string{
	`<p>{{.}}</p>`,
	`<title>{{.}}</title>`,
	`<textarea>{{.}}</textarea>`,
	`<p title="{{.}}">`,
	`<p title='{{.}}'>`,
	`<p title={{.}}>`,
	`<a href="{{.}}">`,
	`<a href="/?q={{.}}">`,
	`<img srcset="{{.}}">`,
	`<script>x={{.}}</script>`,
	`<script>x="{{.}}"</script>`,
	`<script>x='{{.}}'</script>`,
	`<p style="color:{{.}}">`,
	`<style>p{color:{{.}}}</style>`,
}

var probes struct {
	once sync.Once
	m    map[string]*escapeProbe // escaper chain ("a | b") -> probe
}

// escapeProbes returns the probes by escaper chain, built once.
func escapeProbes() map[string]*escapeProbe {
	probes.once.Do(func() {
		probes.m = map[string]*escapeProbe{}
		for _, src := range probeSources {
			t, err := htmltemplate.New("probe").Parse(src)
			if err != nil || t.Execute(io.Discard, "") != nil || t.Tree == nil {
				continue
			}
			p := &escapeProbe{t: t}
			var names []string
			actions := 0
			for _, n := range t.Tree.Root.Nodes {
				switch n := n.(type) {
				case *parse.TextNode:
					if actions == 0 {
						p.pre += string(n.Text)
					} else {
						p.post += string(n.Text)
					}
				case *parse.ActionNode:
					actions++
					for _, c := range n.Pipe.Cmds[1:] {
						names = append(names, identName(c))
					}
				default:
					actions = 2
				}
			}
			key := strings.Join(names, " | ")
			if actions == 1 && probes.m[key] == nil {
				probes.m[key] = p
			}
		}
	})
	return probes.m
}
