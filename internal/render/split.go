package render

import (
	htmltemplate "html/template"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template/parse"
	"unicode/utf8"
)

// Split hoisted messages.
//
// A hoisted message of html.tmpl ({{.M0}} where the template called t) is
// escaped whole for every recipient, though most of it is the catalog's
// text, the same for everyone: in "You now sign in with your email address
// ({{.Email}}) instead of a user name.", only the address is the
// recipient's. Where html/template's escaper for the action works rune by
// rune (HTML text, RCDATA, a quoted attribute value: escaping the parts
// and joining them gives the escaping of the whole), the action is split:
// the message's text before and after its one field becomes template text,
// escaped by html/template itself in that place, and the field an action
// of its own, {{.Email}}, escaped per recipient by html/template like the
// message was. Only the recipient's value is escaped per message.
//
// The split applies to a message of t (one form) whose form is text and
// exactly one string field of the recipient (.ID, .Email, .Name,
// .Campaign, .RequestedLocale), its text valid UTF-8, in an action that
// html/template escapes as HTML text, RCDATA or a quoted attribute value
// (splitContexts: the escapings as html/template itself records them for
// those places, each checked on first use to escape a join as the join of
// the escapings). The field's action reads a copy of the field
// that Render puts in a hoisted field left free (M3, say): text/template
// finds a field by name, in order, and the view's first fields are the
// cheapest to find.
//
// The text's escaping is obtained as folding obtains a literal (fold.go):
// the text is put in as a quoted string action with a recording function,
// executed by html/template on the probes, and what it printed, the same
// on every probe, becomes template text. The split template is then
// checked like a folded or hoisted one: its output on every probe equals
// the standard template's, and each field action carries the escapers the
// message's call carried. If any of it fails, the template stays hoisted
// unsplit. Why it renders what the unsplit template renders for every
// value, not only the probes': those escapings replace rune by rune, and
// a text that is valid UTF-8 ends and starts on a rune, so that no rune of
// the value reads differently joined to it or not.
//
// Render still evaluates the message (text.tmpl reads it, and its failure
// still selects the fallback). TestSplitEqualsUnsplit compares the split
// templates with the unsplit ones on hostile values.

// splitFields are the view's fields a split message may read: a
// recipient's, never constant (those are folded).
var splitFields = []string{"ID", "Email", "Name", "Campaign", "RequestedLocale"}

// splitContexts are the escapings html/template gives an action in HTML
// text, in RCDATA (title, textarea) and in a quoted attribute's value, as
// it writes them in the escaped action's pipeline after its first command
// (taken from html/template itself, never named here): the escapings a
// hoisted message may be split in. Worked out on the first New that
// hoists a message, each checked to escape the join of two strings as the
// join of their escapings, on splitPairs; one that does not is left out
// (and then nothing is split in that context).
var splitContexts = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, c := range [][2]string{{"<p>", "</p>"}, {"<title>", "</title>"}, {"<textarea>", "</textarea>"}, {`<p title="`, `">`}, {"<p title='", "'>"}} {
		t, err := htmltemplate.New("").Parse(c[0] + "{{.}}" + c[1])
		if err != nil {
			continue
		}
		esc := func(s string) (string, bool) {
			var b strings.Builder
			if err := t.Execute(&b, s); err != nil || !strings.HasPrefix(b.String(), c[0]) || !strings.HasSuffix(b.String(), c[1]) {
				return "", false
			}
			return strings.TrimSuffix(strings.TrimPrefix(b.String(), c[0]), c[1]), true
		}
		joins := true
		for _, p := range splitPairs {
			a, ok1 := esc(p[0])
			b, ok2 := esc(p[1])
			ab, ok3 := esc(p[0] + p[1])
			joins = joins && ok1 && ok2 && ok3 && a+b == ab
		}
		if a, ok := actionEscapers(t.Tree.Root); joins && ok {
			m[a] = true
		}
	}
	return m
})

