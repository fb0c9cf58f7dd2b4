package render

import (
	"fmt"
	"sort"
	"strings"
	"text/template/parse"
)

// The catalog rule. Translators' strings use the recipient's data and the
// plural count, and run no code. A form of a catalog message may contain
// only:
//
//   - text (everything outside the message's delimiters, {{ }} unless the
//     message sets leftDelim and rightDelim);
//   - comments, {{/* ... */}};
//   - quoted strings, {{"{{"}}, which print themselves (the way to write the
//     delimiters as text);
//   - one field of the template data per action: {{.ID}}, {{.Email}},
//     {{.Name}}, {{.Campaign}}, {{.Locale}}, {{.RequestedLocale}}, {{.Unsubscribe}},
//     {{.Dir}}, {{.Count}}, {{.Fields.<column>}} or {{.Data.<key>}}, with
//     trim markers ({{- .Name -}}) if wanted.
//
// Anything else is refused: calling a function (printf, html, index, len,
// call, eq, ... or any other name), a pipeline (|), parentheses, variables
// ($, $x) and declarations, {{.}}, numeric, boolean and nil constants,
// if, range, with, template, block and define, unknown fields and field
// chains deeper than the ones above (a method of a value is code). The rule
// is checked on text/template/parse's tree of every form of every message of
// every catalog: Lint reports each offending message with its file, line and
// key, and New refuses the catalog (*FileError with Key), so that no engine
// ever renders such a message.

// ruleAdvice says what a catalog message may contain.
const ruleAdvice = "catalog messages may contain only text and data fields such as {{.Name}}, {{.Fields.column}}, {{.Data.key}} and {{.Count}}"

// messageCheck is the result of checking one form of a catalog message.
type messageCheck struct {
	fields     map[string]bool // data references, ".Name", ".Fields.posts"
	violations []violation
}

// violation is one part of a message the catalog rule refuses.
type violation struct {
	phrase  string // "has {{printf ...}}, which calls the function printf"
	unknown bool   // an unknown or too deep field (the advice lists the fields)
}

// checkMessage parses one form of a catalog message with its delimiters
// (empty means {{ and }}) and applies the catalog rule. The error is a
// syntax error.
func checkMessage(src, left, right string) (messageCheck, error) {
	mc := messageCheck{fields: map[string]bool{}}
	if left == "" {
		left = "{{"
	}
	if right == "" {
		right = "}}"
	}
	if !strings.Contains(src, left) {
		return mc, nil // go-i18n's rule: no delimiter, no template
	}
	t := parse.New("message")
	t.Mode = parse.SkipFuncCheck // report functions as violations, not syntax errors
	set := map[string]*parse.Tree{}
	if _, err := t.Parse(src, left, right, set); err != nil {
		return mc, err
	}
	var defined []string
	for name, tree := range set {
		if tree != t {
			defined = append(defined, name)
		}
	}
	sort.Strings(defined)
	for _, name := range defined {
		mc.violations = append(mc.violations, violation{phrase: fmt.Sprintf("defines the template %q", name)})
	}
	mc.list(t.Root)
	return mc, nil
}

func (mc *messageCheck) refuse(n parse.Node, why string) {
	mc.violations = append(mc.violations, violation{phrase: fmt.Sprintf("has %s, which %s", n, why)})
}

func (mc *messageCheck) list(l *parse.ListNode) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.TextNode, *parse.CommentNode:
		case *parse.ActionNode:
			mc.action(n)
		case *parse.IfNode:
			mc.collect(n.Pipe)
			mc.refuse(n, "is a condition (if)")
		case *parse.RangeNode:
			mc.collect(n.Pipe)
			mc.refuse(n, "is a loop (range)")
		case *parse.WithNode:
			mc.collect(n.Pipe)
			mc.refuse(n, "is a with block")
		case *parse.TemplateNode:
			mc.refuse(n, fmt.Sprintf("runs the template %q", n.Name))
		default:
			mc.refuse(n, "is not text or a data field")
		}
	}
}

