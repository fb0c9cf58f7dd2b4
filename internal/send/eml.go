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

// WriteTo writes m as a complete RFC 5322 message (what an SMTP server
// would receive), for .eml files in previews and rehearsals. It applies the
// same validation and header sanitising as Send and writes the same bytes
// (but for the random multipart boundary and a generated Message-ID).
func (m *Message) WriteTo(w io.Writer) (int64, error) {
	p, err := prepare(m)
	if err != nil {
		return 0, err
	}
	b := getBuffer()
	defer putBuffer(b)
	writeMIME(b, &p, newBoundary())
	n, err := w.Write(b.Bytes())
	if err != nil {
		return int64(n), fmt.Errorf("write message: %w", err)
	}
	return int64(n), nil
}
