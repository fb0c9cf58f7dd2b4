package send_test

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestSendTransferEncodingOnTheWire sends the bench's six languages to a
// server with 8BITMIME (8bit parts, declared with BODY=8BITMIME; ASCII parts
// 7bit) and to one without (no 8-bit byte, no BODY=8BITMIME: the strict
// server refuses both), and checks that every part decodes to what was
// rendered.
func TestSendTransferEncodingOnTheWire(t *testing.T) {
	t.Parallel()
	msgs := mixMessages(t)

	t.Run("8BITMIME", func(t *testing.T) {
		t.Parallel()
		srv := startCapture(t, smtpcapture.Config{})
		p := newPool(t, plainConfig(srv), 1)
		for _, m := range msgs {
			if err := sendOne(t, p, m); err != nil {
				t.Fatalf("send %s: %v", m.To, err)
			}
		}
		for i, got := range srv.Messages() {
			ascii := isASCII(msgs[i].Text + msgs[i].HTML)
			wantCTE, wantBody := "8bit", "8BITMIME"
			if ascii {
				wantCTE, wantBody = "7bit", ""
			}
			ctes := checkParts(t, got.Data, msgs[i])
			if strings.Join(ctes, ",") != wantCTE+","+wantCTE || got.Body != wantBody {
				t.Errorf("%s: parts %v, MAIL FROM BODY=%q; want %s and %q", msgs[i].To, ctes, got.Body, wantCTE, wantBody)
			}
		}
	})

	t.Run("7-bit server", func(t *testing.T) {
		t.Parallel()
		srv, cfg := startStrictServer(t, &strictServer{pipelining: true, no8BitMIME: true})
		p := newPool(t, cfg, 1)
		for _, m := range msgs {
			if err := sendOne(t, p, m); err != nil {
				t.Fatalf("send %s: %v", m.To, err)
			}
		}
		for i, data := range srv.messages() {
			for _, c := range data {
				if c >= 0x80 {
					t.Fatalf("%s: 8-bit byte sent to a server without 8BITMIME", msgs[i].To)
				}
			}
			for _, cte := range checkParts(t, data, msgs[i]) {
				if cte == "8bit" {
					t.Errorf("%s: an 8bit part", msgs[i].To)
				}
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// part is one part of a multipart message, its transfer encoding undone.
type part struct {
	contentType, cte string
	body             []byte
}

// readParts parses a multipart message and decodes its parts.
func readParts(t *testing.T, data []byte) []part {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("content type: %v", err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var parts []part
	for {
		p, err := mr.NextRawPart() // no quoted-printable decoding behind our back
		if errors.Is(err, io.EOF) {
			return parts
		}
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		raw, _ := io.ReadAll(p)
		cte := p.Header.Get("Content-Transfer-Encoding")
		body, err := send.DecodeTransfer(cte, raw)
		if err != nil {
			t.Fatalf("decode %s part: %v", cte, err)
		}
		parts = append(parts, part{contentType: p.Header.Get("Content-Type"), cte: cte, body: body})
	}
}

// checkParts checks that the text and HTML parts of a multipart/alternative
// message decode to m's (line breaks as CRLF) and returns the parts'
// Content-Transfer-Encodings.
func checkParts(t *testing.T, data []byte, m *send.Message) []string {
	t.Helper()
	var ctes []string
	for _, p := range readParts(t, data) {
		ctes = append(ctes, p.cte)
		want := m.Text
		if strings.HasPrefix(p.contentType, "text/html") {
			want = m.HTML
		}
		if string(p.body) != strings.ReplaceAll(want, "\n", "\r\n") {
			t.Errorf("%s %s part decodes to %.80q, want %.80q", m.To, p.cte, p.body, want)
		}
	}
	return ctes
}
