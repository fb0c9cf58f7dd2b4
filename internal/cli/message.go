package cli

import (
	"bytes"
	"net/mail"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/worker"
)

// messageFor builds the message a worker would send for a rendering, with
// the same Message-ID and headers.
func messageFor(l *loaded, id, to, toName string, r render.Rendered) *send.Message {
	domain := "tidings.invalid"
	if a, err := mail.ParseAddress(l.camp.From); err == nil {
		if at := strings.LastIndexByte(a.Address, '@'); at >= 0 {
			domain = a.Address[at+1:]
		}
	}
	m := &send.Message{
		From: l.camp.From, ReplyTo: l.camp.ReplyTo, To: to, ToName: toName,
		Subject: r.Subject, Text: r.Text, HTML: r.HTML,
		MessageID: worker.MessageID(l.camp.Name, id, domain), Date: time.Now(),
		Headers: []send.Header{{Name: "X-Tidings-Campaign", Value: l.camp.Name}, {Name: "Content-Language", Value: r.Lang}},
	}
	if l.camp.ListUnsubscribe != "" {
		m.Headers = append(m.Headers, send.Header{Name: "List-Unsubscribe", Value: "<" + worker.Unsubscribe(l.camp.ListUnsubscribe, id, to) + ">"})
	}
	return m
}

// emlFor renders a preview language as a complete message file.
func emlFor(l *loaded, lang string, r render.Rendered, to, toName string) ([]byte, error) {
	var b bytes.Buffer
	if _, err := messageFor(l, to, to, toName, r).WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
