package send

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime/quotedprintable"
	"strings"
)

// DisablePipelining makes p's connections send MAIL, RCPT and DATA one at a
// time even when the server offers PIPELINING, to test that path.
func DisablePipelining(p *Pool) { p.noPipelining = true }

// Disable8BitMIME makes p's connections write every part as 7bit,
// quoted-printable or base64 even when the server offers 8BITMIME, to
// compare the two forms.
func Disable8BitMIME(p *Pool) { p.no8BitMIME = true }

// BuildForTest returns m as Send writes it for a server that offers
// 8BITMIME (eightBit) or not, with the given boundary, and whether a part
// went out as 8bit.
func BuildForTest(m *Message, eightBit bool, boundary string) ([]byte, bool, error) {
	p, err := prepare(m)
	if err != nil {
		return nil, false, err
	}
	var b bytes.Buffer
	wr := writeMessage(&b, &p, capability{eightBit: eightBit}, []byte(boundary))
	return b.Bytes(), wr.eightBit, nil
}

// BuildForBenchmark builds m as Send does, into a pooled buffer, for a
// server that offers 8BITMIME (eightBit) or not, and returns its size.
func BuildForBenchmark(m *Message, eightBit bool) (int, error) {
	p, err := prepare(m)
	if err != nil {
		return 0, err
	}
	b := getBuffer()
	defer putBuffer(b)
	boundary := newBoundary()
	writeMessage(b, &p, capability{eightBit: eightBit}, boundary[:])
	return b.Len(), nil
}

// DecodeTransfer undoes a Content-Transfer-Encoding, for tests.
func DecodeTransfer(cte string, body []byte) ([]byte, error) {
	switch cte {
	case "quoted-printable":
		return io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
	case "base64":
		return base64.StdEncoding.DecodeString(strings.ReplaceAll(string(body), "\r\n", ""))
	}
	return body, nil
}

// Chained reports whether c holds a message whose MAIL, RCPT and DATA
// went out with the last message's data (SendThen), its data not sent.
func (c *Conn) Chained() bool { return c.pending != nil }

// FailWritesAfterFinalDot makes c's writes fail once the first message
// data's final dot ("\r\n.\r\n") has gone to the server: every byte up to
// and including it is written to the connection, the rest of that write
// and every later one fail with a broken pipe, as when a relay reads a
// message to its end and the connection then breaks while the commands
// chained after it (SendThen) are still being written. size is the
// connection's new write buffer: a small one fails the write of the
// commands, one larger than the message the flush after them.
func FailWritesAfterFinalDot(c *Conn, size int) {
	c.sc.Text.W = bufio.NewWriterSize(&dotThenFail{w: c.sc.Text.W}, size)
}

type dotThenFail struct {
	w      *bufio.Writer
	tail   []byte // the last bytes written, to find a dot split across writes
	failed bool
}

var errAfterDot = errors.New("write: broken pipe (after the final dot, for the test)")

func (d *dotThenFail) Write(p []byte) (int, error) {
	if d.failed {
		return 0, errAfterDot
	}
	end := []byte("\r\n.\r\n")
	seen := append(append([]byte(nil), d.tail...), p...)
	i := bytes.Index(seen, end)
	if i < 0 {
		if _, err := d.w.Write(p); err != nil {
			return 0, err
		}
		d.tail = seen[max(0, len(seen)-len(end)+1):]
		return len(p), d.w.Flush()
	}
	n := i + len(end) - len(d.tail) // bytes of p up to the dot's end
	if _, err := d.w.Write(p[:n]); err != nil {
		return 0, err
	}
	d.failed = true
	if err := d.w.Flush(); err != nil {
		return 0, err
	}
	if n == len(p) {
		return n, nil
	}
	return n, errAfterDot
}

// RecordWrites makes c's writes to its connection go through a recorder,
// under a write buffer of the size textproto gives it (4 KiB), and returns
// a function that lists the bytes of each write the connection got.
func RecordWrites(c *Conn) func() [][]byte {
	r := &writeRecorder{w: c.sc.Text.W}
	c.sc.Text.W = bufio.NewWriterSize(r, c.sc.Text.W.Size())
	return func() [][]byte { return r.writes }
}

type writeRecorder struct {
	w      *bufio.Writer
	writes [][]byte
}

func (r *writeRecorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, append([]byte(nil), p...))
	if _, err := r.w.Write(p); err != nil {
		return 0, err
	}
	return len(p), r.w.Flush()
}

// HeldBuffer is the capacity of the scratch buffer in which c writes a
// message's data with the next message's commands (SendThen).
func HeldBuffer(c *Conn) int { return cap(c.chain) }

// MaxPooledData is the size above which a buffer is not kept for reuse.
const MaxPooledData = maxPooledData
