// Package yamlnode reads YAML files (campaign files, the environments config
// file) into Go structs so that every problem names its file, line and key.
//
// It owns the YAML library (go.yaml.in/yaml/v4, the YAML organisation's
// maintained successor of gopkg.in/yaml.v3): callers see only [Document],
// [Error] and plain Go structs. Problems are found by walking the parsed
// node tree, never by reading the library's error text:
//
//   - syntax errors carry the library's structured position;
//   - bytes that are not UTF-8 and control characters are found with their
//     line before parsing;
//   - a key written twice in one mapping, an alias that expands the document
//     beyond a fixed budget (an "alias bomb") and a second document in the
//     file are refused with their lines;
//   - [Document.Decode] walks the tree beside the target struct: an unknown
//     key is reported with the keys known at that place, a value of the
//     wrong kind with what is expected there.
//
// Every error is an *[Error]; several are joined with errors.Join.
package yamlnode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"
)

// Error is one problem in a YAML file, or in a setting that came from
// elsewhere (then File is empty and Field names the setting, e.g. a
// variable).
type Error struct {
	File  string // the file's name as given to Parse; "" when not from a file
	Line  int    // 1-based; 0 when unknown
	Field string // dotted key path, e.g. batches.size; "" for the whole file
	Msg   string // what is wrong and what to do
	Err   error  // the cause, if any; returned by Unwrap
}

// Error returns "file:line: field: message[: cause]". Control characters
// and bytes that are not UTF-8 are written as Go escapes, so the message
// is always one printable line.
func (e *Error) Error() string {
	var b strings.Builder
	sep := ""
	if e.File != "" {
		b.WriteString(Printable(e.File))
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		sep = ": "
	} else if e.Line > 0 {
		b.WriteString("line " + strconv.Itoa(e.Line))
		sep = ": "
	}
	if e.Field != "" {
		b.WriteString(sep + Printable(e.Field))
		sep = ": "
	}
	if e.Msg != "" {
		b.WriteString(sep + Printable(e.Msg))
		sep = ": "
	}
	if e.Err != nil {
		b.WriteString(sep + Printable(e.Err.Error()))
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Printable returns s with every control character, every invisible
// format character (bidi overrides, zero-width joiners), every U+FFFD and
// every byte that is not UTF-8 written as a Go escape (\x00, \n, \u202e,
// \ufffd, \xff), so a message shows what the file holds; the rest is kept.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if hidden(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		case hidden(r) && r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// hidden reports whether r would not show as itself in a terminal.
func hidden(r rune) bool {
	return r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// Document is a parsed YAML file.
type Document struct {
	file string
	root *yaml.Node // nil for an empty file
}

// Key is a key of a mapping and the line it is written on.
type Key struct {
	Name string
	Line int
}

// MaxExpanded is the number of values aliases may expand a document to,
// beyond its own size: a few hundred thousand values take seconds and
// hundreds of megabytes to decode, which is what an alias bomb is after.
const MaxExpanded = 100_000

// Parse parses data, named file in messages. A file that holds nothing
// (only spaces or comments) gives an empty Document, which callers refuse
// in their own words.
func Parse(data []byte, file string) (*Document, error) {
	if err := checkText(data); err != nil {
		err.File = file
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return nil, syntaxError(file, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, &Error{File: file, Line: next.Line, Msg: "a second YAML document starts here: keep one document per file (remove the ---)"}
	case !errors.Is(err, io.EOF):
		return nil, syntaxError(file, err)
	}
	d := &Document{file: file}
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		d.root = root.Content[0]
	}
	if d.root == nil {
		return d, nil
	}
	if err := checkAliases(file, d.root); err != nil {
		return nil, err
	}
	if errs := duplicateKeys(file, d.root, nil); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return d, nil
}

// syntaxError turns the library's structured load error into an *Error.
func syntaxError(file string, err error) error {
	var le *yaml.LoadError
	if !errors.As(err, &le) {
		return &Error{File: file, Msg: "the file is not valid YAML: fix the YAML syntax", Err: err}
	}
	msg := le.Message
	if le.ContextMsg != "" && le.ContextMark.Line > 0 && le.ContextMark.Line != le.Mark.Line {
		msg += fmt.Sprintf(" (%s that starts at line %d)", le.ContextMsg, le.ContextMark.Line)
	}
	return &Error{File: file, Line: le.Mark.Line, Msg: msg + ": fix the YAML syntax"}
}

// checkText finds bytes YAML refuses before the library does, because the
// library reports them without a line: bytes that are not UTF-8 and control
// characters. UTF-16 and UTF-32 files with a byte order mark are left to
// the library, which reads them.
func checkText(data []byte) *Error {
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) ||
		bytes.HasPrefix(data, []byte{0, 0, 0xfe, 0xff}) {
		return nil
	}
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == '\n':
			line++
		case r == '\r':
			if i+1 >= len(data) || data[i+1] != '\n' {
				line++
			}
		case r == '\t' || r == 0x85:
		case r == utf8.RuneError && size == 1:
			return &Error{Line: line, Msg: fmt.Sprintf("byte 0x%02x is not UTF-8: save the file as UTF-8", data[i])}
		case r == 0:
			msg := "NUL byte: remove it"
			if bytes.Count(data, []byte{0}) > len(data)/4 {
				msg = "NUL byte: the file looks like UTF-16 without a byte order mark: save it as UTF-8"
			}
			return &Error{Line: line, Msg: msg}
		case unicode.IsControl(r):
			return &Error{Line: line, Msg: fmt.Sprintf("control character %U: remove it (inside double quotes write it as an escape, e.g. \\t)", r)}
		}
		i += size
	}
	return nil
}

