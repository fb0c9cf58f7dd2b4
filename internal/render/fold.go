package render

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	texttemplate "text/template"
	"text/template/parse"
	"time"
)

// Verified literal folding.
//
// Most actions of a template print the same bytes for every recipient of a
// language: a catalog message without data ({{t "welcome.intro" .}}),
// {{.Locale}}, {{.Dir}}, and {{.Data.key}} when the engine is given the
// campaign's data (Config.Data). Executing them costs html/template one
// reflective call per escaper per action and every render; folding turns
// each of them into template text, once per language, when the engine is
// built. The folded template is accepted only when html/template itself
// shows it renders exactly what the standard template renders.
//
// For one template file and one language:
//
//  1. The standard template S is the file as written, parsed with t and tc
//     bound to the language. Render used S before folding; it is the
//     reference.
//  2. The candidates are the actions whose value is the same for every
//     recipient (see constantAction): in the main template where dot is the
//     template data, or through $ anywhere in it.
//  3. The literal of a candidate is the exact output html/template gives
//     for it in S, obtained through public API only: a copy of S in which
//     each candidate's pipeline ends with a recording function
//     (`{{.Locale | mark}}`: the value is unchanged, html/template escapes
//     it where it stands like any other) is executed on the probes into a
//     writer that keeps the next write after the mark: text/template prints
//     an action with one write. A candidate is folded only when every
//     execution of it on every probe printed the same bytes, and when the
//     marked template's whole output equals S's.
//  4. The folded template F is S with each folded candidate replaced by a
//     text node holding its literal (adjacent text merged), given to
//     html/template before it escapes anything: html/template escapes F
//     itself, with its own escapers, unmodified, and treats the literal as
//     template text. Nothing is rewritten after escaping.
//  5. F is accepted only if, for every probe, html/template's Execute of F
//     gives byte-identical output to its Execute of S, and the actions left
//     in F are, after html/template has escaped both, exactly the actions of
//     S that were not folded, with the same pipelines (Template.Tree is
//     documented as "updated to be HTML-safe": the pipelines then carry the
//     escapers html/template chose for each context). If not, folding is
//     retried one candidate at a time, keeping those that pass; a candidate
//     that fails stays an action.
//
// Why F renders what S renders for all data, not only for the probes: the
// folded bytes do not depend on the data (they were the same on every probe,
// and the candidates read only the language and the campaign's data). What
// could differ is the escaping of the actions that remain, if a literal
// moved one of them into another context (a constant URL before a data
// field in the same attribute, say). Then its escapers differ, which the
// tree comparison shows as long as html/template records them in the tree;
// and the probes put hostile values in every field the templates and
// messages use (< > " ' & + = `, spaces, newlines, U+2028, javascript: at
// the start, non-ASCII, the empty value, and, while .Data is not folded,
// values of the content types HTML, URL, JS and CSS), on which any two of
// html/template's escapings print differently. Where the texts alone do
// not tell two escapings apart (HTML text and attribute values, say), no
// text does: they differ only on typed values, which recipients' columns
// never are (TestProbesTellEscapersApart checks both claims). The columns
// tc counts get valid counts, since any other value fails the rendering.
// The probes catch a changed escaper even if html/template one day stops
// recording them in the tree.
//
// Nothing here names or relies on html/template's unexported parts. If a Go
// release changes how text/template writes or how html/template escapes,
// the checks fail closed: the template, or the candidate, stays unfolded,
// and Render is as slow and as correct as the standard template.
// TestFoldedEqualsReference and TestFoldContexts check the folding against
// the plain rendering; TestFoldHappens notices when folding stops
// happening.
//
// With the campaign's data folded, a Render whose data differs from
// Config.Data uses S (see Engine.Render): folded data is never stale.

// fileTemplate is one template file bound to one language: the template to
// execute, or, when its output is the same for every recipient, that
// output.
type fileTemplate struct {
	exec     executor
	constant string        // the output when exec is nil
	size     *atomic.Int64 // the longest output so far, to size the next one
	folded   int           // the number of actions folded
	src      *parse.Tree   // exec's main tree before escaping (check.go), if known
	plain    []plainPart   // exec's tree as parts, if it is a plain text template (plain.go)
}

// newFileTemplate returns the fileTemplate that executes x.
func newFileTemplate(x executor) fileTemplate {
	return fileTemplate{exec: x, size: new(atomic.Int64), plain: plainTemplate(x)}
}

