package send

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

var bufferPool = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 4096)) }}

func getBuffer() *bytes.Buffer {
	b := bufferPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledData {
		bufferPool.Put(b)
	}
}

// WriteTo writes m as a complete RFC 5322 message, for .eml files in
// previews and rehearsals. It applies the same validation and header
// encoding as Send and writes what a server without 8BITMIME would receive
// (quoted-printable or base64 where Send to a server with 8BITMIME may use
// 8bit), with a random multipart boundary and, when m has none, a generated
// Message-ID. An address that needs SMTPUTF8 is written as it is.
func (m *Message) WriteTo(w io.Writer) (int64, error) {
	p, err := prepare(m)
	if err != nil {
		return 0, err
	}
	b := getBuffer()
	defer putBuffer(b)
	boundary := newBoundary()
	writeMessage(b, &p, emlCapability, boundary[:])
	n, err := w.Write(b.Bytes())
	if err != nil {
		return int64(n), fmt.Errorf("write message: %w", err)
	}
	return int64(n), nil
}
