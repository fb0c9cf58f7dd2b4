package cli

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
)

// decodedMail is a message's subject and its parts, decoded as a mail
// client decodes them.
type decodedMail struct {
	subject, text, html string
	header              mail.Header
}

// decodeMail reads a message as a mail client does (RFC 2047 subject,
// quoted-printable and base64 parts, CRLF as LF).
func decodeMail(t *testing.T, raw []byte) decodedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, raw)
	}
	var d decodedMail
	d.header = msg.Header
	dec := new(mime.WordDecoder)
	if d.subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatalf("decode subject: %v", err)
	}
	part := func(ct, cte string, body io.Reader) {
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		if strings.EqualFold(cte, "base64") {
			b, err = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(b)))
			if err != nil {
				t.Fatalf("base64: %v", err)
			}
		}
		s := strings.ReplaceAll(string(b), "\r\n", "\n")
		mt, _, _ := mime.ParseMediaType(ct)
		switch mt {
		case "text/plain":
			d.text = s
		case "text/html":
			d.html = s
		}
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("content type: %v", err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		part(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
		return d
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		cte := p.Header.Get("Content-Transfer-Encoding")
		var r io.Reader = p
		if strings.EqualFold(cte, "quoted-printable") {
			r = quotedprintable.NewReader(p)
		}
		part(p.Header.Get("Content-Type"), cte, r)
	}
	return d
}
