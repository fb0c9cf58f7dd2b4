package worker

import (
	"crypto/sha1"
	"encoding/hex"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/send"
)

// Composer builds the message a worker sends to one recipient of a
// campaign. Previews, test sends and rehearsals use the same Composer, so
// what QA sees is what recipients get.
type Composer struct {
	camp   *campaign.Campaign
	domain string // of From, for Message-IDs
}

// NewComposer returns the Composer of campaign c.
func NewComposer(c *campaign.Campaign) *Composer {
	domain := "tidings.invalid"
	if a, err := mail.ParseAddress(c.From); err == nil {
		if i := strings.LastIndex(a.Address, "@"); i >= 0 {
			domain = a.Address[i+1:]
		}
	}
	return &Composer{camp: c, domain: domain}
}

// Message is the message to recipient id (address email, display name
// name) with rendering out: the campaign's From and Reply-To, the
// deterministic Message-ID, X-Tidings-Campaign, Content-Language and, when
// configured, List-Unsubscribe.
func (m *Composer) Message(id, email, name string, out render.Rendered, now time.Time) *send.Message {
	msg := &send.Message{
		From: m.camp.From, ReplyTo: m.camp.ReplyTo, To: email, ToName: name,
		Subject: out.Subject, Text: out.Text, HTML: out.HTML,
		MessageID: MessageID(m.camp.Name, id, m.domain), Date: now,
		Headers: []send.Header{{Name: "X-Tidings-Campaign", Value: m.camp.Name}, {Name: "Content-Language", Value: out.Lang}},
	}
	if m.camp.ListUnsubscribe != "" {
		msg.Headers = append(msg.Headers, send.Header{Name: "List-Unsubscribe", Value: "<" + Unsubscribe(m.camp.ListUnsubscribe, id, email) + ">"})
	}
	return msg
}

// MessageID returns the deterministic Message-ID (without angle brackets)
// of campaign c's message to recipient id: the same recipient always gets
// the same id, so a duplicate could be recognised downstream.
func MessageID(c, id, domain string) string {
	h := sha1.Sum([]byte(id))
	return c + "." + hex.EncodeToString(h[:])[:16] + "@" + domain
}

// Unsubscribe expands a List-Unsubscribe template: {id} and {email} are
// replaced by the URL-escaped recipient id and address.
func Unsubscribe(tmpl, id, email string) string {
	if strings.IndexByte(tmpl, '{') < 0 {
		return tmpl
	}
	var b strings.Builder
	b.Grow(len(tmpl) + len(id) + len(email))
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:i])
		switch rest := tmpl[i:]; {
		case strings.HasPrefix(rest, "{id}"):
			b.WriteString(url.QueryEscape(id))
			tmpl = rest[len("{id}"):]
		case strings.HasPrefix(rest, "{email}"):
			b.WriteString(url.QueryEscape(email))
			tmpl = rest[len("{email}"):]
		default:
			b.WriteByte('{')
			tmpl = rest[1:]
		}
	}
}
