package render

import (
	"slices"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
)

// Plain trees.
//
// After folding and hoisting, text.tmpl is usually text and actions that
// print a string: {{.M0}}, {{.Name}}. A catalog message is text
// and data fields ({{.Name}}, {{.Fields.col}}, {{.Count}}). For such a tree
// text/template's Execute does by reflection what a list of parts does
// directly, and what it does is documented: a text node is written as it
// is; an action without declaration whose pipeline is one field prints the
// field's value the way fmt.Print does, which for a string is the string
// itself; a quoted string constant ({{"{{"}}) prints its text; a comment
// prints nothing. A plain tree is a parse tree made of those nodes and
// nothing else, with fields of the view of type string (viewStrings),
// hoisted messages and, in catalog messages, recipients columns
// (.Fields.<column>); plainOf refuses any other tree, and the caller keeps
// executing it with text/template.
//
// The one way such an execution can fail is a column the recipient does
// not have (missingkey=error, which both the templates and the messages
// use): exec then reports false, and the caller executes the template,
// which fails the way it always did. html.tmpl is never plain: its
// actions carry html/template's escapers, which only html/template runs.
// TestPlainEqualsExecute and FuzzPlainMessage compare plain execution with
// text/template's on the same trees.

// plainKind says what a part of a plain tree prints.
type plainKind uint8

const (
	plainText    plainKind = iota // text
	plainColumn                   // .Fields.<text>
	plainMessage                  // .M<idx>, a hoisted message
	plainField                    // a string field of the view (field)
)

// plainFields reads each string field of the view, .Count being the count
// the caller gives; a test checks it names exactly viewStrings.
var plainFields = map[string]func(v *view, count string) string{
	"ID":              func(v *view, _ string) string { return v.ID },
	"Email":           func(v *view, _ string) string { return v.Email },
	"Name":            func(v *view, _ string) string { return v.Name },
	"Campaign":        func(v *view, _ string) string { return v.Campaign },
	"Locale":          func(v *view, _ string) string { return v.Locale },
	"RequestedLocale": func(v *view, _ string) string { return v.RequestedLocale },
	"Dir":             func(v *view, _ string) string { return v.Dir },
	"Unsubscribe":     func(v *view, _ string) string { return v.Unsubscribe },
	"Count":           func(_ *view, count string) string { return count },
}

// plainPart is one part of a plain tree.
type plainPart struct {
	kind  plainKind
	idx   int                                // the hoisted message, for plainMessage
	text  string                             // the text, or the column
	field func(v *view, count string) string // for plainField
}

// plainOf returns the parts of tree t if it is plain, else nil. messages
// allows hoisted messages (.M<i>), columns allows recipients
// columns (.Fields.<column>).
func plainOf(t *parse.Tree, messages, columns bool) []plainPart {
	if t == nil || t.Root == nil {
		return nil
	}
	parts := []plainPart{}
	for _, n := range t.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			parts = append(parts, plainPart{kind: plainText, text: string(n.Text)})
		case *parse.CommentNode:
		case *parse.ActionNode:
			p, ok := plainAction(n.Pipe, messages, columns)
			if !ok {
				return nil
			}
			parts = append(parts, p)
		default:
			return nil
		}
	}
	return parts
}

// plainAction returns the part an action with pipeline p prints.
func plainAction(p *parse.PipeNode, messages, columns bool) (plainPart, bool) {
	if p == nil || len(p.Decl) > 0 || p.IsAssign || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return plainPart{}, false
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.StringNode:
		return plainPart{kind: plainText, text: a.Text}, true
	case *parse.FieldNode:
		switch {
		case len(a.Ident) == 1:
			if f, ok := plainFields[a.Ident[0]]; ok {
				return plainPart{kind: plainField, field: f}, true
			}
			if i := slices.Index(hoistedField[:], a.Ident[0]); i >= 0 && messages {
				return plainPart{kind: plainMessage, idx: i}, true
			}
		case len(a.Ident) == 2 && a.Ident[0] == "Fields" && columns:
			return plainPart{kind: plainColumn, text: a.Ident[1]}, true
		}
	}
	return plainPart{}, false
}

// plainTemplate returns the parts of text template x if its tree is plain
// (hoisted messages allowed, columns not), else nil.
func plainTemplate(x executor) []plainPart {
	if t, ok := x.(*texttemplate.Template); ok {
		return plainOf(t.Tree, true, false)
	}
	return nil
}

// value returns what part p prints for v, with count as .Count; false for
// a column v lacks.
func (p *plainPart) value(v *view, count string) (string, bool) {
	switch p.kind {
	case plainText:
		return p.text, true
	case plainColumn:
		s, ok := v.Fields[p.text]
		return s, ok
	case plainMessage:
		return *hoistedPtr(v, p.idx), true
	case plainField:
		return p.field(v, count), true
	}
	return "", false
}

// execPlain returns what parts print for v, with count as .Count; false
// if a column is missing (text/template then reports it).
func execPlain(parts []plainPart, v *view, count string) (string, bool) {
	n := 0
	for i := range parts {
		s, ok := parts[i].value(v, count)
		if !ok {
			return "", false
		}
		n += len(s)
	}
	var b strings.Builder
	b.Grow(n)
	for i := range parts {
		s, _ := parts[i].value(v, count)
		b.WriteString(s)
	}
	return b.String(), true
}
