package render

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/template/parse"
)

// program is a specialised template compiled to a list of operations, run
// without text/template's reflection. It covers the common shape of a
// template after specialisation: text, fields of the template data and
// plural messages, each with html/template's escapers. A program only runs
// the happy path: whenever something is unusual (a missing map entry, a
// .Data value that is not a string, a count that is not a number, a refusal)
// it gives up and Render executes the specialised template instead, which
// gives exactly the error it always gave.
type program struct {
	ops []op
}

// opKind is what an op does.
type opKind uint8

const (
	opText   opKind = iota // write text
	opField                // write a field of the data, escaped
	opPlural               // write a plural message (tc), escaped
)

// op is one operation of a program.
type op struct {
	kind  opKind
	text  string
	field fieldRef // opField: the field; opPlural: the count
	key   string   // opPlural: message key
	esc   escFunc  // nil: write as it is
	// charwise: esc escapes character by character, so a message can be
	// escaped part by part.
	charwise bool
}

// fieldRef is a field of the template data (view): one of its string fields,
// Count, or an entry of Fields or Data.
type fieldRef struct {
	name string // ID, Email, ..., Count, Fields, Data
	key  string // entry of Fields or Data
}

// escFunc escapes a value the way an html/template escaper chain does; false
// means "cannot, take the slow path".
type escFunc func(buf *bytes.Buffer, s string) bool

// compileProgram compiles a specialised tree; false when the tree has a node
// the program does not handle (the template is then executed as it is).
func compileProgram(root *parse.ListNode, html bool) (*program, bool) {
	if root == nil {
		return nil, false
	}
	p := &program{}
	for _, n := range root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			p.ops = append(p.ops, op{kind: opText, text: string(n.Text)})
		case *parse.ActionNode:
			o, ok := compileAction(n, html)
			if !ok {
				return nil, false
			}
			p.ops = append(p.ops, o)
		default:
			return nil, false
		}
	}
	return p, true
}

func compileAction(a *parse.ActionNode, html bool) (op, bool) {
	if a.Pipe == nil || len(a.Pipe.Decl) > 0 || a.Pipe.IsAssign || len(a.Pipe.Cmds) == 0 {
		return op{}, false
	}
	first, chain := a.Pipe.Cmds[0], a.Pipe.Cmds[1:]
	var o op
	if html {
		names := make([]string, 0, len(chain))
		for _, c := range chain {
			names = append(names, identName(c))
		}
		chain := strings.Join(names, " | ")
		esc, ok := chainEscaper(chain)
		if !ok {
			return op{}, false
		}
		o.esc, o.charwise = esc, charwiseEscapers[chain] && htmlEscapeVerified()
	} else if len(chain) > 0 {
		return op{}, false
	}
	args := first.Args
	switch {
	case len(args) == 1:
		f, ok := fieldOf(args[0])
		if !ok {
			return op{}, false
		}
		o.kind, o.field = opField, f
	case len(args) == 4 && isIdent(args[0], "tc") && args[3].Type() == parse.NodeDot:
		key, ok := args[1].(*parse.StringNode)
		f, ok2 := fieldOf(args[2])
		if !ok || !ok2 {
			return op{}, false
		}
		o.kind, o.key, o.field = opPlural, key.Text, f
	default:
		return op{}, false
	}
	return o, true
}

// fieldOf returns the field a field node names, if the program handles it.
func fieldOf(n parse.Node) (fieldRef, bool) {
	f, ok := n.(*parse.FieldNode)
	if !ok {
		return fieldRef{}, false
	}
	switch len(f.Ident) {
	case 1:
		switch f.Ident[0] {
		case "ID", "Email", "Name", "Campaign", "Locale", "RequestedLocale", "Dir", "Count":
			return fieldRef{name: f.Ident[0]}, true
		}
	case 2:
		if f.Ident[0] == "Fields" || f.Ident[0] == "Data" {
			return fieldRef{name: f.Ident[0], key: f.Ident[1]}, true
		}
	}
	return fieldRef{}, false
}

// value returns the text of field f of v, with count as .Count; false if
// text/template would not simply print a string (a missing entry, a .Data
// value that is not a string).
func (f fieldRef) value(v *view, count int64) (string, bool) {
	switch f.name {
	case "ID":
		return v.ID, true
	case "Email":
		return v.Email, true
	case "Name":
		return v.Name, true
	case "Campaign":
		return v.Campaign, true
	case "Locale":
		return v.Locale, true
	case "RequestedLocale":
		return v.RequestedLocale, true
	case "Dir":
		return v.Dir, true
	case "Count":
		return strconv.FormatInt(count, 10), true
	case "Fields":
		s, ok := v.Fields[f.key]
		return s, ok
	case "Data":
		s, ok := v.Data[f.key].(string)
		return s, ok
	}
	return "", false
}