// checkAliases refuses a document whose aliases expand it by more than
// MaxExpanded values beyond its own size, naming the alias at which the
// expansion crosses that budget. An alias inside the value it refers to
// expands without end and is refused the same way.
func checkAliases(file string, root *yaml.Node) error {
	literal := 0
	var count func(n *yaml.Node)
	count = func(n *yaml.Node) {
		literal++
		for _, c := range n.Content {
			count(c)
		}
	}
	count(root)
	limit := literal + MaxExpanded

	const inProgress = -1
	memo := map[*yaml.Node]int{}
	// expanded returns the number of values n stands for, capped at limit+1.
	var expanded func(n *yaml.Node) int
	expanded = func(n *yaml.Node) int {
		if s, ok := memo[n]; ok {
			if s == inProgress {
				return limit + 1
			}
			return s
		}
		memo[n] = inProgress
		total := 1
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			total = expanded(n.Alias)
		}
		for _, c := range n.Content {
			total = min(total+expanded(c), limit+1)
		}
		memo[n] = total
		return total
	}
	if expanded(root) <= limit {
		return nil
	}
	// Find the alias, in file order, at which the running total crosses.
	total := 0
	var walk func(n *yaml.Node) *yaml.Node
	walk = func(n *yaml.Node) *yaml.Node {
		if n.Kind == yaml.AliasNode {
			if total += expanded(n); total > limit {
				return n
			}
			return nil
		}
		total++
		for _, c := range n.Content {
			if bad := walk(c); bad != nil {
				return bad
			}
		}
		return nil
	}
	line := root.Line
	if bad := walk(root); bad != nil {
		line = bad.Line
	}
	return &Error{File: file, Line: line, Msg: fmt.Sprintf("aliases here expand the file past %d values (an alias bomb, or an alias inside the value it names): write the values out or use fewer aliases", MaxExpanded)}
}

// duplicateKeys reports every key written twice in one mapping, with both
// lines. Merged keys (<<) may be overridden and are not duplicates.
func duplicateKeys(file string, n *yaml.Node, path []string) []error {
	var errs []error
	switch n.Kind {
	case yaml.MappingNode:
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.ShortTag() != mergeTag {
				if first, dup := seen[k.Value]; dup {
					errs = append(errs, &Error{File: file, Line: k.Line, Field: join(extend(path, k.Value)),
						Msg: fmt.Sprintf("written twice (first at line %d): keep one", first)})
				} else {
					seen[k.Value] = k.Line
				}
			}
			errs = append(errs, duplicateKeys(file, v, extend(path, k.Value))...)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			errs = append(errs, duplicateKeys(file, c, extend(path, strconv.Itoa(i)))...)
		}
	}
	return errs
}

const (
	mergeTag = "!!merge"
	nullTag  = "!!null"
)

// join writes a key path as dotted text.
func join(path []string) string { return strings.Join(path, ".") }

// Empty reports whether the file holds no value at all.
func (d *Document) Empty() bool { return d.root == nil || d.root.ShortTag() == nullTag }

// find returns the value node at path (nil when absent) and the line of the
// deepest key found on the way.
func (d *Document) find(path []string) (*yaml.Node, int) {
	n := d.root
	if n == nil {
		return nil, 0
	}
	line := n.Line
	for _, key := range path {
		n = resolve(n)
		if n.Kind != yaml.MappingNode {
			return nil, line
		}
		var next *yaml.Node
		for _, p := range pairs(n) {
			if p.key.Value == key {
				next = p.value
				break
			}
		}
		if next == nil {
			return nil, line
		}
		n, line = next, next.Line
	}
	return n, line
}

// Has reports whether the value at path (a key per element) is written in
// the file, with a value other than null.
func (d *Document) Has(path ...string) bool {
	n, _ := d.find(path)
	return n != nil && resolve(n).ShortTag() != nullTag
}

// Plain reports whether the value at path is written as a plain scalar:
// not quoted, not a block scalar.
func (d *Document) Plain(path ...string) bool {
	n, _ := d.find(path)
	return n != nil && resolve(n).Kind == yaml.ScalarNode && resolve(n).Style == 0
}

// Line returns the line of the value at path, or of the deepest key found
// on the way (0 for an empty document), for messages about a value.
func (d *Document) Line(path ...string) int {
	_, line := d.find(path)
	return line
}

// Keys returns the keys of the mapping at path, in file order (merged keys
// after the mapping's own), or nil when there is no mapping there.
func (d *Document) Keys(path ...string) []Key {
	n, _ := d.find(path)
	if n == nil || resolve(n).Kind != yaml.MappingNode {
		return nil
	}
	var keys []Key
	for _, p := range pairs(resolve(n)) {
		keys = append(keys, Key{Name: p.key.Value, Line: p.key.Line})
	}
	return keys
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for depth := 0; n.Kind == yaml.AliasNode && n.Alias != nil && depth < 100; depth++ {
		n = n.Alias
	}
	return n
}

type pair struct{ key, value *yaml.Node }

// pairs returns a mapping's key/value pairs with merge keys (<<) applied:
// the mapping's own keys first, then merged keys it does not override.
func pairs(m *yaml.Node) []pair {
	var own, merged []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == mergeTag {
			v = resolve(v)
			sources := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				sources = v.Content
			}
			for _, s := range sources {
				if s = resolve(s); s.Kind == yaml.MappingNode {
					merged = append(merged, pairs(s)...)
				}
			}
			continue
		}
		own = append(own, pair{k, v})
		seen[k.Value] = true
	}
	for _, p := range merged {
		if !seen[p.key.Value] {
			own = append(own, p)
			seen[p.key.Value] = true
		}
	}
	return own
}
