package render

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	texttemplate "text/template"
	"text/template/parse"

	"github.com/tidings-mail/tidings/internal/oneline"
)

// Template file names inside templates/<name>/, in the order they are
// reported.
var templateFiles = []string{"subject.tmpl", "html.tmpl", "text.tmpl"}

// dataFields are the top-level names of the template data (see view).
var dataFields = map[string]bool{
	"ID": true, "Email": true, "Name": true, "Locale": true, "RequestedLocale": true,
	"Campaign": true, "Fields": true, "Data": true, "Count": true, "Dir": true,
	"Unsubscribe": true,
}

// keyUse is one use of a message key in a template.
type keyUse struct {
	Key    string
	Plural bool // used through tc
	File   string
	Line   int
}

// fieldUse is one use of .Fields.<column> or .Data.<key>... in a
// template, where dot is the template data.
type fieldUse struct {
	Chain []string // without the dot: ["Fields", "posts"], ["Data", "a", "b"]
	Count bool     // the count of tc
	File  string
	Line  int
}

// tmplSet is one template directory, read and analysed.
type tmplSet struct {
	name         string
	files        map[string][]byte // snapshot key -> bytes
	uses         []keyUse          // every use, in file order
	fields       []fieldUse        // every .Fields and .Data use, in file order
	fieldsItself []fieldUse        // every use of .Fields itself, in file order
	issues       []*FileError
	refs         foldRefs   // the .Fields and .Data the files use
	scans        []fileScan // per file, in templateFiles order: what prose reads (Inspect, Engine.Prose)
}

// prose returns the literal prose of the set's files (prose.go).
func (s *tmplSet) prose() []literal {
	var out []literal
	for i, f := range templateFiles {
		key := "templates/" + s.name + "/" + f
		out = append(out, fileProse(key, string(s.files[key]), s.scans[i], f == "html.tmpl")...)
	}
	return out
}