// langTemplates are the three template files bound to one language.
type langTemplates struct {
	subject, html, text fileTemplate
	subjectLine         string // oneline.Of(subject.constant) when the subject is constant
	// messages, if not nil, are the messages Render evaluates into
	// the view's M0 to M15 before executing these templates, which read them
	// there; when one fails, Render executes fallback, which does not.
	messages *hoistPlan
	fallback *langTemplates
	// total: executing these templates fails for no recipient once the
	// messages are evaluated (check.go).
	total bool
}

// foldRefs are the data fields the templates and messages use, for the
// probes.
type foldRefs struct {
	fields map[string]bool // .Fields.<key> keys
	counts map[string]bool // .Fields.<key> keys given to tc as the count
	data   [][]string      // .Data.<key>... chains, without "Data"
}

// addChain records a field chain (without the leading dot or $), as
// ["Fields", "posts"] or ["Data", "a", "b"].
func (r *foldRefs) addChain(chain []string, count bool) {
	if len(chain) < 2 {
		return
	}
	switch chain[0] {
	case "Fields":
		if count {
			r.counts[chain[1]] = true
		} else {
			r.fields[chain[1]] = true
		}
	case "Data":
		r.data = append(r.data, slices.Clone(chain[1:]))
	}
}

// The probes' values. Any two of html/template's escapings (HTML text,
// RCDATA, attribute name and value, unquoted attribute, URL filter,
// normaliser and query escaper, srcset, JS value, string, regexp and
// template literal, CSS value and string, comments, and their combinations)
// print one of them differently: TestProbesTellEscapersApart.
var (
	// foldTexts are the values of every string field (ID, Email, Name,
	// Campaign, RequestedLocale, Unsubscribe, .Fields, .Data).
	foldTexts = []string{
		"Ana & Bo+1",
		"javascript:alert(1)//<b onmouseover=\"x\" a='y' b=`z`>&amp;&#34; \t\n\r\u2028\u2029 é 日本 👩‍👩‍👧 /?#=%41+-->\\",
		" <script>\"x\"&'y'</script> = ` ]]> \x00 data:text/html,x; expression(x) url(x) /*c*/ $\u007f\u0085",
		"",
		"https://x.example/p a?q=<1>&r=\"2\"#f",
	}
	// foldCounts are the values of the fields given to tc as counts:
	// valid counts with space, sign and fraction.
	foldCounts = []string{"1", " 2 ", "\u2028\t+3 \n", "1.5", "0"}
	// foldTyped wrap a value in html/template's content types, for .Data
	// values while the campaign's data is not folded. On text, the
	// escapers of HTML text, RCDATA and attribute values agree; only a
	// value of type HTML tells them apart. URL, JS and CSS values are
	// there for good measure.
	foldTyped = []func(string) any{
		func(s string) any { return htmltemplate.HTML(s) },
		func(s string) any { return htmltemplate.URL(s) },
		func(s string) any { return htmltemplate.JS(s) },
		func(s string) any { return htmltemplate.CSS(s) },
	}
)

// probes returns the template data the folding of l's templates is checked
// with. data is the campaign's data when it is folded, else nil.
func (l *engineLang) probes(refs foldRefs, data map[string]any) []*view {
	fields := map[string]bool{}
	for k := range refs.fields {
		fields[k] = true
	}
	chains := refs.data
	for _, m := range l.cat.fields {
		for f := range m {
			chain := strings.Split(strings.TrimPrefix(f, "."), ".")
			if len(chain) == 2 && chain[0] == "Fields" && !refs.counts[chain[1]] {
				fields[chain[1]] = true
			} else if len(chain) >= 2 && chain[0] == "Data" {
				chains = append(chains, chain[1:])
			}
		}
	}
	probe := func(text, count string, leaf any) *view {
		// One more column than the templates name, so that a range over
		// .Fields runs.
		f := make(map[string]string, len(fields)+len(refs.counts)+1)
		f["tidings-probe"] = text
		for k := range fields {
			f[k] = text
		}
		for k := range refs.counts {
			f[k] = count
		}
		d := data
		if d == nil {
			d = map[string]any{}
			for _, c := range chains {
				setChain(d, c, leaf)
			}
		}
		return &view{ID: text, Email: text, Name: text, Campaign: text, Locale: l.cat.lang, RequestedLocale: text,
			Dir: l.dir, Unsubscribe: text, Fields: f, Data: d, Count: "0"}
	}
	var out []*view
	for i, s := range foldTexts {
		out = append(out, probe(s, foldCounts[i%len(foldCounts)], s))
	}
	if data == nil && len(chains) > 0 {
		for i, typed := range foldTyped {
			s := foldTexts[1+i%2]
			out = append(out, probe(s, foldCounts[i%len(foldCounts)], typed(s)))
		}
	}
	return out
}