// splitPairs are pairs of strings whose join an escaping that works rune by
// rune escapes as the join of their escapings, and others do not (a URL's
// scheme, a CSS expression, an empty unquoted attribute, a JS string's
// quotes). Text on one side is valid UTF-8, as a split message's text is.
var splitPairs = [][2]string{
	{"", ""}, {"a", ""}, {"", "a"}, {"java", "script:alert(1)"}, {"javascript:", "x"}, {"exp", "ression(x)"}, {"url", "(x)"},
	{"<", "b>"}, {"&", "amp;"}, {`"`, "'"}, {"`", "="}, {"\x00", "\x00"}, {"é", "日本"}, {"+", "\u2028\u2029"},
	{"\u202e", "\u200f"}, {"\r\n", "\t "}, {"{{", "}}"}, {"\xe6\x97", "x"}, {"x", "\x97\xa5"}, {"\ufdd0", "\uffff"}, {"</p", ">"},
}

// actionEscapers returns the commands after the first of the one action
// in list, as text/template prints them.
func actionEscapers(list *parse.ListNode) (string, bool) {
	var out []string
	n := 0
	for _, node := range list.Nodes {
		if a, ok := node.(*parse.ActionNode); ok {
			n++
			for _, c := range a.Pipe.Cmds[1:] {
				out = append(out, c.String())
			}
		}
	}
	return strings.Join(out, " | "), n == 1 && len(out) > 0
}

// splitMessage returns the text before and after the one field of
// message key's form other, and the field; ok is false unless the form is
// text, quoted strings and one field of splitFields.
func (l *engineLang) splitMessage(key string) (before, field, after string, ok bool) {
	msg := l.msgs[key]
	if msg == nil {
		return "", "", "", false
	}
	mf := &msg.forms[formOther]
	if !mf.ok || mf.tmpl == nil || mf.tmpl.Tree == nil {
		return "", "", "", false
	}
	var b, a strings.Builder
	for _, n := range mf.tmpl.Tree.Root.Nodes {
		text := ""
		switch n := n.(type) {
		case *parse.TextNode:
			text = string(n.Text)
		case *parse.CommentNode:
			continue
		case *parse.ActionNode:
			p := n.Pipe
			if p == nil || len(p.Decl) > 0 || p.IsAssign || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
				return "", "", "", false
			}
			switch x := p.Cmds[0].Args[0].(type) {
			case *parse.StringNode:
				text = x.Text
			case *parse.FieldNode:
				if field != "" || len(x.Ident) != 1 || !slices.Contains(splitFields, x.Ident[0]) {
					return "", "", "", false
				}
				field = x.Ident[0]
				continue
			default:
				return "", "", "", false
			}
		default:
			return "", "", "", false
		}
		if field == "" {
			b.WriteString(text)
		} else {
			a.WriteString(text)
		}
	}
	before, after = b.String(), a.String()
	return before, field, after, field != "" && utf8.ValidString(before) && utf8.ValidString(after)
}

// splitEscaped reports whether the action at pos of escaped (a main tree
// html/template has escaped) is escaped in one of splitContexts.
func splitEscaped(escaped *parse.Tree, pos parse.Pos) bool {
	for _, n := range escaped.Root.Nodes {
		if a, ok := n.(*parse.ActionNode); ok && a.Pos == pos {
			e, ok := actionEscapers(&parse.ListNode{Nodes: []parse.Node{a}})
			return ok && splitContexts()[e]
		}
	}
	return false
}