// keys returns each used key once with whether any use is plural, sorted.
func (s *tmplSet) keys() []keyUse {
	seen := map[string]int{}
	var out []keyUse
	for _, u := range s.uses {
		if i, ok := seen[u.Key]; ok {
			out[i].Plural = out[i].Plural || u.Plural
			continue
		}
		seen[u.Key] = len(out)
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// parseFuncs declares t and tc for parsing the template once to analyse it;
// that parse is never executed: every covered language parses the template
// again with its own functions (langTemplates).
var parseFuncs = map[string]any{
	"t":  func(string, any) (string, error) { return "", errors.New("t: template not bound to a language") },
	"tc": func(string, any, any) (string, error) { return "", errors.New("tc: template not bound to a language") },
}

// parseFor parses the template files again for l, with t and tc bound to
// l, folds what is the same for every recipient of l into template text
// where html/template's own output shows it may (fold.go), and lets the
// templates read the messages Render evaluates first (hoist.go). data is
// the campaign's data to fold, or nil. std is nil when data is nil (the
// folded templates then serve any data), else the standard templates, for
// a recipient whose data is not data.
func (s *tmplSet) parseFor(l *engineLang, data map[string]any) (folded, std *langTemplates, err error) {
	funcs := map[string]any{"t": l.t, "tc": l.tc}
	probes := l.probes(s.refs, data)
	var folds []*fileFold
	for _, f := range templateFiles {
		src := string(s.files["templates/"+s.name+"/"+f])
		t, err := texttemplate.New(f).Funcs(funcs).Option("missingkey=error").Parse(src)
		if err != nil {
			return nil, nil, err
		}
		ff := &foldFile{name: f, html: f == "html.tmpl", funcs: funcs}
		if t.Tree == nil {
			return nil, nil, fmt.Errorf("parse %s: no template %s", f, f)
		}
		ff.trees = append(ff.trees, t.Tree)
		for _, tt := range t.Templates() {
			if tt.Tree != nil && tt.Name() != f {
				ff.trees = append(ff.trees, tt.Tree)
			}
		}
		fold, err := l.fold(ff, probes, data != nil)
		if err != nil {
			return nil, nil, err
		}
		folds = append(folds, fold)
	}
	pick := func(get func(*fileFold) fileTemplate) *langTemplates {
		lt := &langTemplates{subject: get(folds[0]), html: get(folds[1]), text: get(folds[2])}
		if lt.subject.exec == nil {
			lt.subjectLine = oneline.Of(lt.subject.constant)
		}
		return lt
	}
	folded = pick(func(f *fileFold) fileTemplate { return f.out })
	if data != nil {
		std = pick(func(f *fileFold) fileTemplate {
			ft := newFileTemplate(f.std)
			ft.src = f.src
			return ft
		})
	}
	if h := l.hoistFiles(folds, probes); h != nil {
		h.fallback = folded
		folded = h
	}
	// The templates Render may start with (a fallback runs only after a
	// message failed, when Check renders anyway).
	for _, lt := range []*langTemplates{folded, std} {
		if lt != nil {
			lt.total = lt.cannotFail()
		}
	}
	return folded, std, nil
}

// hoistFiles returns the templates that read the hoisted messages, where
// that checks out against the standard ones, and the others folded; nil if
// no file reads a hoisted message.
func (l *engineLang) hoistFiles(folds []*fileFold, probes []*view) *langTemplates {
	mains := make([]*parse.Tree, len(folds))
	for i, f := range folds {
		mains[i] = f.main
	}
	plan := l.newHoistPlan(mains)
	if plan == nil {
		return nil
	}
	for _, p := range probes {
		if !plan.fill(l, p) {
			return nil
		}
	}
	out := make([]fileTemplate, len(folds))
	hoisted := false
	for i, f := range folds {
		out[i] = f.out
		if f.fo == nil || f.out.exec == nil {
			continue
		}
		main, modes := l.hoist(plan, f.main, f.modes)
		if main == nil {
			continue
		}
		if x, escaped, ok := f.fo.check(main, modes); ok {
			if f.fo.f.html {
				if sx, smain, ok := l.split(f.fo, plan, main, escaped, modes); ok {
					x, main = sx, smain
				}
			}
			out[i] = newFileTemplate(x)
			out[i].folded, out[i].src = f.out.folded, main
			hoisted = true
		}
	}
	if !hoisted {
		return nil
	}
	lt := &langTemplates{subject: out[0], html: out[1], text: out[2], messages: plan}
	if lt.subject.exec == nil {
		lt.subjectLine = oneline.Of(lt.subject.constant)
	}
	return lt
}

// loadTemplate reads and parses templates/<name>/{subject,html,text}.tmpl.
func loadTemplate(templates fs.FS, name string) (*tmplSet, error) {
	if templates == nil {
		return nil, fmt.Errorf("load template %q: no templates directory given", name)
	}
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return nil, fmt.Errorf("load template %q: %w: a template is a directory name such as welcome", name, ErrUnknownTemplate)
	}
	st, err := fs.Stat(templates, name)
	if err != nil || !st.IsDir() {
		return nil, &UnknownTemplateError{Name: name, Have: templateNames(templates)}
	}
	s := &tmplSet{name: name, files: map[string][]byte{}, refs: foldRefs{fields: map[string]bool{}, counts: map[string]bool{}}}
	for _, f := range templateFiles {
		key := "templates/" + name + "/" + f
		b, err := fs.ReadFile(templates, name+"/"+f)
		if err != nil {
			return nil, &FileError{File: key, Msg: fmt.Sprintf("cannot read template file (%s); every template needs subject.tmpl, html.tmpl and text.tmpl", errText(err))}
		}
		s.files[key] = b
	}
	for _, f := range templateFiles {
		key := "templates/" + name + "/" + f
		src := string(s.files[key])
		var trees map[string]*parse.Tree
		switch f {
		case "html.tmpl":
			t, err := htmltemplate.New(f).Funcs(parseFuncs).Option("missingkey=error").Parse(src)
			if err != nil {
				return nil, parseFileError(key, err)
			}
			trees = htmlTrees(t)
		default:
			t, err := texttemplate.New(f).Funcs(parseFuncs).Option("missingkey=error").Parse(src)
			if err != nil {
				return nil, parseFileError(key, err)
			}
			trees = map[string]*parse.Tree{}
			for _, tt := range t.Templates() {
				if tt.Tree != nil {
					trees[tt.Name()] = tt.Tree
				}
			}
		}
		names := make([]string, 0, len(trees))
		for n := range trees {
			names = append(names, n)
		}
		sort.Strings(names)
		var scan fileScan
		defined := map[string]bool{}
		for _, n := range names {
			defined[n] = true
		}
		for _, n := range names {
			tr := trees[n]
			a := &analyzer{file: key, src: src, tree: tr, refs: &s.refs, defined: defined}
			a.walk(tr.Root, 0)
			s.uses = append(s.uses, a.uses...)
			s.fields = append(s.fields, a.fields...)
			s.fieldsItself = append(s.fieldsItself, a.fieldsItself...)
			s.issues = append(s.issues, a.issues...)
			scan.add(a.fileScan)
		}
		s.scans = append(s.scans, scan)
	}
	sort.SliceStable(s.uses, func(i, j int) bool {
		if s.uses[i].File != s.uses[j].File {
			return fileOrder(s.uses[i].File) < fileOrder(s.uses[j].File)
		}
		return s.uses[i].Line < s.uses[j].Line
	})
	sort.SliceStable(s.fields, func(i, j int) bool {
		if s.fields[i].File != s.fields[j].File {
			return fileOrder(s.fields[i].File) < fileOrder(s.fields[j].File)
		}
		return s.fields[i].Line < s.fields[j].Line
	})
	return s, nil
}

func fileOrder(key string) int {
	for i, f := range templateFiles {
		if strings.HasSuffix(key, "/"+f) {
			return i
		}
	}
	return len(templateFiles)
}

func htmlTrees(t *htmltemplate.Template) map[string]*parse.Tree {
	out := map[string]*parse.Tree{}
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			out[tt.Name()] = tt.Tree
		}
	}
	return out
}

