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
)

// Template file names inside templates/<name>/, in the order they are
// reported.
var templateFiles = []string{"subject.tmpl", "html.tmpl", "text.tmpl"}

// dataFields are the top-level names of the template data (see view).
var dataFields = map[string]bool{
	"ID": true, "Email": true, "Name": true, "Locale": true, "RequestedLocale": true,
	"Campaign": true, "Fields": true, "Data": true, "Count": true, "Dir": true,
}

// keyUse is one use of a message key in a template.
type keyUse struct {
	Key    string
	Plural bool // used through tc
	File   string
	Line   int
}

// tmplSet is one template directory, parsed.
type tmplSet struct {
	name    string
	files   map[string][]byte // snapshot key -> bytes
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
	uses    []keyUse // every use, in file order
	issues  []*FileError
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

// placeholderFuncs are the functions available while parsing; the real
// implementations are identical for every engine and take the data as their
// last argument.
var funcs = map[string]any{
	"t":  tFunc,
	"tc": tcFunc,
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
		return nil, fmt.Errorf("load template: %w %q: templates/%s/ does not exist; available: %s", ErrUnknownTemplate, name, name, strings.Join(templateNames(templates), ", "))
	}
	s := &tmplSet{name: name, files: map[string][]byte{}}
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
			t, err := htmltemplate.New(f).Funcs(funcs).Option("missingkey=error").Parse(src)
			if err != nil {
				return nil, parseFileError(key, err)
			}
			s.html = t
			trees = htmlTrees(t)
		default:
			t, err := texttemplate.New(f).Funcs(funcs).Option("missingkey=error").Parse(src)
			if err != nil {
				return nil, parseFileError(key, err)
			}
			if f == "subject.tmpl" {
				s.subject = t
			} else {
				s.text = t
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
		for _, n := range names {
			tr := trees[n]
			a := &analyzer{file: key, src: src, tree: tr}
			a.walk(tr.Root, 0)
			s.uses = append(s.uses, a.uses...)
			s.issues = append(s.issues, a.issues...)
		}
	}
	sort.SliceStable(s.uses, func(i, j int) bool {
		if s.uses[i].File != s.uses[j].File {
			return fileOrder(s.uses[i].File) < fileOrder(s.uses[j].File)
		}
		return s.uses[i].Line < s.uses[j].Line
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
	fe.Msg = "template syntax error: " + fe.Msg + "; fix the template and run tidings check"
	return fe
}

// analyzer walks a parse tree collecting message keys and checking field
// references.
type analyzer struct {
	file   string
	src    string
	tree   *parse.Tree
	depth  int // inside range/with, where dot is not the template data
	uses   []keyUse
	issues []*FileError
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
	case *parse.ActionNode:
		a.pipe(n.Pipe, depth)
	case *parse.IfNode:
		a.pipe(n.Pipe, depth)
		a.walk(n.List, depth)
		a.walk(n.ElseList, depth)
	case *parse.RangeNode:
		a.pipe(n.Pipe, depth)
		a.walk(n.List, depth+1)
		a.walk(n.ElseList, depth)
	case *parse.WithNode:
		a.pipe(n.Pipe, depth)
		a.walk(n.List, depth+1)
		a.walk(n.ElseList, depth)
	case *parse.TemplateNode:
		a.pipe(n.Pipe, depth)
	}
}

func (a *analyzer) pipe(p *parse.PipeNode, depth int) {
	if p == nil {
		return
	}
	for _, c := range p.Cmds {
		a.command(c, depth)
	}
}

func (a *analyzer) command(c *parse.CommandNode, depth int) {
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
		}
	}
	for _, arg := range c.Args {
		a.arg(arg, depth)
	}
}

func (a *analyzer) arg(n parse.Node, depth int) {
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

// placeholders returns the data references (".Name", ".Fields.posts") used
// by a message template source. Unparsable sources return an error.
func placeholders(src string) (map[string]bool, error) {
	out := map[string]bool{}
	if !strings.Contains(src, "{{") {
		return out, nil
	}
	t, err := texttemplate.New("message").Parse(src)
	if err != nil {
		return nil, err
	}
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			collectFields(tt.Tree.Root, out)
		}
	}
	return out, nil
}

func collectFields(n parse.Node, out map[string]bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			collectFields(c, out)
		}
	case *parse.ActionNode:
		collectFields(n.Pipe, out)
	case *parse.IfNode:
		collectFields(n.Pipe, out)
		collectFields(n.List, out)
		collectFields(n.ElseList, out)
	case *parse.RangeNode:
		collectFields(n.Pipe, out)
		collectFields(n.List, out)
		collectFields(n.ElseList, out)
	case *parse.WithNode:
		collectFields(n.Pipe, out)
		collectFields(n.List, out)
		collectFields(n.ElseList, out)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			for _, a := range c.Args {
				collectFields(a, out)
			}
		}
	case *parse.FieldNode:
		out["."+strings.Join(n.Ident, ".")] = true
	case *parse.ChainNode:
		collectFields(n.Node, out)
	}
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
