package yamlnode

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v4"
)

// Position records where a key is written without reading its value: a
// struct field of this type refuses a key with its line (a secret written
// into a config file, say) and never holds what was written.
type Position struct{ Line int }

// Written reports whether the key is in the file.
func (p Position) Written() bool { return p.Line > 0 }

var (
	durationType    = reflect.TypeFor[time.Duration]()
	positionType    = reflect.TypeFor[Position]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// Decode stores the document in v, a non-nil pointer to a struct or a map.
// Keys are matched to struct fields by their `yaml:"name"` tag (a field
// without one by its lower-cased name; "-" skips a field). A key the file
// leaves out, or writes as null, keeps the field's value, so decoding over
// a value holding defaults applies them. Beyond what the YAML library reads
// itself, a time.Duration accepts "90s", "1m30s" or 0, and a type with an
// UnmarshalText method reads a single value through it (its error becomes
// the message).
//
// Every problem (an unknown key, a value of the wrong kind) is an *Error
// with its line; all are reported, joined with errors.Join, and v holds
// everything that could be read.
func (d *Document) Decode(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("decode %s: want a non-nil pointer, got %T", d.file, v)
	}
	if d.root == nil {
		return nil
	}
	dc := &decoder{file: d.file}
	dc.value(d.root, rv.Elem(), nil)
	return errors.Join(dc.errs...)
}

type decoder struct {
	file string
	errs []error
}

func (dc *decoder) fail(n *yaml.Node, path []string, format string, args ...any) {
	dc.errs = append(dc.errs, &Error{File: dc.file, Line: n.Line, Field: join(path), Msg: fmt.Sprintf(format, args...)})
}

// extend returns path with key appended, never sharing path's array.
func extend(path []string, key string) []string {
	return append(path[:len(path):len(path)], key)
}

func (dc *decoder) value(n *yaml.Node, v reflect.Value, path []string) {
	n = resolve(n)
	if v.Type() == positionType {
		v.Set(reflect.ValueOf(Position{Line: n.Line}))
		return
	}
	if n.ShortTag() == nullTag {
		return
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		dc.value(n, v.Elem(), path)
		return
	}
	if reflect.PointerTo(v.Type()).Implements(textUnmarshaler) {
		if n.Kind != yaml.ScalarNode {
			dc.fail(n, path, "want a single value here, not %s", describe(n))
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			dc.errs = append(dc.errs, &Error{File: dc.file, Line: n.Line, Field: join(path), Err: err})
		}
		return
	}
	switch {
	case v.Type() == durationType:
		dc.duration(n, v, path)
	case v.Kind() == reflect.Struct:
		dc.structure(n, v, path)
	case v.Kind() == reflect.Map:
		dc.mapping(n, v, path)
	case v.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			dc.fail(n, path, "want a list here, e.g. [a, b], not %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			dc.value(c, s.Index(i), extend(path, strconv.Itoa(i)))
		}
		v.Set(s)
	default:
		if v.Kind() != reflect.Interface && n.Kind != yaml.ScalarNode {
			dc.fail(n, path, "want %s here, not %s", want(v.Type()), describe(n))
			return
		}
		// The library reads scalars (and any value into an interface);
		// its error is not needed: the kind expected says it all.
		if err := n.Decode(v.Addr().Interface()); err != nil {
			// claim_window: "16" is text to YAML: say so when the same
			// value unquoted would do.
			plain := *n
			plain.Style, plain.Tag = 0, ""
			// (Not for "", "null" or "~": unquoted, they leave the key unset.)
			null := slices.Contains([]string{"", "~", "null", "Null", "NULL"}, n.Value)
			if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 && !null && plain.Decode(reflect.New(v.Type()).Interface()) == nil {
				dc.fail(n, path, "%s is quoted, which makes it text, not %s: write %s without the quotes", describe(n), want(v.Type()), n.Value)
				return
			}
			dc.fail(n, path, "%s is not %s: fix the value", describe(n), want(v.Type()))
		}
	}
}

func (dc *decoder) duration(n *yaml.Node, v reflect.Value, path []string) {
	if n.Kind != yaml.ScalarNode {
		dc.fail(n, path, "want a duration here, e.g. 30s, 1m or 1h30m, not %s", describe(n))
		return
	}
	if n.Value == "0" {
		v.SetInt(0)
		return
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		dc.fail(n, path, "%q is not a duration: write e.g. 30s, 1m or 1h30m", n.Value)
		return
	}
	v.SetInt(int64(d))
}

func (dc *decoder) structure(n *yaml.Node, v reflect.Value, path []string) {
	fields := fieldsOf(v.Type())
	if n.Kind != yaml.MappingNode {
		dc.fail(n, path, "want a mapping of keys here (%s), not %s", fields.names, describe(n))
		return
	}
	for _, p := range pairs(n) {
		if p.key.Kind != yaml.ScalarNode {
			dc.fail(p.key, path, "a key must be a plain name, not %s", describe(p.key))
			continue
		}
		at := extend(path, p.key.Value)
		i, ok := fields.byName[p.key.Value]
		if !ok {
			dc.errs = append(dc.errs, &Error{File: dc.file, Line: p.key.Line, Field: join(at),
				Msg: "unknown key: check the spelling; known keys here are " + fields.names})
			continue
		}
		dc.value(p.value, v.FieldByIndex(i), at)
	}
}

func (dc *decoder) mapping(n *yaml.Node, v reflect.Value, path []string) {
	if n.Kind != yaml.MappingNode {
		dc.fail(n, path, "want a mapping of keys here, not %s", describe(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for _, p := range pairs(n) {
		key := reflect.New(v.Type().Key()).Elem()
		dc.value(p.key, key, path)
		val := reflect.New(v.Type().Elem()).Elem()
		dc.value(p.value, val, extend(path, p.key.Value))
		v.SetMapIndex(key, val)
	}
}

// describe names what a node is, for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

// want names what a Go type accepts, for messages.
func want(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number of 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "text"
	}
	return "a value"
}

// structFields are a struct type's YAML keys.
type structFields struct {
	byName map[string][]int // key -> field index
	names  string           // the keys in field order, comma-separated
}

var fieldCache sync.Map // reflect.Type -> *structFields

func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{byName: map[string][]int{}}
	var names []string
	for _, sf := range reflect.VisibleFields(t) {
		if !sf.IsExported() || len(sf.Index) > 1 {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = strings.ToLower(sf.Name)
		}
		f.byName[name] = sf.Index
		names = append(names, name)
	}
	f.names = strings.Join(names, ", ")
	fieldCache.Store(t, f)
	return f
}

// Unmarshal parses data (named file in messages) and decodes it into v, a
// non-nil pointer: Parse then Decode, for callers that need no more of
// the Document (a catalog read into a map, say). An empty file leaves v as
// it is.
func Unmarshal(data []byte, file string, v any) error {
	doc, err := Parse(data, file)
	if err != nil {
		return err
	}
	return doc.Decode(v)
}
