package render

import (
	htmltemplate "html/template"
	"reflect"
	"slices"
	texttemplate "text/template"
	"text/template/parse"
)

// Checking a row without rendering it.
//
// plan renders every row once, to refuse before anything is staged a row the
// worker could not render; only the error matters there. Once a language's
// templates are folded and their messages hoisted, what is left of them
// often cannot fail: every action prints a string field of the view (.Name,
// .M0, ...), through the escapers html/template added, which take
// any value and return a string. Executing such a template fails for no
// recipient, so whether Render fails for a recipient is decided before the
// templates run: by the locale rule and by evaluating the hoisted messages
// (a missing column, a count that is not a number). Check does exactly
// that, and renders only when it cannot tell.

// Check returns the error Render would return for m and d, nil when Render
// would succeed. It renders only when the language's templates could fail
// for some recipient (see above), or when a hoisted message fails for this
// one.
func (e *Engine) Check(m Match, d Data) error {
	l, err := e.langFor(m)
	if err != nil {
		return err
	}
	if err := e.directionControlIn(l, d); err != nil {
		return err
	}
	ts := l.templatesFor(d, e.data)
	if ts.total {
		if ts.messages == nil {
			return nil
		}
		v := newView(l, m, d)
		ok := ts.messages.fill(l, v)
		putView(v)
		if ok {
			return nil
		}
	}
	_, err = e.Render(m, d)
	return err
}

// templatesFor returns the templates Render executes for data d, given the
// campaign data the engine folded.
func (l *engineLang) templatesFor(d Data, folded map[string]any) *langTemplates {
	if l.std != nil && !sameData(d.Data, folded) {
		return l.std
	}
	return l.tmpl
}

// cannotFail reports whether executing lt's templates (with their messages
// evaluated) fails for no recipient: each is constant or total.
func (lt *langTemplates) cannotFail() bool {
	for _, f := range []fileTemplate{lt.subject, lt.html, lt.text} {
		if f.exec != nil && !f.total() {
			return false
		}
	}
	return true
}

// viewStrings are the fields of view that hold a string, which printing
// cannot fail on (taken from the type, so that a field changed or added
// is judged by what it is), the hoisted messages (M0 to M15) apart.
var viewStrings = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[view]()
	for i := range t.NumField() {
		if f := t.Field(i); f.Type.Kind() == reflect.String && !slices.Contains(hoistedField[:], f.Name) {
			m[f.Name] = true
		}
	}
	return m
}()

// total reports whether executing f on a *view fails for no view. Its main
// tree as written (src) must hold only text and actions that print a
// string field of the view or a hoisted message; anything else (a function
// call, a map, if, range, with, template, a variable) may fail. The tree
// that runs must be that tree, plus, in an html template, the commands
// html/template's escaping appended to every action, which print any value
// and cannot fail: a tree not escaped yet is not total.
func (f fileTemplate) total() bool {
	var tree *parse.Tree
	html := false
	switch t := f.exec.(type) {
	case *htmltemplate.Template:
		if _, err := t.Clone(); err == nil {
			return false // not executed, so not escaped, yet: Clone fails after
		}
		tree, html = t.Tree, true
	case *texttemplate.Template:
		tree = t.Tree
	}
	if tree == nil || tree.Root == nil || f.src == nil || f.src.Root == nil {
		return false
	}
	written := map[parse.Pos]bool{}
	for _, n := range f.src.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
		case *parse.ActionNode:
			if !printsString(n.Pipe) {
				return false
			}
			written[n.Pos] = true
		default:
			return false
		}
	}
	for _, n := range tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
		case *parse.ActionNode:
			escaped := len(n.Pipe.Cmds) > 1
			if !written[n.Pos] || escaped != html || len(n.Pipe.Decl) > 0 || !printsString(&parse.PipeNode{Cmds: n.Pipe.Cmds[:1]}) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// printsString reports whether p is a single field of the view that holds a
// string, or a hoisted message.
func printsString(p *parse.PipeNode) bool {
	if p == nil || len(p.Decl) > 0 || p.IsAssign || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	f, ok := p.Cmds[0].Args[0].(*parse.FieldNode)
	if !ok {
		return false
	}
	switch {
	case len(f.Ident) == 1:
		return viewStrings[f.Ident[0]] || slices.Contains(hoistedField[:], f.Ident[0])
	}
	return false
}