// run writes the program's output for v, with count as .Count, to buf;
// false means "take the slow path" (buf then holds partial output). wrap, if
// not nil, escapes everything the program writes: it is a
// character-by-character escaper, used when the program is a message
// inserted in HTML.
func (p *program) run(buf *bytes.Buffer, v *view, count int64, wrap escFunc) bool {
	for i := range p.ops {
		o := &p.ops[i]
		esc := o.esc
		if wrap != nil {
			esc = wrap
		}
		switch o.kind {
		case opText:
			if esc == nil {
				buf.WriteString(o.text)
			} else if !esc(buf, o.text) {
				return false
			}
		case opField:
			s, ok := o.field.value(v, count)
			if !ok {
				return false
			}
			if esc == nil {
				buf.WriteString(s)
			} else if !esc(buf, s) {
				return false
			}
		case opPlural:
			if !o.plural(buf, v, count, esc) {
				return false
			}
		}
	}
	return true
}

// plural writes the message of a tc op, as tcFunc and localize would.
func (o *op) plural(buf *bytes.Buffer, v *view, count int64, esc escFunc) bool {
	c, ok := o.field.value(v, count)
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(c), 10, 64) // toCount of a string
	if err != nil {
		return false
	}
	l := v.lang
	msg := l.msgs[o.key]
	if msg == nil {
		return false
	}
	f, err := l.rule.form(n)
	if err != nil {
		return false
	}
	form := &msg.forms[f]
	switch {
	case !form.ok:
		return false
	case form.tmpl == nil:
		if esc == nil {
			buf.WriteString(form.text)
			return true
		}
		return esc(buf, form.text)
	case form.prog != nil && (esc == nil || o.charwise):
		return form.prog.run(buf, v, n, esc)
	}
	cp := *v
	cp.Count = n
	s, err := l.localize(o.key, &cp, n, true)
	if err != nil {
		return false
	}
	if esc == nil {
		buf.WriteString(s)
		return true
	}
	return esc(buf, s)
}

// chainEscaper returns the escaper for an html/template escaper chain:
// html/template's HTML escaping for the character-by-character escapers (our
// copy, checked against html/template's on every ASCII character), and
// html/template itself, through a probe and a bounded cache, for the others
// (URLs, scripts, styles).
func chainEscaper(chain string) (escFunc, bool) {
	if charwiseEscapers[chain] && htmlEscapeVerified() {
		return func(buf *bytes.Buffer, s string) bool { writeHTMLEscaped(buf, s); return true }, true
	}
	p := escapeProbes()[chain]
	if p == nil {
		return nil, false
	}
	return func(buf *bytes.Buffer, s string) bool {
		k := escKey{chain, s}
		if v, ok := escCache.Load(k); ok {
			buf.WriteString(v.(string))
			return true
		}
		e, ok := p.escape(s)
		if !ok {
			return false
		}
		if escCached.Load() < maxEscCache {
			if _, loaded := escCache.LoadOrStore(k, e); !loaded {
				escCached.Add(1)
			}
		}
		buf.WriteString(e)
		return true
	}, true
}

// escCache memoises probe escaping: campaign-wide values such as a URL in
// .Data are escaped once. It is bounded (per-recipient values miss it).
var (
	escCache  sync.Map // escKey -> string
	escCached atomic.Int64
)

const maxEscCache = 4096

type escKey struct{ chain, value string }

// writeHTMLEscaped writes s escaped like html/template's htmlEscaper,
// attrEscaper and rcdataEscaper escape plain text: its replacement table
// holds only ASCII characters, so escaping byte by byte is the same.
func writeHTMLEscaped(buf *bytes.Buffer, s string) {
	written := 0
	for i := 0; i < len(s); i++ {
		var repl string
		switch s[i] {
		case 0:
			repl = "\uFFFD"
		case '"':
			repl = "&#34;"
		case '&':
			repl = "&amp;"
		case '\'':
			repl = "&#39;"
		case '+':
			repl = "&#43;"
		case '<':
			repl = "&lt;"
		case '>':
			repl = "&gt;"
		default:
			continue
		}
		buf.WriteString(s[written:i])
		buf.WriteString(repl)
		written = i + 1
	}
	buf.WriteString(s[written:])
}

var htmlEscapeCheck struct {
	once sync.Once
	ok   bool
}

// htmlEscapeVerified reports whether writeHTMLEscaped agrees with each
// character-by-character html/template escaper on every ASCII character and
// some others (checked once). If a Go release changed the escapers, the
// programs would simply not use the copy.
func htmlEscapeVerified() bool {
	htmlEscapeCheck.once.Do(func() {
		var sample strings.Builder
		for c := 0; c < 0x80; c++ {
			sample.WriteByte(byte(c))
		}
		sample.WriteString("é😀\u2028\uFFFD\xff\xc3(")
		s := sample.String()
		var mine bytes.Buffer
		writeHTMLEscaped(&mine, s)
		ok := true
		for chain := range charwiseEscapers {
			p := escapeProbes()[chain]
			if p == nil {
				ok = false
				break
			}
			got, pok := p.escape(s)
			ok = ok && pok && got == mine.String()
		}
		htmlEscapeCheck.ok = ok
	})
	return htmlEscapeCheck.ok
}