// setChain sets m[c[0]][c[1]]... = leaf, making maps on the way; a chain
// through a value that is not a map stops there.
func setChain(m map[string]any, c []string, leaf any) {
	for i, k := range c {
		if i == len(c)-1 {
			if _, ok := m[k].(map[string]any); !ok {
				m[k] = leaf
			}
			return
		}
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
}

// constantAction reports whether action a prints the same value for every
// recipient of l: a quoted string, {{.Locale}}, {{.Dir}}, {{.Count}}
// (always 0 outside tc), {{.Data...}} when the campaign's data is folded,
// and {{t "key" .}} of a message that uses nothing else. rootDot tells
// whether dot is the template data where a stands; $ always is in the
// main template.
func (l *engineLang) constantAction(a *parse.ActionNode, rootDot, withData bool) bool {
	p := a.Pipe
	if len(p.Decl) > 0 || len(p.Cmds) != 1 {
		return false
	}
	args := p.Cmds[0].Args
	switch len(args) {
	case 1:
		switch n := args[0].(type) {
		case *parse.StringNode:
			return true
		case *parse.FieldNode:
			return rootDot && constantField(n.Ident, withData)
		case *parse.VariableNode:
			return len(n.Ident) > 1 && n.Ident[0] == "$" && constantField(n.Ident[1:], withData)
		}
	case 3:
		fn, ok1 := args[0].(*parse.IdentifierNode)
		key, ok2 := args[1].(*parse.StringNode)
		if !ok1 || !ok2 || fn.Ident != "t" || l.msgs[key.Text] == nil {
			return false
		}
		switch d := args[2].(type) {
		case *parse.DotNode:
			if !rootDot {
				return false
			}
		case *parse.VariableNode:
			if len(d.Ident) != 1 || d.Ident[0] != "$" {
				return false
			}
		default:
			return false
		}
		for f := range l.cat.fields[key.Text] {
			if !constantField(strings.Split(strings.TrimPrefix(f, "."), "."), withData) {
				return false
			}
		}
		return true
	}
	return false
}

// constantField reports whether the field chain (Locale, Data.url) of the
// template data is the same for every recipient of a language.
func constantField(chain []string, withData bool) bool {
	switch chain[0] {
	case "Locale", "Dir", "Count":
		return len(chain) == 1
	case "Data":
		return withData
	}
	return false
}

// foldSlot is the place of a candidate action in a parse tree.
type foldSlot struct {
	list *parse.ListNode
	i    int
	pos  parse.Pos
}

// foldSlots returns the candidate actions of the main template tree root,
// in a fixed walk order (the same for every copy of the tree).
func (l *engineLang) foldSlots(root *parse.ListNode, withData bool) []foldSlot {
	var out []foldSlot
	var walk func(list *parse.ListNode, rootDot bool)
	walk = func(list *parse.ListNode, rootDot bool) {
		if list == nil {
			return
		}
		for i, n := range list.Nodes {
			switch n := n.(type) {
			case *parse.ActionNode:
				if l.constantAction(n, rootDot, withData) {
					out = append(out, foldSlot{list: list, i: i, pos: n.Pos})
				}
			case *parse.IfNode:
				walk(n.List, rootDot)
				walk(n.ElseList, rootDot)
			case *parse.RangeNode:
				walk(n.List, false)
				walk(n.ElseList, rootDot)
			case *parse.WithNode:
				walk(n.List, false)
				walk(n.ElseList, rootDot)
			}
		}
	}
	walk(root, true)
	return out
}

// foldFile is one template file of one language, parsed and not yet
// executed: the main template's tree first, then the trees it defines.
type foldFile struct {
	name  string
	html  bool
	trees []*parse.Tree
	funcs map[string]any // t and tc bound to the language
}

// build returns a fresh template from copies of the trees, with extra
// functions, and its main tree.
func (f *foldFile) build(trees []*parse.Tree, extra map[string]any) (executor, *parse.Tree, error) {
	funcs := f.funcs
	if len(extra) > 0 {
		funcs = map[string]any{}
		for k, v := range f.funcs {
			funcs[k] = v
		}
		for k, v := range extra {
			funcs[k] = v
		}
	}
	// The two packages' templates differ only in type.
	var add func(name string, tree *parse.Tree) error
	var lookup func() (executor, *parse.Tree)
	if f.html {
		h := htmltemplate.New(f.name).Funcs(funcs).Option("missingkey=error")
		add = func(name string, tree *parse.Tree) error { _, err := h.AddParseTree(name, tree); return err }
		lookup = func() (executor, *parse.Tree) {
			if m := h.Lookup(f.name); m != nil {
				return m, m.Tree
			}
			return nil, nil
		}
	} else {
		t := texttemplate.New(f.name).Funcs(funcs).Option("missingkey=error")
		add = func(name string, tree *parse.Tree) error { _, err := t.AddParseTree(name, tree); return err }
		lookup = func() (executor, *parse.Tree) {
			if m := t.Lookup(f.name); m != nil {
				return m, m.Tree
			}
			return nil, nil
		}
	}
	for _, tr := range trees {
		if err := add(tr.Name, tr.Copy()); err != nil {
			return nil, nil, err
		}
	}
	x, main := lookup()
	if x == nil {
		return nil, nil, fmt.Errorf("parse %s: no template %s", f.name, f.name)
	}
	return x, main, nil
}

// withMain returns the trees with the main tree replaced by main.
func (f *foldFile) withMain(main *parse.Tree) []*parse.Tree {
	out := slices.Clone(f.trees)
	out[0] = main
	return out
}

// foldRecorder is the writer of the marked template: it keeps the output,
// and the write that follows each mark.
type foldRecorder struct {
	out     bytes.Buffer
	pending int
	seen    [][]string // by candidate: what each execution of it printed
}

func (r *foldRecorder) Write(p []byte) (int, error) {
	if r.pending >= 0 {
		r.seen[r.pending] = append(r.seen[r.pending], string(p))
		r.pending = -1
	}
	return r.out.Write(p)
}

// markName is the name of the recording function of candidate i; template
// authors cannot call it (the templates are first parsed without it).
func markName(i int) string { return fmt.Sprintf("tidingsFoldMark%d", i) }

// folding is the folding of one file of one language in progress.
type folding struct {
	l        *engineLang
	f        *foldFile
	probes   []*view
	withData bool
	want     []string    // S's output for each probe
	stdMain  *parse.Tree // S's main tree, escaped by its executions
	slots    int         // the number of candidates
	literals [][]byte    // by candidate: its literal, nil if not constant
	// noShape leaves out the comparison of the escaped trees (tests show
	// that the probes alone catch a changed context).
	noShape bool
}

// shapeMode says how treeShape treats an action of S that F changed.
type shapeMode uint8

const (
	shapeFolded  shapeMode = iota + 1 // gone from F: left out
	shapeHoisted                      // reads a hoisted message in F: its escaping compared
)

// fileFold is the outcome of folding one file for one language.
type fileFold struct {
	fo    *folding // nil when S cannot be checked (it fails on a probe)
	std   executor
	src   *parse.Tree             // S's main tree as parsed
	out   fileTemplate            // what Render executes: folded, constant, or std
	main  *parse.Tree             // out's main tree before escaping
	modes map[parse.Pos]shapeMode // the actions of S that out folded
}

// fold builds the file's standard template and, if folding is verified, the
// folded one (see the comment at the top of this file).
func (l *engineLang) fold(f *foldFile, probes []*view, withData bool) (*fileFold, error) {
	fo, std, err := l.startFold(f, probes, withData)
	if err != nil {
		return nil, err
	}
	ff := &fileFold{fo: fo, std: std, src: f.trees[0], out: newFileTemplate(std), main: f.trees[0]}
	ff.out.src = f.trees[0]
	if fo == nil {
		return ff, nil
	}
	var cand []int
	for i, lit := range fo.literals {
		if lit != nil {
			cand = append(cand, i)
		}
	}
	main, modes := fo.folded(cand)
	ft, ftMain, ok := fo.check(main, modes)
	if !ok {
		// One candidate at a time, keeping those that pass.
		var kept []int
		for _, i := range cand {
			if _, _, ok := fo.check(fo.folded(append(slices.Clone(kept), i))); ok {
				kept = append(kept, i)
			}
		}
		cand = kept
		if len(kept) == 0 {
			return ff, nil
		}
		main, modes = fo.folded(kept)
		if ft, ftMain, ok = fo.check(main, modes); !ok {
			return ff, nil
		}
	}
	ff.out, ff.main, ff.modes = newFileTemplate(ft), main, modes
	ff.out.folded, ff.out.src = len(cand), main
	if onlyText(ftMain.Root) && !slices.ContainsFunc(fo.want, func(s string) bool { return s != fo.want[0] }) {
		ff.out.exec, ff.out.constant = nil, fo.want[0]
	}
	return ff, nil
}

// startFold builds and runs the standard template S on the probes and
// records the candidates' literals from a marked copy. fo is nil when S
// fails on a probe (nothing to compare with); it has no literals when there
// is no candidate or the marked copy renders differently.
func (l *engineLang) startFold(f *foldFile, probes []*view, withData bool) (fo *folding, std executor, err error) {
	std, stdMain, err := f.build(f.trees, nil)
	if err != nil {
		return nil, nil, err
	}
	fo = &folding{l: l, f: f, probes: probes, withData: withData, stdMain: stdMain, want: make([]string, len(probes))}
	for i, p := range probes {
		var b bytes.Buffer
		if err := std.Execute(&b, p); err != nil {
			return nil, std, nil
		}
		fo.want[i] = b.String()
	}
	marked := f.trees[0].Copy()
	slots := l.foldSlots(marked.Root, withData)
	if len(slots) == 0 {
		return fo, std, nil
	}
	rec := &foldRecorder{pending: -1, seen: make([][]string, len(slots))}
	marks := map[string]any{}
	for i, s := range slots {
		a := s.list.Nodes[s.i].(*parse.ActionNode)
		id := parse.NewIdentifier(markName(i)).SetPos(a.Pos).SetTree(marked)
		a.Pipe.Cmds = append(a.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: a.Pos, Args: []parse.Node{id}})
		marks[markName(i)] = func(v any) any {
			rec.pending = i
			return v
		}
	}
	mt, _, err := f.build(f.withMain(marked), marks)
	if err != nil {
		return fo, std, nil
	}
	// Three probes that differ in every field show which candidates are
	// constant (the others differ only in the type of .Data values, which
	// are not candidates then; the folded template is checked on all).
	for i := 1; i < min(len(probes), 4); i++ {
		p := probes[i]
		rec.out.Reset()
		rec.pending = -1
		if err := mt.Execute(rec, p); err != nil || rec.out.String() != fo.want[i] {
			return fo, std, nil
		}
	}
	fo.slots = len(slots)
	fo.literals = make([][]byte, len(slots))
	for i, seen := range rec.seen {
		if len(seen) > 0 && !slices.ContainsFunc(seen, func(s string) bool { return s != seen[0] }) {
			fo.literals[i] = []byte(seen[0])
		}
	}
	return fo, std, nil
}

