package send

import (
	"bytes"
	"io"
)

// BuildForBenchmark builds and serialises m, for BenchmarkBuild.
func BuildForBenchmark(m *Message) error {
	p, err := prepare(m)
	if err != nil {
		return err
	}
	b := getBuffer()
	defer putBuffer(b)
	writeMIME(b, &p, newBoundary())
	_, err = io.Discard.Write(b.Bytes())
	return err
}

// DisablePipelining makes p's connections send MAIL, RCPT and DATA one at a
// time even when the server offers PIPELINING, to test that path.
func DisablePipelining(p *Pool) { p.noPipelining = true }

// MIMEForTest returns m as written by Send, with the given boundary.
func MIMEForTest(m *Message, boundary string) ([]byte, error) {
	p, err := prepare(m)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	writeMIME(&b, &p, boundary)
	return b.Bytes(), nil
}
