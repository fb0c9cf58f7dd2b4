package worker

import (
	"time"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/unsubscribe"
)

// Composer builds the message a worker sends to one recipient of a
// campaign: send's Composer, given the campaign's settings and the
// rendering. Previews, test sends, rehearsals and the console use the same
// Composer, so what QA sees is what recipients get.
type Composer struct {
	c   *send.Composer
	err error
}

// NewComposer returns the Composer of campaign c, making the {token} of
// its List-Unsubscribe with unsubscribeSecret (the environment's
// unsubscribe secret; none when c has no {token}). A campaign whose
// settings cannot make a message (Err), or with {token} and no secret,
// gets a Composer whose messages the sender refuses as invalid; a worker
// refuses such a campaign before sending.
func NewComposer(c *campaign.Campaign, unsubscribeSecret environment.Secret) *Composer {
	cfg := send.ComposerConfig{Campaign: c.Name, From: c.From, ReplyTo: c.ReplyTo, ListUnsubscribe: c.ListUnsubscribe,
		UnsubscribeSecret: []byte(unsubscribeSecret.Reveal())}
	sc, err := send.NewComposer(cfg)
	return &Composer{c: sc, err: err}
}

// PreviewComposer is NewComposer for previews, galleries and rehearsals,
// which send nothing to a recipient: without unsubscribeSecret, {token}
// is made with unsubscribe.PreviewSecret, so the link keeps its shape.
func PreviewComposer(c *campaign.Campaign, unsubscribeSecret environment.Secret) *Composer {
	if !unsubscribeSecret.IsSet() {
		unsubscribeSecret = environment.Secret(unsubscribe.PreviewSecret)
	}
	return NewComposer(c, unsubscribeSecret)
}

// Err says why the campaign's settings cannot make a message, or nil.
func (m *Composer) Err() error { return m.err }

// Message is the message to recipient id (address email, display name
// name) with rendering out, dated now; its List-Unsubscribe is link, the
// recipient's Link whose Web out was rendered with.
func (m *Composer) Message(id, email, name string, link send.Link, out render.Rendered, now time.Time) *send.Message {
	content := send.Content{Lang: out.Lang, Subject: out.Subject, Text: out.Text, HTML: out.HTML, Link: link}
	if m.err != nil {
		// Never sent: send refuses a message without a valid From.
		return &send.Message{From: "", To: email, ToName: name, Subject: content.Subject, Text: content.Text, HTML: content.HTML, Date: now}
	}
	return m.c.Message(id, email, name, content, now)
}

// Link is recipient id's List-Unsubscribe URL, made once: its Web is the
// body's {{.Unsubscribe}} (http(s) only) and Message writes the header
// from it, so they never differ. The zero Link without one, when Err is
// set, or for a nil Composer.
func (m *Composer) Link(id, email string) send.Link {
	if m == nil || m.err != nil {
		return send.Link{}
	}
	return m.c.Link(id, email)
}