// split returns a copy of main (hoisted by p, not escaped; escaped is the
// same tree as html/template escaped it) whose splittable hoisted actions
// are split, with the executor checked against the standard template; ok
// is false if none is split or the check fails.
func (l *engineLang) split(fo *folding, p *hoistPlan, main, escaped *parse.Tree, modes map[parse.Pos]shapeMode) (x executor, out *parse.Tree, ok bool) {
	marked := main.Copy()
	type slot struct {
		list *parse.ListNode
		node *parse.ActionNode
	}
	var slots []slot
	p2 := &hoistPlan{uses: slices.Clone(p.uses)}
	marks := map[string]any{}
	rec := &foldRecorder{pending: -1}
	nodes := make([]parse.Node, 0, len(marked.Root.Nodes))
	for _, n := range marked.Root.Nodes {
		a, isAction := n.(*parse.ActionNode)
		i := -1
		if isAction && modes[a.Pos] == shapeHoisted && len(a.Pipe.Cmds) == 1 && len(a.Pipe.Cmds[0].Args) == 1 {
			if f, ok := a.Pipe.Cmds[0].Args[0].(*parse.FieldNode); ok && len(f.Ident) == 1 {
				i = slices.Index(hoistedField[:], f.Ident[0])
			}
		}
		if i < 0 || i >= len(p.uses) || p.uses[i].plural || !splitEscaped(escaped, a.Pos) {
			nodes = append(nodes, n)
			continue
		}
		before, field, after, ok := l.splitMessage(p.uses[i].key)
		if !ok {
			nodes = append(nodes, n)
			continue
		}
		text := func(s string) {
			if s == "" {
				return
			}
			k := len(slots)
			id := parse.NewIdentifier(markName(k)).SetPos(a.Pos).SetTree(marked)
			str := &parse.StringNode{NodeType: parse.NodeString, Pos: a.Pos, Quoted: strconv.Quote(s), Text: s}
			act := &parse.ActionNode{NodeType: parse.NodeAction, Pos: a.Pos, Line: a.Line, Pipe: &parse.PipeNode{NodeType: parse.NodePipe, Pos: a.Pos, Line: a.Line,
				Cmds: []*parse.CommandNode{{NodeType: parse.NodeCommand, Pos: a.Pos, Args: []parse.Node{str}}, {NodeType: parse.NodeCommand, Pos: a.Pos, Args: []parse.Node{id}}}}}
			slots = append(slots, slot{node: act})
			marks[markName(k)] = func(v any) any {
				rec.pending = k
				return v
			}
			nodes = append(nodes, act)
		}
		text(before)
		fu := hoistUse{field: field}
		j := p2.index(fu)
		if j < 0 {
			if len(p2.uses) == maxHoisted {
				return nil, nil, false
			}
			j = len(p2.uses)
			p2.uses = append(p2.uses, fu)
		}
		fn := &parse.FieldNode{NodeType: parse.NodeField, Pos: a.Pos, Ident: []string{hoistedField[j]}}
		nodes = append(nodes, &parse.ActionNode{NodeType: parse.NodeAction, Pos: a.Pos, Line: a.Line, Pipe: &parse.PipeNode{NodeType: parse.NodePipe, Pos: a.Pos, Line: a.Line,
			Cmds: []*parse.CommandNode{{NodeType: parse.NodeCommand, Pos: a.Pos, Args: []parse.Node{fn}}}}})
		text(after)
	}
	if len(slots) == 0 {
		return nil, nil, false
	}
	marked.Root.Nodes = nodes
	mt, _, err := fo.f.build(fo.f.withMain(marked), marks)
	if err != nil {
		return nil, nil, false
	}
	rec.seen = make([][]string, len(slots))
	for i, pr := range fo.probes {
		if !p2.fill(l, pr) {
			return nil, nil, false
		}
		rec.out.Reset()
		rec.pending = -1
		if err := mt.Execute(rec, pr); err != nil || rec.out.String() != fo.want[i] {
			return nil, nil, false
		}
	}
	// The marked tree was built from a copy: replace its quoted strings by
	// what they printed, in marked itself, then check a fresh build.
	lits := make(map[*parse.ActionNode]string, len(slots))
	for k, seen := range rec.seen {
		if len(seen) == 0 || slices.ContainsFunc(seen, func(s string) bool { return s != seen[0] }) {
			return nil, nil, false
		}
		lits[slots[k].node] = seen[0]
	}
	for j, n := range marked.Root.Nodes {
		if a, ok := n.(*parse.ActionNode); ok {
			if lit, ok := lits[a]; ok {
				marked.Root.Nodes[j] = &parse.TextNode{NodeType: parse.NodeText, Pos: a.Pos, Text: []byte(lit)}
			}
		}
	}
	mergeText(marked.Root)
	x, _, ok = fo.check(marked, modes)
	if !ok {
		return nil, nil, false
	}
	p.uses = p2.uses
	return x, marked, true
}