// templateNames lists the template directories of templates.
func templateNames(templates fs.FS) []string {
	entries, err := fs.ReadDir(templates, ".")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

var tmplErrLine = regexp.MustCompile(`^template: [^:]*:(\d+):(?:\d+:)?\s*(.*)$`)

// parseFileError turns a text/template or html/template parse error into a
// *FileError with the line.
func parseFileError(key string, err error) *FileError {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "html/template: ")
	fe := &FileError{File: key, Msg: msg}
	if m := tmplErrLine.FindStringSubmatch(msg); m != nil {
		fe.Line, _ = strconv.Atoi(m[1])
		fe.Msg = m[2]
	}
	fe.Msg = "template syntax error: " + fe.Msg + "; fix the template"
	return fe
}

// fileScan is what the prose rule reads of a template file: its text
// nodes, the string literals an action may print, and the variables
// actions print, with what they may hold.
type fileScan struct {
	texts []*parse.TextNode
	strs  []quoted
	vars  []varPrint
}

// add appends o's findings to f's.
func (f *fileScan) add(o fileScan) {
	f.texts, f.strs, f.vars = append(f.texts, o.texts...), append(f.strs, o.strs...), append(f.vars, o.vars...)
}

// analyzer walks a parse tree collecting message keys and checking field
// references.
type analyzer struct {
	file   string
	src    string
	tree   *parse.Tree
	depth  int // inside range/with, where dot is not the template data
	uses   []keyUse
	fields []fieldUse
	// whole are the uses of .Fields itself ({{index .Fields "c"}},
	// {{range .Fields}}, {{with .Fields}}, {{$f := .Fields}}): any
	// column may be printed through them (direction.go).
	fieldsItself []fieldUse
	issues       []*FileError
	refs         *foldRefs
	fileScan
	decls map[string][]declared // the strings declarations gave each variable so far
	local map[string]bool       // variables declared in the structure being walked (scoped)
	// defined names the templates of the file ({{define}}, {{block}}):
	// those {{template}} may call.
	defined map[string]bool
	quiet   bool // in a condition or a declaration: literals are not printed
}

