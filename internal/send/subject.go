package send

import (
	"bytes"
	"hash/maphash"
	"sync/atomic"
)

// A campaign's subject is usually the same for every recipient of a
// language (render folds it), yet cleaning it (oneline.Is decodes every
// character) and encoding it (RFC 2047 words sized character by
// character) cost more than any other header field. The Subject field
// depends on the subject alone (every field starts on a line of its own),
// so prepare takes it from a small cache of the fields last written,
// keyed by the subject as given: a direct-mapped table whose slots hold
// immutable entries, replaced on a miss. A subject that changes with each
// recipient misses every time and costs one entry more than writing the
// field.

// subjectField is the cleaned subject of in and its whole Subject field,
// CRLF included.
type subjectField struct {
	in, clean string
	field     []byte
}

// subjectSlots is the number of slots of subjectCache: more than the
// languages of a campaign, a few campaigns at once.
const subjectSlots = 64

var (
	subjectSeed  = maphash.MakeSeed()
	subjectCache [subjectSlots]atomic.Pointer[subjectField]
)

// subjectOf returns the cleaned subject s and its Subject field.
func subjectOf(s string) *subjectField {
	slot := &subjectCache[maphash.String(subjectSeed, s)%subjectSlots]
	if f := slot.Load(); f != nil && f.in == s {
		return f
	}
	f := &subjectField{in: s, clean: clean(s)}
	var b bytes.Buffer
	w := fieldWriter{b: &b}
	w.text("Subject", f.clean)
	f.field = b.Bytes()
	slot.Store(f)
	return f
}