// folded returns a copy of S's main tree, not escaped, with the candidates
// in set replaced by their literals, and the folded positions.
func (fo *folding) folded(set []int) (*parse.Tree, map[parse.Pos]shapeMode) {
	main := fo.f.trees[0].Copy()
	ss := fo.l.foldSlots(main.Root, fo.withData)
	modes := map[parse.Pos]shapeMode{}
	if len(ss) != fo.slots {
		return main, modes // cannot happen: the same tree walked the same way
	}
	for _, i := range set {
		s := ss[i]
		s.list.Nodes[s.i] = &parse.TextNode{NodeType: parse.NodeText, Pos: s.pos, Text: fo.literals[i]}
		modes[s.pos] = shapeFolded
	}
	mergeText(main.Root)
	return main, modes
}

// check builds the template whose main tree is main (changed from S's at
// the positions in modes) and checks it against S: the same output for
// every probe and, once both are escaped, the same actions (modes says
// which S lost and which read hoisted messages). ok is false if any of it
// fails.
func (fo *folding) check(main *parse.Tree, modes map[parse.Pos]shapeMode) (x executor, escaped *parse.Tree, ok bool) {
	x, escaped, err := fo.f.build(fo.f.withMain(main), nil)
	if err != nil {
		return nil, nil, false
	}
	for i, p := range fo.probes {
		var b bytes.Buffer
		if err := x.Execute(&b, p); err != nil || b.String() != fo.want[i] {
			return nil, nil, false
		}
	}
	if !fo.noShape && !slices.Equal(treeShape(fo.stdMain.Root, modes), treeShape(escaped.Root, modes)) {
		return nil, nil, false
	}
	return x, escaped, true
}