func (a *analyzer) line(n parse.Node) int {
	return 1 + strings.Count(a.src[:min(int(n.Position()), len(a.src))], "\n")
}

func (a *analyzer) walk(n parse.Node, depth int) {
	switch n := n.(type) {
	case nil:
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			a.walk(c, depth)
		}
	case *parse.TextNode:
		a.texts = append(a.texts, n)
	case *parse.ActionNode:
		if len(n.Pipe.Decl) > 0 {
			// {{$v := ...}}: assigned, not printed here (a declaration in
			// parentheses, or a with's, is printed: checked).
			a.unprinted(func() { a.pipe(n.Pipe, depth) })
			a.declare(n.Pipe)
		} else {
			a.pipe(n.Pipe, depth)
		}
	case *parse.IfNode:
		a.unprinted(func() { a.pipe(n.Pipe, depth) }) // a condition is not printed
		a.scoped(n.Pipe, true, false, []*parse.ListNode{n.List, n.ElseList}, func(l *parse.ListNode) { a.walk(l, depth) })
	case *parse.RangeNode:
		a.pipe(n.Pipe, depth)
		a.scoped(n.Pipe, false, true, []*parse.ListNode{n.List}, func(l *parse.ListNode) { a.walk(l, depth+1) })
		a.scoped(nil, false, false, []*parse.ListNode{n.ElseList}, func(l *parse.ListNode) { a.walk(l, depth) })
	case *parse.WithNode:
		a.pipe(n.Pipe, depth)
		a.scoped(n.Pipe, false, false, []*parse.ListNode{n.List}, func(l *parse.ListNode) { a.walk(l, depth+1) })
		a.scoped(nil, false, false, []*parse.ListNode{n.ElseList}, func(l *parse.ListNode) { a.walk(l, depth) })
	case *parse.TemplateNode:
		if !a.defined[n.Name] {
			// Found only when executed, and so for every recipient.
			a.issue(n, fmt.Sprintf("{{template %q}}: no template %q is defined in this file; define it here with {{define %q}}...{{end}} (a template reads its subject.tmpl, html.tmpl and text.tmpl only)", n.Name, n.Name, n.Name))
		}
		if n.Pipe != nil && len(n.Pipe.Cmds) == 1 && len(n.Pipe.Cmds[0].Args) == 1 && a.whole(n.Pipe.Cmds[0].Args[0], depth) {
			return // {{template "name" .}} passes the data on
		}
		a.pipe(n.Pipe, depth)
	}
}

func (a *analyzer) pipe(p *parse.PipeNode, depth int) {
	if p == nil {
		return
	}
	if n := len(p.Cmds); n > 1 && !a.quiet && notPrinted[funcName(p.Cmds[n-1])] {
		// {{$v | len}}, {{"x" | eq .Locale}}: the result is a number or
		// a truth, and nothing before it is printed.
		a.unprinted(func() { a.pipe(p, depth) })
		return
	}
	for _, c := range p.Cmds {
		a.command(c, depth)
	}
}

// unprinted runs f with the string literals it meets not collected for the
// prose rule: they are not printed where they are.
func (a *analyzer) unprinted(f func()) {
	q := a.quiet
	a.quiet = true
	f()
	a.quiet = q
}

