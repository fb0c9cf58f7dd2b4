package send

import "bytes"

// tx is one message's transaction on a connection: the message prepared,
// its envelope and its data as built for the server's capability,
// dot-stuffed and ending in the final dot. A Conn holds two, the message
// being sent and the next one (SendThen), and keeps their buffers.
type tx struct {
	m     *Message
	p     prepared
	env   envelope
	built capability
	body  []byte // nil until built
	// sent: MAIL, RCPT and DATA went out with the previous message's
	// data; their replies are not read yet (Conn.pending).
	sent bool

	boundary [60]byte
	raw      bytes.Buffer
	data     dotStuffer
	// headers and uris are the room of the last prepared message's
	// headers and List-Unsubscribe URIs, which the next one's take
	// (prepareInto).
	headers []Header
	uris    []string
}

// prepare validates m and makes t its transaction, not yet built.
func (t *tx) prepare(m *Message) error {
	p, err := prepareInto(m, t.headers, t.uris)
	if err != nil {
		return err
	}
	t.headers, t.uris = p.headers, p.unsubscribe
	t.m, t.p, t.body, t.sent = m, p, nil, false
	t.env = envelope{from: p.from.bracketed, to: p.to.bracketed}
	t.boundary = newBoundary()
	return nil
}

// build writes t's data for a server offering c, unless it is written
// for it already, and the MAIL FROM parameters it needs.
func (t *tx) build(c capability) {
	if t.body != nil && t.built == c {
		return
	}
	t.built = c
	t.raw.Reset()
	wr := writeMessage(&t.raw, &t.p, c, t.boundary[:])
	t.env.params = mailParams(wr.eightBit, t.p.utf8Addr != "")
	t.body = dataOf(&t.raw, wr.dotLine, &t.data)
}

// release ends t: it holds no message, and gives up buffers too large to
// keep (maxPooledData).
func (t *tx) release() {
	t.m, t.body, t.sent = nil, nil, false
	if t.raw.Cap() > maxPooledData {
		t.raw = bytes.Buffer{}
	}
	if cap(t.data.buf) > maxPooledData {
		t.data = dotStuffer{}
	}
}

// other is the connection's transaction that is not t.
func (c *Conn) other(t *tx) *tx {
	if t == &c.txs[0] {
		return &c.txs[1]
	}
	return &c.txs[0]
}

// commands appends e's MAIL FROM, RCPT TO and DATA to b, and returns
// where MAIL's and RCPT's end.
func (e envelope) commands(b []byte) (out []byte, mailEnd, rcptEnd int) {
	b = append(append(append(b, "MAIL FROM:<"...), e.from...), '>')
	b = append(append(b, e.params...), "\r\n"...)
	mailEnd = len(b)
	b = append(append(append(b, "RCPT TO:<"...), e.to...), ">\r\n"...)
	rcptEnd = len(b)
	return append(b, "DATA\r\n"...), mailEnd, rcptEnd
}

// chainOf returns body followed by cmd, to be written at once
// (Conn.transact), and scratch. When body's array has room for cmd after
// body, cmd is appended there and the message is not copied: body's own
// bytes are left as they are (a retry on a redialled connection writes
// them again). Else body and cmd are copied into scratch, which is
// returned, grown, for the next message.
func chainOf(body, cmd, scratch []byte) (out, scratchOut []byte) {
	if cap(body)-len(body) >= len(cmd) {
		return append(body, cmd...), scratch
	}
	scratch = append(append(scratch[:0], body...), cmd...)
	return scratch, scratch
}
