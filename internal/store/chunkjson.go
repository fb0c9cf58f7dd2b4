package store

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A chunk's JSON, read fast.
//
// A chunk is the JSON of a []Recipient as staging's json.Marshal writes it:
// no white space, the keys of Recipient's tags, each at most once, strings,
// a whole number for "n", an array of strings for "f". fastChunk decodes
// exactly that shape and says false for anything else (white space, null,
// another key or case, a duplicate key, a number with a fraction or out of
// int's range, trailing data), and decodeChunk then decodes the chunk with
// encoding/json, which is the reference. A string with an escape, a control
// character or invalid UTF-8 is decoded by encoding/json alone; any other
// string is its bytes, which is what encoding/json makes of it. The
// recipients' strings share the chunk's memory, but for Lang: a worker
// keeps it for as long as it runs (a metric's label), and a substring would
// keep the whole chunk with it; each language of a chunk is copied once.
// FuzzFastChunk checks that fastChunk's result, where it gives one, is
// encoding/json's.

// fastChunk decodes s as a []Recipient; false if s is not of the shape
// staging writes.
func fastChunk(s string) ([]Recipient, bool) {
	n := strings.Count(s, "{") // at least the number of recipients
	d := chunkReader{s: s, vals: make([]string, 0, n)}
	recs := make([]Recipient, 0, n)
	if !d.byte('[') || !d.list(']', func() bool {
		recs = append(recs, Recipient{})
		return d.recipient(&recs[len(recs)-1])
	}) || !d.end() {
		return nil, false
	}
	return recs, true
}

// chunkReader reads s from i.
type chunkReader struct {
	s     string
	i     int
	vals  []string // the values of every recipient, each a slice of it
	langs []string // the languages read, each a copy (lang)
}

// byte consumes c if it is next.
func (d *chunkReader) byte(c byte) bool {
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *chunkReader) end() bool { return d.i == len(d.s) }

// list reads the items of a JSON array or object, its opening byte read:
// item reads each, up to close.
func (d *chunkReader) list(close byte, item func() bool) bool {
	if d.byte(close) {
		return true
	}
	for {
		if !item() {
			return false
		}
		if d.byte(close) {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

// recipient reads one object into r.
func (d *chunkReader) recipient(r *Recipient) bool {
	var seen [8]bool
	// The plain string fields, by key index (chunkKeys).
	str := [...]*string{1: &r.ID, 2: &r.Email, 3: &r.Name, 4: &r.Locale, 6: &r.Via}
	return d.byte('{') && d.list('}', func() bool {
		k, ok := d.key()
		if !ok || seen[k] {
			return false
		}
		seen[k] = true
		switch k {
		case 0:
			r.Line, ok = d.int()
		case 5:
			r.Lang, ok = d.lang()
		case 7:
			r.Values, ok = d.strings()
		default:
			*str[k], ok = d.string()
		}
		return ok
	})
}

// key reads `"x":` for one of Recipient's keys, as its index in chunkKeys.
func (d *chunkReader) key() (int, bool) {
	if d.i+4 > len(d.s) || d.s[d.i] != '"' || d.s[d.i+2] != '"' || d.s[d.i+3] != ':' {
		return 0, false
	}
	for k := range len(chunkKeys) {
		if d.s[d.i+1] == chunkKeys[k] {
			d.i += 4
			return k, true
		}
	}
	return 0, false
}

// chunkKeys are Recipient's JSON keys: n, i, e, m, o, l, v, f (stage.go).
const chunkKeys = "niemolvf"

// int reads a JSON integer that fits an int.
func (d *chunkReader) int() (int, bool) {
	start := d.i
	d.byte('-')
	digits := d.i
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
		d.i++
	}
	if d.i == digits || (d.s[digits] == '0' && d.i-digits > 1) {
		return 0, false // no digit, or a leading zero
	}
	n, err := strconv.Atoi(d.s[start:d.i])
	return n, err == nil
}

// string reads a JSON string.
func (d *chunkReader) string() (string, bool) {
	if !d.byte('"') {
		return "", false
	}
	start, ascii := d.i, true
	for ; d.i < len(d.s); d.i++ {
		switch c := d.s[d.i]; {
		case c == '"':
			v := d.s[start:d.i]
			d.i++
			if !ascii && !utf8.ValidString(v) {
				return reference(d.s[start-1 : d.i])
			}
			return v, true
		case c == '\\':
			// An escape: the end is the next quote not escaped, and
			// encoding/json decodes the string.
			for ; d.i < len(d.s); d.i++ {
				switch d.s[d.i] {
				case '\\':
					d.i++ // the escaped byte
				case '"':
					d.i++
					return reference(d.s[start-1 : d.i])
				}
			}
			return "", false
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// lang reads a JSON string, as a copy that does not share the chunk's
// memory: the same copy for each recipient of the same language.
func (d *chunkReader) lang() (string, bool) {
	v, ok := d.string()
	if !ok {
		return "", false
	}
	for _, l := range d.langs {
		if l == v {
			return l, true
		}
	}
	v = strings.Clone(v)
	d.langs = append(d.langs, v)
	return v, true
}

// reference decodes the JSON string q with encoding/json.
func reference(q string) (string, bool) {
	var v string
	if err := json.Unmarshal([]byte(q), &v); err != nil {
		return "", false
	}
	return v, true
}

// strings reads a JSON array of strings.
func (d *chunkReader) strings() ([]string, bool) {
	first := len(d.vals)
	if !d.byte('[') || !d.list(']', func() bool {
		v, ok := d.string()
		d.vals = append(d.vals, v)
		return ok
	}) {
		return nil, false
	}
	// A slice of its own: appending to it never writes another's.
	return d.vals[first:len(d.vals):len(d.vals)], true
}
