package send

import (
	"crypto/sha1" //nolint:gosec // an identifier, not a secret
	"encoding/hex"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/unsubscribe"
)

// ComposerConfig is what a Composer needs to know of a campaign, as plain
// strings.
type ComposerConfig struct {
	// Campaign is the campaign's name: the X-Tidings-Campaign header and the
	// first part of every Message-ID. Letters, digits, "-", "_" and ".".
	Campaign string
	// From is the sender, "Name <addr>" or "addr".
	From string
	// ReplyTo is optional, in the same forms as From.
	ReplyTo string
	// ListUnsubscribe is an optional http(s) or mailto URL template for the
	// List-Unsubscribe header: {id} and {email} are replaced by the
	// URL-escaped recipient id and address, {token} by the recipient's
	// unsubscribe.Token under UnsubscribeSecret. An https URL also gets
	// List-Unsubscribe-Post (RFC 8058 one-click unsubscribe).
	ListUnsubscribe string
	// UnsubscribeSecret is the key of {token} (required when
	// ListUnsubscribe holds {token}, else unused). It is never written
	// anywhere.
	UnsubscribeSecret []byte
	// MessageIDDomain is the part of every Message-ID after the "@";
	// default the domain of From (as an A-label).
	MessageIDDomain string
}

// Content is one recipient's rendered message.
type Content struct {
	Lang    string // the language it is written in: the Content-Language header
	Subject string
	Text    string // text/plain part
	HTML    string // text/html part
	// Link is the recipient's List-Unsubscribe URL as Composer.Link made
	// it for the body ({{.Unsubscribe}}): the header is written from it,
	// so the two are one string. Zero: Message makes it.
	Link Link
}

// Link is a recipient's List-Unsubscribe URL, expanded once ({token}
// made once): the body's link (Web) and the header (Message) are read
// from it. Its URL comes from the campaign's checked template with every
// value percent-escaped, so it holds no CR, LF, "<" or ">".
type Link struct {
	bracketed string // "<URL>", the header's value (unsubscribe.Bracketed: one allocation); "" for none
}

// Web returns the URL when it is http(s), the link a body can show
// ({{.Unsubscribe}}); "" for a mailto URL (a body link to it would open a
// mail to write, not unsubscribe) or none.
func (l Link) Web() string {
	if l.bracketed == "" {
		return ""
	}
	u := l.bracketed[1 : len(l.bracketed)-1]
	if !unsubscribe.IsWeb(u) {
		return ""
	}
	return u
}

// Composer builds the message a worker sends to one recipient of a
// campaign. Previews, test sends and rehearsals use the same Composer, so
// what QA sees is what recipients get. It is safe for concurrent use.
type Composer struct {
	cfg ComposerConfig
}

// NewComposer returns the Composer for cfg, or an error saying which field
// is wrong.
func NewComposer(cfg ComposerConfig) (*Composer, error) {
	if cfg.Campaign == "" || strings.TrimFunc(cfg.Campaign, func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
	}) != "" {
		return nil, fmt.Errorf("compose messages: campaign name %q: use letters, digits, '-', '_' and '.'", cfg.Campaign)
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("compose messages: from %q is not an address: %w", cfg.From, err)
	}
	// Both go on every message: an address SMTP cannot carry (too long, a
	// domain IDNA refuses) is refused here, once, instead of failing every
	// recipient's message.
	wire, _, err := wireAddress("from", from.Address)
	if err != nil {
		return nil, fmt.Errorf("compose messages: %w", err)
	}
	if cfg.ReplyTo != "" {
		rt, err := netmail.ParseAddress(cfg.ReplyTo)
		if err != nil {
			return nil, fmt.Errorf("compose messages: reply-to %q is not an address: %w", cfg.ReplyTo, err)
		}
		if _, _, err := wireAddress("reply-to", rt.Address); err != nil {
			return nil, fmt.Errorf("compose messages: %w", err)
		}
	}
	if cfg.MessageIDDomain == "" {
		cfg.MessageIDDomain = wire[strings.LastIndexByte(wire, '@')+1:]
	}
	if !validMessageID(MessageID(cfg.Campaign, "", cfg.MessageIDDomain)) {
		return nil, fmt.Errorf("compose messages: Message-ID domain %q: use an ASCII domain name", cfg.MessageIDDomain)
	}
	if cfg.ListUnsubscribe != "" {
		if err := unsubscribe.Check(cfg.ListUnsubscribe); err != nil {
			return nil, fmt.Errorf("compose messages: list-unsubscribe %w", err)
		}
		if unsubscribe.UsesToken(cfg.ListUnsubscribe) && len(cfg.UnsubscribeSecret) == 0 {
			return nil, fmt.Errorf("compose messages: list-unsubscribe %q has {token}: %w", cfg.ListUnsubscribe, unsubscribe.ErrNoSecret)
		}
		// Checked: its host, when not ASCII, converts.
		cfg.ListUnsubscribe, _ = unsubscribe.ASCIIHost(cfg.ListUnsubscribe)
	}
	return &Composer{cfg: cfg}, nil
}

// token is recipient id's {token}, or "" when the template has none.
func (c *Composer) token(id string) string {
	if !unsubscribe.UsesToken(c.cfg.ListUnsubscribe) {
		return ""
	}
	return unsubscribe.Token(c.cfg.UnsubscribeSecret, id)
}

// Link returns recipient id's List-Unsubscribe URL (address email),
// the zero Link without one. Give it to Message in Content.Link, and its
// Web to the body: both then show this one expansion.
func (c *Composer) Link(id, email string) Link {
	if c.cfg.ListUnsubscribe == "" {
		return Link{}
	}
	return Link{bracketed: unsubscribe.Bracketed(c.cfg.ListUnsubscribe, id, email, c.token(id))}
}

// Message returns the message to recipient id (address email, display name
// name) with content c, dated now: the campaign's From and Reply-To, the
// deterministic Message-ID, X-Tidings-Campaign, Content-Language and, when
// configured, List-Unsubscribe (content.Link, made here when zero).
func (c *Composer) Message(id, email, name string, content Content, now time.Time) *Message {
	mh := &messageHeaders{}
	m := &mh.m
	*m = Message{
		From: c.cfg.From, ReplyTo: c.cfg.ReplyTo, To: email, ToName: name,
		Subject: content.Subject, Text: content.Text, HTML: content.HTML,
		MessageID: MessageID(c.cfg.Campaign, id, c.cfg.MessageIDDomain), Date: now,
		Headers: mh.h[:2:3],
	}
	m.Headers[0] = Header{Name: "X-Tidings-Campaign", Value: c.cfg.Campaign}
	m.Headers[1] = Header{Name: "Content-Language", Value: content.Lang}
	if c.cfg.ListUnsubscribe != "" {
		link := content.Link
		if link.bracketed == "" { // one way to the header: the Link the body's is
			link = c.Link(id, email)
		}
		m.Headers = append(m.Headers, Header{Name: "List-Unsubscribe", Value: link.bracketed})
	}
	return m
}

// messageHeaders is a Message and the room for its headers, allocated
// together (Composer.Message).
type messageHeaders struct {
	m Message
	h [3]Header
}

// MessageID returns the deterministic Message-ID (without angle brackets)
// of campaign's message to recipient id: the same recipient always gets the
// same id, so a duplicate could be recognised downstream.
func MessageID(campaign, id, domain string) string {
	h := sha1.Sum([]byte(id)) //nolint:gosec // an identifier, not a secret
	var x [16]byte
	hex.Encode(x[:], h[:8])
	return campaign + "." + string(x[:]) + "@" + domain
}