// mergeText joins adjacent text nodes in every list of the tree: one write
// instead of several.
func mergeText(list *parse.ListNode) {
	if list == nil {
		return
	}
	out := list.Nodes[:0]
	for _, n := range list.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			if k := len(out); k > 0 {
				if prev, ok := out[k-1].(*parse.TextNode); ok {
					text := append(append([]byte(nil), prev.Text...), n.Text...)
					out[k-1] = &parse.TextNode{NodeType: parse.NodeText, Pos: prev.Pos, Text: text}
					continue
				}
			}
			if len(n.Text) == 0 {
				continue
			}
		case *parse.IfNode:
			mergeText(n.List)
			mergeText(n.ElseList)
		case *parse.RangeNode:
			mergeText(n.List)
			mergeText(n.ElseList)
		case *parse.WithNode:
			mergeText(n.List)
			mergeText(n.ElseList)
		}
		out = append(out, n)
	}
	list.Nodes = out
}

// treeShape lists the nodes of a tree other than text, as text/template
// prints them, with the branches of if, range and with. An action at a
// position modes marks folded is left out; one marked hoisted is listed by
// the commands after its first (the escapers html/template added).
func treeShape(list *parse.ListNode, modes map[parse.Pos]shapeMode) []string {
	var out []string
	var walk func(list *parse.ListNode)
	branch := func(kind string, p *parse.PipeNode, body, els *parse.ListNode) {
		out = append(out, kind+" "+p.String())
		walk(body)
		out = append(out, "else")
		walk(els)
		out = append(out, "end")
	}
	walk = func(list *parse.ListNode) {
		if list == nil {
			return
		}
		for _, n := range list.Nodes {
			switch n := n.(type) {
			case *parse.TextNode, *parse.CommentNode:
			case *parse.ActionNode:
				switch modes[n.Pos] {
				case shapeFolded:
				case shapeHoisted:
					s := "hoisted"
					for _, c := range n.Pipe.Cmds[1:] {
						s += " | " + c.String()
					}
					out = append(out, s)
				default:
					out = append(out, n.String())
				}
			case *parse.IfNode:
				branch("if", n.Pipe, n.List, n.ElseList)
			case *parse.RangeNode:
				branch("range", n.Pipe, n.List, n.ElseList)
			case *parse.WithNode:
				branch("with", n.Pipe, n.List, n.ElseList)
			default:
				out = append(out, n.String())
			}
		}
	}
	walk(list)
	return out
}

