package send

import (
	"crypto/sha1" //nolint:gosec // an identifier, not a secret
	"encoding/hex"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strings"
	"time"
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
	// URL-escaped recipient id and address. An https URL also gets
	// List-Unsubscribe-Post (RFC 8058 one-click unsubscribe).
	ListUnsubscribe string
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
	if !validMessageID("x@" + cfg.MessageIDDomain) {
		return nil, fmt.Errorf("compose messages: Message-ID domain %q: use an ASCII domain name", cfg.MessageIDDomain)
	}
	if cfg.ListUnsubscribe != "" {
		if err := CheckUnsubscribe(cfg.ListUnsubscribe); err != nil {
			return nil, fmt.Errorf("compose messages: list-unsubscribe %w", err)
		}
	}
	return &Composer{cfg: cfg}, nil
}

// Message returns the message to recipient id (address email, display name
// name) with content c, dated now: the campaign's From and Reply-To, the
// deterministic Message-ID, X-Tidings-Campaign, Content-Language and, when
// configured, List-Unsubscribe.
func (c *Composer) Message(id, email, name string, content Content, now time.Time) *Message {
	m := &Message{
		From: c.cfg.From, ReplyTo: c.cfg.ReplyTo, To: email, ToName: name,
		Subject: content.Subject, Text: content.Text, HTML: content.HTML,
		MessageID: MessageID(c.cfg.Campaign, id, c.cfg.MessageIDDomain), Date: now,
		Headers: make([]Header, 2, 3),
	}
	m.Headers[0] = Header{Name: "X-Tidings-Campaign", Value: c.cfg.Campaign}
	m.Headers[1] = Header{Name: "Content-Language", Value: content.Lang}
	if c.cfg.ListUnsubscribe != "" {
		m.Headers = append(m.Headers, Header{Name: "List-Unsubscribe", Value: "<" + Unsubscribe(c.cfg.ListUnsubscribe, id, email) + ">"})
	}
	return m
}

// MessageID returns the deterministic Message-ID (without angle brackets)
// of campaign's message to recipient id: the same recipient always gets the
// same id, so a duplicate could be recognised downstream.
func MessageID(campaign, id, domain string) string {
	h := sha1.Sum([]byte(id)) //nolint:gosec // an identifier, not a secret
	return campaign + "." + hex.EncodeToString(h[:])[:16] + "@" + domain
}

// CheckUnsubscribe reports whether tmpl is a List-Unsubscribe template
// that Unsubscribe expands into a working URL for every recipient: an
// https or http URL with a host, or a mailto URL with an address, whose
// only placeholders are {id} and {email} (any other brace, such as {ID},
// {user_id} or an unclosed {id, would go out as it is, the same useless
// link for everyone). NewComposer refuses what it refuses. The error
// begins with tmpl, quoted, and says what to do.
func CheckUnsubscribe(tmpl string) error {
	const known = "the placeholders are {id} and {email}, in lower case"
	for i := 0; i < len(tmpl); i++ {
		rest := tmpl[i:]
		switch {
		case strings.HasPrefix(rest, "{id}"), strings.HasPrefix(rest, "{email}"):
			i += strings.IndexByte(rest, '}')
		case rest[0] == '{':
			end := strings.IndexAny(rest[1:], "{}")
			if end < 0 || rest[1+end] == '{' {
				return fmt.Errorf("%q has a { that is not closed: %s (write a literal brace as %%7B)", tmpl, known)
			}
			return fmt.Errorf("%q has the unknown placeholder %s: %s (write a literal brace as %%7B)", tmpl, rest[:end+2], known)
		case rest[0] == '}':
			return fmt.Errorf("%q has a } that closes no placeholder: %s (write a literal brace as %%7D)", tmpl, known)
		}
	}
	u, err := url.Parse(Unsubscribe(tmpl, "id", "email"))
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL: give an https:// or mailto: URL", tmpl)
	case u.Scheme == "mailto" && u.Opaque != "":
	case (u.Scheme == "https" || u.Scheme == "http") && u.Host != "":
	default:
		return fmt.Errorf("%q is not an http(s) or mailto URL: give e.g. https://example.com/unsubscribe or mailto:unsubscribe@example.com", tmpl)
	}
	return nil
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