// collect records the fields a refused part uses, so that Lint compares
// languages by what they reference even there.
func (mc *messageCheck) collect(n parse.Node) {
	switch n := n.(type) {
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			for _, a := range c.Args {
				mc.collect(a)
			}
		}
	case *parse.ChainNode:
		mc.collect(n.Node)
	case *parse.FieldNode:
		mc.fields["."+strings.Join(n.Ident, ".")] = true
	}
}

func (mc *messageCheck) action(a *parse.ActionNode) {
	p := a.Pipe
	mc.collect(p)
	switch {
	case len(p.Decl) > 0:
		mc.refuse(a, "declares a variable")
		return
	case len(p.Cmds) != 1:
		mc.refuse(a, "is a pipeline")
		return
	}
	args := p.Cmds[0].Args
	if len(args) == 0 {
		mc.refuse(a, "is empty")
		return
	}
	switch n := args[0].(type) {
	case *parse.IdentifierNode:
		mc.refuse(a, fmt.Sprintf("calls the function %s", n.Ident))
		return
	case *parse.FieldNode:
		if len(args) > 1 {
			mc.refuse(a, fmt.Sprintf("calls %s with arguments", n))
			return
		}
		mc.field(n)
		return
	}
	if len(args) > 1 {
		mc.refuse(a, "is not a single data field")
		return
	}
	switch n := args[0].(type) {
	case *parse.StringNode:
		// A quoted string prints itself.
	case *parse.DotNode:
		mc.refuse(a, "prints the whole template data")
	case *parse.VariableNode:
		mc.refuse(a, fmt.Sprintf("uses the variable %s; write the field itself, such as {{.Name}}", n.Ident[0]))
	case *parse.PipeNode:
		mc.refuse(a, "uses parentheses")
	case *parse.ChainNode:
		mc.refuse(a, "takes a field of an expression")
	case *parse.NumberNode, *parse.BoolNode, *parse.NilNode:
		mc.refuse(a, "is a constant; write it as text")
	default:
		mc.refuse(a, "is not text or a data field")
	}
}

// field checks a field reference: a field of the template data, and for
// .Fields and .Data exactly one entry.
func (mc *messageCheck) field(f *parse.FieldNode) {
	name := "." + strings.Join(f.Ident, ".")
	mc.fields[name] = true
	first := f.Ident[0]
	switch {
	case !dataFields[first]:
		mc.violations = append(mc.violations, violation{phrase: "uses unknown field " + name, unknown: true})
	case (first == "Fields" || first == "Data") && len(f.Ident) != 2:
		mc.violations = append(mc.violations, violation{phrase: fmt.Sprintf("uses %s; write .%s.<name>, one entry", name, first), unknown: true})
	case first != "Fields" && first != "Data" && len(f.Ident) != 1:
		mc.violations = append(mc.violations, violation{phrase: fmt.Sprintf("uses %s; .%s has no fields", name, first), unknown: true})
	}
}

// ruleMessage words the violations of one message (all its forms) for
// catalog language lang: "de: welcome.greeting has {{printf ...}}, which
// calls the function printf; catalog messages may contain only ...".
func ruleMessage(lang, key string, vs []violation) string {
	var phrases []string
	seen := map[string]bool{}
	unknown, code := false, false
	for _, v := range vs {
		if seen[v.phrase] {
			continue
		}
		seen[v.phrase] = true
		phrases = append(phrases, v.phrase)
		unknown = unknown || v.unknown
		code = code || !v.unknown
	}
	msg := fmt.Sprintf("%s: %s %s", lang, key, strings.Join(phrases, "; "))
	if unknown {
		msg += "; the template data has " + fieldList()
	}
	if code {
		msg += "; " + ruleAdvice
	}
	return msg
}
