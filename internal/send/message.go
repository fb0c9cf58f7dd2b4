package send

import (
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Message is one mail to one recipient.
type Message struct {
	From      string // "Name <addr>" or "addr"
	ReplyTo   string // optional, same forms as From
	To        string // bare address
	ToName    string // display name of To; RFC 2047 encoded when needed
	Subject   string
	Text      string // text/plain part
	HTML      string // text/html part; with Text the mail is multipart/alternative
	MessageID string // without angle brackets, e.g. "c.42@tidings.example"; generated when empty
	Date      time.Time
	Headers   []Header
}

// Header is an additional header such as X-Tidings-Campaign or
// List-Unsubscribe. The value is cleaned of control characters and encoded
// when it is not ASCII.
type Header struct{ Name, Value string }

// ErrInvalidMessage is wrapped by every error about the message itself (bad
// address, forbidden header name). Such errors are permanent.
var ErrInvalidMessage = errors.New("invalid message")

// reserved headers are set from Message fields only.
var reserved = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "reply-to": true, "sender": true,
	"subject": true, "date": true, "message-id": true, "mime-version": true,
	"content-type": true, "content-transfer-encoding": true, "return-path": true,
}

// clean makes s safe as (part of) a header value: control characters, CR and
// LF included, become spaces, runs of white space collapse, and invalid UTF-8
// is replaced.
func clean(s string) string {
	if isClean(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

func isClean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c >= utf8.RuneSelf {
			return false
		}
	}
	return !strings.Contains(s, "  ") && strings.TrimSpace(s) == s
}

func validFieldName(n string) bool {
	if n == "" || len(n) > 76 {
		return false
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// parseMailbox parses "Name <addr>" or "addr" and cleans the display name.
func parseMailbox(field, s string) (*netmail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("%w: %s contains a line break", ErrInvalidMessage, field)
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %q: %w", ErrInvalidMessage, field, s, err)
	}
	a.Name = clean(a.Name)
	return a, nil
}

// envelope is the SMTP envelope of a message: the arguments of MAIL FROM
// and RCPT TO, in angle brackets.
type envelope struct{ from, to string }

// prepared is a validated and sanitised Message, ready to be written.
type prepared struct {
	env               envelope
	from, to, replyTo *netmail.Address // replyTo may be nil
	subject           string           // cleaned, not yet encoded
	date              time.Time
	messageID         string   // without angle brackets; "" to generate one
	headers           []Header // names valid, values cleaned; m.Headers order
	text, html        string
}

// prepare validates m and sanitises every header value. Every error wraps
// ErrInvalidMessage.
func prepare(m *Message) (prepared, error) {
	var p prepared
	from, err := parseMailbox("from", m.From)
	if err != nil {
		return p, err
	}
	p.from = from
	p.env.from = (&netmail.Address{Address: from.Address}).String()

	to := strings.TrimSpace(m.To)
	if to == "" || strings.ContainsAny(to, "\r\n<>,;\" \t") {
		return p, fmt.Errorf("%w: recipient %q is not a bare address", ErrInvalidMessage, m.To)
	}
	ta, err := netmail.ParseAddress(to)
	if err != nil || ta.Address != to {
		return p, fmt.Errorf("%w: recipient %q is not a valid address", ErrInvalidMessage, m.To)
	}
	ta.Name = clean(m.ToName)
	p.to = ta
	p.env.to = (&netmail.Address{Address: ta.Address}).String()

	if m.ReplyTo != "" {
		rt, err := parseMailbox("reply-to", m.ReplyTo)
		if err != nil {
			return p, err
		}
		p.replyTo = rt
	}

	p.subject = clean(m.Subject)
	p.date = m.Date
	if p.date.IsZero() {
		p.date = time.Now()
	}
	p.messageID = strings.Trim(strings.TrimSpace(m.MessageID), "<>")
	if p.messageID != "" && !validMessageID(p.messageID) {
		return p, fmt.Errorf("%w: message id %q: use printable ASCII of the form left@right", ErrInvalidMessage, m.MessageID)
	}

	if len(m.Headers) > 0 {
		p.headers = make([]Header, len(m.Headers))
	}
	for i, h := range m.Headers {
		if !validFieldName(h.Name) {
			return p, fmt.Errorf("%w: header name %q", ErrInvalidMessage, h.Name)
		}
		if reserved[strings.ToLower(h.Name)] {
			return p, fmt.Errorf("%w: header %s is set from the message fields", ErrInvalidMessage, h.Name)
		}
		p.headers[i] = Header{Name: h.Name, Value: clean(h.Value)}
	}
	p.text, p.html = m.Text, m.HTML
	return p, nil
}

func validMessageID(id string) bool {
	at := strings.IndexByte(id, '@')
	if at <= 0 || at == len(id)-1 || len(id) > 250 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