func (a *analyzer) command(c *parse.CommandNode, depth int) {
	if !a.quiet {
		a.quoted(c)
	}
	if len(c.Args) > 0 {
		if id, ok := c.Args[0].(*parse.IdentifierNode); ok && (id.Ident == "t" || id.Ident == "tc") {
			want := 3
			usage := `{{t "key" .}}`
			if id.Ident == "tc" {
				want = 4
				usage = `{{tc "key" .Fields.count .}}`
			}
			if len(c.Args) != want {
				a.issue(c, fmt.Sprintf("%s takes %d arguments, as in %s", id.Ident, want-1, usage))
			} else if s, ok := c.Args[1].(*parse.StringNode); !ok {
				a.issue(c, fmt.Sprintf("the message key of %s must be a quoted string, as in %s, so that tidings can check every catalog", id.Ident, usage))
			} else {
				a.uses = append(a.uses, keyUse{Key: s.Text, Plural: id.Ident == "tc", File: a.file, Line: a.line(c)})
			}
			if id.Ident == "tc" && len(c.Args) == want {
				a.ref(c.Args[2], depth, true)
			}
			if len(c.Args) == want && a.whole(c.Args[want-1], depth) {
				for _, arg := range c.Args[:want-1] {
					a.arg(arg, depth)
				}
				return // the data argument is the whole view, as it must be
			}
		}
	}
	for _, arg := range c.Args {
		a.arg(arg, depth)
	}
}

// whole reports whether n is the template data as a whole: . where dot is
// the data, or $.
func (a *analyzer) whole(n parse.Node, depth int) bool {
	switch n := n.(type) {
	case *parse.DotNode:
		return depth == 0
	case *parse.VariableNode:
		return len(n.Ident) == 1 && n.Ident[0] == "$"
	}
	return false
}

// ref records a use of .Fields or .Data for the folding probes, and
// where it is for a RenderError; count tells that it is the count of tc.
func (a *analyzer) ref(n parse.Node, depth int, count bool) {
	var chain []string
	switch n := n.(type) {
	case *parse.FieldNode:
		if depth == 0 {
			chain = n.Ident
		}
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			chain = n.Ident[1:]
		}
	}
	if len(chain) == 1 && chain[0] == "Fields" {
		a.fieldsItself = append(a.fieldsItself, fieldUse{Chain: chain, File: a.file, Line: a.line(n)})
		return
	}
	if len(chain) < 2 || (chain[0] != "Fields" && chain[0] != "Data") {
		return
	}
	a.refs.addChain(chain, count)
	a.fields = append(a.fields, fieldUse{Chain: chain, Count: count, File: a.file, Line: a.line(n)})
}

func (a *analyzer) arg(n parse.Node, depth int) {
	a.ref(n, depth, false)
	if a.whole(n, depth) {
		// Printed, or made dot by with or range, the data as a whole shows
		// what only tidings reads (the messages it evaluated first).
		a.issue(n, fmt.Sprintf("the template data as a whole can only be passed to t, tc or template (as in {{t \"key\" .}}); name one of its fields: %s", fieldList()))
		return
	}
	switch n := n.(type) {
	case *parse.FieldNode:
		if depth == 0 && len(n.Ident) > 0 && !dataFields[n.Ident[0]] {
			a.issue(n, fmt.Sprintf("unknown field .%s; the template data has %s", n.Ident[0], fieldList()))
		}
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" && !dataFields[n.Ident[1]] {
			a.issue(n, fmt.Sprintf("unknown field $.%s; the template data has %s", n.Ident[1], fieldList()))
		}
	case *parse.PipeNode:
		a.pipe(n, depth)
	case *parse.ChainNode:
		a.arg(n.Node, depth)
	}
}

func (a *analyzer) issue(n parse.Node, msg string) {
	a.issues = append(a.issues, &FileError{File: a.file, Line: a.line(n), Msg: msg})
}

func fieldList() string {
	names := make([]string, 0, len(dataFields))
	for k := range dataFields {
		names = append(names, "."+k)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
