package render

import (
	"text/template/parse"
)

// Hoisted messages.
//
// After folding, what a template still computes per recipient is mostly
// its messages with data: {{t "welcome.greeting" .}}, {{tc "welcome.posts"
// .Fields.posts .}}. Each is a call through reflection, in html.tmpl and
// again in text.tmpl. A call of t or tc that stands at the top level of a
// template's main tree runs on every rendering, so its value can be
// computed first: Render evaluates these messages (each once, with the same
// localize the functions use) into the view's M0 to M15, and the templates
// read {{.M0}} where they called t. html/template escapes the
// field where the call stood, exactly as it escaped the call's value.
//
// The rewritten template is checked like a folded one (fold.go): its
// output on every probe equals S's, and once both are escaped each
// rewritten action carries the escapers S's call carried. If evaluating a
// message fails for a recipient (a missing column, a count that is not a
// number), Render executes the templates without hoisted messages instead,
// which fail the way the standard templates fail, at the same action with
// the same error.

// maxHoisted is the number of messages a language's templates can read
// from the view's M0 to M15; further calls stay calls.
const maxHoisted = 16

// hoistedField is the name of the view's field that holds hoisted message i.
var hoistedField = [maxHoisted]string{"M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7", "M8", "M9", "M10", "M11", "M12", "M13", "M14", "M15"}

// hoistedPtr returns a pointer to v's hoisted message i (nil past the
// last).
func hoistedPtr(h *view, i int) *string {
	switch i {
	case 0:
		return &h.M0
	case 1:
		return &h.M1
	case 2:
		return &h.M2
	case 3:
		return &h.M3
	case 4:
		return &h.M4
	case 5:
		return &h.M5
	case 6:
		return &h.M6
	case 7:
		return &h.M7
	case 8:
		return &h.M8
	case 9:
		return &h.M9
	case 10:
		return &h.M10
	case 11:
		return &h.M11
	case 12:
		return &h.M12
	case 13:
		return &h.M13
	case 14:
		return &h.M14
	case 15:
		return &h.M15
	}
	return nil
}

// hoistUse is one hoisted message: t of key, or tc of key with the count
// from the recipients column count.
type hoistUse struct {
	key    string
	plural bool
	count  string
	field  string // instead of a message: this string field of the view, copied (split.go)
}

// hoistPlan is the list of messages Render evaluates for a language before
// executing its templates.
type hoistPlan struct {
	uses []hoistUse
}

// hoistable returns the message call an action of a main tree's top level
// makes, if Render can evaluate it first: t "key" with the template data,
// or tc "key" with a recipients column (.Fields.col or $.Fields.col) and
// the template data.
func (l *engineLang) hoistable(a *parse.ActionNode) (hoistUse, bool) {
	p := a.Pipe
	if len(p.Decl) > 0 || len(p.Cmds) != 1 {
		return hoistUse{}, false
	}
	args := p.Cmds[0].Args
	if len(args) < 3 {
		return hoistUse{}, false
	}
	fn, ok1 := args[0].(*parse.IdentifierNode)
	key, ok2 := args[1].(*parse.StringNode)
	if !ok1 || !ok2 || l.msgs[key.Text] == nil || !rootData(args[len(args)-1]) {
		return hoistUse{}, false
	}
	switch {
	case fn.Ident == "t" && len(args) == 3:
		return hoistUse{key: key.Text}, true
	case fn.Ident == "tc" && len(args) == 4:
		var chain []string
		switch c := args[2].(type) {
		case *parse.FieldNode:
			chain = c.Ident
		case *parse.VariableNode:
			if c.Ident[0] == "$" {
				chain = c.Ident[1:]
			}
		}
		if len(chain) == 2 && chain[0] == "Fields" {
			return hoistUse{key: key.Text, plural: true, count: chain[1]}, true
		}
	}
	return hoistUse{}, false
}

// rootData reports whether n is the template data at the top level of a
// main tree: dot or $.
func rootData(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.DotNode:
		return true
	case *parse.VariableNode:
		return len(n.Ident) == 1 && n.Ident[0] == "$"
	}
	return false
}

// newHoistPlan lists the hoistable calls at the top level of the main
// trees, each message once, at most maxHoisted; nil if there is none.
func (l *engineLang) newHoistPlan(mains []*parse.Tree) *hoistPlan {
	p := &hoistPlan{}
	for _, m := range mains {
		for _, n := range m.Root.Nodes {
			a, ok := n.(*parse.ActionNode)
			if !ok {
				continue
			}
			if u, ok := l.hoistable(a); ok && p.index(u) < 0 && len(p.uses) < maxHoisted {
				p.uses = append(p.uses, u)
			}
		}
	}
	if len(p.uses) == 0 {
		return nil
	}
	return p
}

// index returns the field of u, or -1.
func (p *hoistPlan) index(u hoistUse) int {
	for i, x := range p.uses {
		if x == u {
			return i
		}
	}
	return -1
}

// hoist returns a copy of main, not escaped, whose hoistable calls read
// their messages from the view's M0 to M15 instead, with the positions it changed
// added to modes (a copy); nil if it changed nothing.
func (l *engineLang) hoist(p *hoistPlan, main *parse.Tree, modes map[parse.Pos]shapeMode) (*parse.Tree, map[parse.Pos]shapeMode) {
	out := main.Copy()
	m := map[parse.Pos]shapeMode{}
	for k, v := range modes {
		m[k] = v
	}
	changed := false
	for _, n := range out.Root.Nodes {
		a, ok := n.(*parse.ActionNode)
		if !ok {
			continue
		}
		u, ok := l.hoistable(a)
		if !ok {
			continue
		}
		i := p.index(u)
		if i < 0 {
			continue
		}
		field := &parse.FieldNode{NodeType: parse.NodeField, Pos: a.Pos, Ident: []string{hoistedField[i]}}
		a.Pipe.Cmds[0] = &parse.CommandNode{NodeType: parse.NodeCommand, Pos: a.Pos, Args: []parse.Node{field}}
		m[a.Pos] = shapeHoisted
		changed = true
	}
	if !changed {
		return nil, nil
	}
	return out, m
}

// fill evaluates the plan's messages for v into v.M0 to M15, and copies
// the fields split messages read; false if a message fails (the templates
// without hoisted messages then report it).
func (p *hoistPlan) fill(l *engineLang, v *view) bool {
	for i, u := range p.uses {
		if u.field != "" {
			*hoistedPtr(v, i) = viewString(v, u.field)
			continue
		}
		var c *pluralCount
		if u.plural {
			s, ok := v.Fields[u.count]
			if !ok {
				return false
			}
			n, err := textCount(s)
			if err != nil {
				return false
			}
			c = &n
		}
		s, err := l.localize(u.key, v, c)
		if err != nil {
			return false
		}
		*hoistedPtr(v, i) = s
	}
	return true
}

// viewString returns v's string field name, one of splitFields.
func viewString(v *view, name string) string {
	switch name {
	case "ID":
		return v.ID
	case "Email":
		return v.Email
	case "Name":
		return v.Name
	case "Campaign":
		return v.Campaign
	case "RequestedLocale":
		return v.RequestedLocale
	}
	return ""
}