// onlyText reports whether a list holds text alone.
func onlyText(list *parse.ListNode) bool {
	for _, n := range list.Nodes {
		if _, ok := n.(*parse.TextNode); !ok {
			return false
		}
	}
	return true
}

// campaignData returns a deep copy of d if it holds only plain values
// (text, numbers, booleans, times, html/template content types, and maps
// and lists of those): the engine folds it, and a later change to the
// caller's map must not change what was folded. ok is false otherwise.
func campaignData(d map[string]any) (map[string]any, bool) {
	c, ok := plainCopy(d)
	if !ok {
		return nil, false
	}
	m, _ := c.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m, true
}

func plainCopy(v any) (any, bool) {
	switch v := v.(type) {
	case nil, string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, time.Time,
		htmltemplate.HTML, htmltemplate.HTMLAttr, htmltemplate.URL, htmltemplate.Srcset, htmltemplate.JS, htmltemplate.JSStr, htmltemplate.CSS:
		return v, true
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			c, ok := plainCopy(x)
			if !ok {
				return nil, false
			}
			out[k] = c
		}
		return out, true
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			c, ok := plainCopy(x)
			if !ok {
				return nil, false
			}
			out[i] = c
		}
		return out, true
	}
	return nil, false
}

// sameData reports whether a recipient's data d is the campaign data the
// engine folded (the same keys, values of the same types and contents).
func sameData(d, folded map[string]any) bool {
	if len(d) != len(folded) {
		return false
	}
	for k, v := range d {
		w, ok := folded[k]
		if !ok {
			return false
		}
		if s, ok := v.(string); ok {
			if t, ok := w.(string); !ok || s != t {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(v, w) {
			return false
		}
	}
	return true
}
