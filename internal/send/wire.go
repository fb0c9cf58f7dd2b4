package send

import (
	"bytes"
	"sync"
)

// dotStuffer is an io.Writer that collects a message as SMTP DATA content
// (RFC 5321 4.5.2): every line that starts with '.' gets an extra '.', and a
// bare LF becomes CRLF, as net/textproto's DotWriter does. It does so with a
// scan per line instead of a bufio.WriteByte per byte, and keeps the result
// in memory so that the connection gets it in one write.
type dotStuffer struct {
	buf []byte
	bol bool // at the beginning of a line
	cr  bool // the last byte written was '\r'
}

// maxPooledData bounds the buffers kept for reuse, so that one huge message
// does not pin its memory for the life of the process.
const maxPooledData = 1 << 20

var stufferPool = sync.Pool{New: func() any { return &dotStuffer{buf: make([]byte, 0, 4096)} }}

func getStuffer() *dotStuffer {
	d := stufferPool.Get().(*dotStuffer)
	d.reset()
	return d
}

// reset empties d for a new message.
func (d *dotStuffer) reset() { d.buf, d.bol, d.cr = d.buf[:0], true, false }

func putStuffer(d *dotStuffer) {
	if cap(d.buf) <= maxPooledData {
		stufferPool.Put(d)
	}
}

// Write appends p, dot-stuffed and with CRLF line ends. It never fails.
func (d *dotStuffer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if d.bol && p[0] == '.' {
			d.buf = append(d.buf, '.')
		}
		d.bol = false
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			d.buf = append(d.buf, p...)
			d.cr = p[len(p)-1] == '\r'
			break
		}
		d.buf = append(d.buf, p[:i]...)
		cr := d.cr
		if i > 0 {
			cr = p[i-1] == '\r'
		}
		if cr {
			d.buf = append(d.buf, '\n')
		} else {
			d.buf = append(d.buf, '\r', '\n')
		}
		d.bol, d.cr = true, false
		p = p[i+1:]
	}
	return n, nil
}

// finish ends the last line and appends the end-of-data marker ".\r\n".
func (d *dotStuffer) finish() []byte {
	switch {
	case d.bol:
	case d.cr:
		d.buf = append(d.buf, '\n')
	default:
		d.buf = append(d.buf, '\r', '\n')
	}
	d.buf = append(d.buf, '.', '\r', '\n')
	d.bol, d.cr = true, false
	return d.buf
}

// dataOf returns the message in raw, as writeMessage wrote it (every line
// break CRLF), as SMTP DATA content with its end-of-data marker: what
// dotStuffer gives for it. A line that starts with "." is the only thing
// dot-stuffing changes in such a message, and most messages have none:
// writeMessage knows (dotLine false) or, when it does not, bytes.Contains
// finds none. Then the marker is appended to raw itself, with no second
// pass over the message and no copy of it (FuzzData: the same bytes as
// dotStuffer's). Otherwise, and for a message that ends in a CR
// (writeMessage writes none), d, reset, stuffs it.
func dataOf(raw *bytes.Buffer, dotLine bool, d *dotStuffer) []byte {
	b := raw.Bytes()
	if len(b) == 0 || b[0] == '.' || b[len(b)-1] == '\r' || dotLine && bytes.Contains(b, lineDot) {
		d.reset()
		_, _ = d.Write(b) // never fails
		return d.finish()
	}
	if b[len(b)-1] == '\n' {
		raw.WriteString(".\r\n")
	} else {
		raw.WriteString("\r\n.\r\n")
	}
	return raw.Bytes()
}

// lineDot is a line break followed by a dot: a line that starts with ".".
var lineDot = []byte("\n.")
