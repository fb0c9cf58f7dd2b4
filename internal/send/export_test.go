package send

import (
	"bytes"
	"encoding/base64"
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
