package send

import (
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tidings-mail/tidings/internal/oneline"
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
// List-Unsubscribe. The value is text: it is cleaned of control characters
// and written as RFC 2047 encoded-words when it is not plain ASCII or looks
// like one. List-Unsubscribe is the exception: its value is one URI, or URIs
// in angle brackets separated by commas (RFC 2369); characters a URI may not
// hold are percent-encoded, and when one URI is https the message also gets
// List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058).
type Header struct{ Name, Value string }

// ErrInvalidMessage is wrapped by every error about the message itself (bad
// address, forbidden header name). Such errors are permanent.
var ErrInvalidMessage = errors.New("invalid message")

// reserved headers are set from Message fields only.
var reserved = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "reply-to": true, "sender": true,
	"subject": true, "date": true, "message-id": true, "mime-version": true,
	"content-type": true, "content-transfer-encoding": true, "return-path": true,
	"list-unsubscribe-post": true,
}

// isReserved reports whether reserved holds the valid field name n in
// lower case, as strings.ToLower writes it (n is ASCII: validFieldName),
// without making the lower-case string.
func isReserved(n string) bool {
	var buf [32]byte
	if len(n) > len(buf) {
		return reserved[strings.ToLower(n)]
	}
	b := buf[:len(n)]
	for i := range len(n) {
		c := n[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return reserved[string(b)]
}

// clean makes s one line of a header value (oneline.Of): control
// characters, CR and LF included, and line separators become a space (one
// per run), invalid UTF-8 is replaced and surrounding white space trimmed;
// the rest stays as written, runs of spaces and Unicode spaces (U+00A0,
// U+202F, U+3000) included, which the header writer carries as they are.
// render makes every subject with the same function, so the subject a
// preview shows is the one sent.
func clean(s string) string { return oneline.Of(s) }

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

// mailbox is an address as written in a header: the cleaned display name,
// the address in its wire form (see wireAddress) and that address as the
// envelope and the header write it between angle brackets, bracketed
// (bracketAddr: addr itself unless its local part must be quoted; made
// once, for both).
type mailbox struct{ name, addr, bracketed string }

// prepared is a validated and sanitised Message, ready to be written.
type prepared struct {
	from, to mailbox
	replyTo  mailbox // addr "" when there is none
	utf8Addr string  // the first address that needs SMTPUTF8, "" when none does
	// senderUTF8 is set when From or Reply-To needs SMTPUTF8: a server
	// without it refuses every recipient, none by their own fault.
	senderUTF8 bool
	subject    string // cleaned, not yet encoded
	// subjectField is the whole Subject field of subject (subjectOf).
	subjectField []byte
	date         time.Time
	messageID    string   // without angle brackets; "" to generate one
	headers      []Header // names valid, values cleaned; m.Headers order
	// unsubscribe holds the List-Unsubscribe URIs, sanitised (cleanURI);
	// oneClick is set when one of them is https (RFC 8058).
	unsubscribe []string
	oneClick    bool
	text, html  string
}

// prepare validates m and sanitises every header value. Every error wraps
// ErrInvalidMessage.
func prepare(m *Message) (prepared, error) { return prepareInto(m, nil, nil) }

// prepareInto is prepare with room for the prepared headers and the
// List-Unsubscribe URIs (their lengths do not matter): a connection gives
// its last message's, so that a message allocates neither (SendChecked).
func prepareInto(m *Message, headers []Header, uris []string) (prepared, error) {
	p := prepared{unsubscribe: uris[:0]}
	var err error
	if p.from, err = p.sender("from", m.From, &lastFrom); err != nil {
		return p, err
	}

	to := strings.TrimSpace(m.To)
	if to == "" || strings.ContainsAny(to, "\r\n<>,;\" \t") {
		return p, fmt.Errorf("%w: recipient %q is not a bare address", ErrInvalidMessage, m.To)
	}
	if !plainAddress(to) {
		ta, err := netmail.ParseAddress(to)
		if err != nil || ta.Address != to {
			return p, fmt.Errorf("%w: recipient %q is not a valid address", ErrInvalidMessage, m.To)
		}
	}
	if p.to, err = p.wireMailbox("recipient", clean(m.ToName), to); err != nil {
		return p, err
	}

	if m.ReplyTo != "" {
		if p.replyTo, err = p.sender("reply-to", m.ReplyTo, &lastReplyTo); err != nil {
			return p, err
		}
	}

	sf := subjectOf(m.Subject)
	p.subject, p.subjectField = sf.clean, sf.field
	p.date = m.Date
	if p.date.IsZero() {
		p.date = time.Now()
	}
	p.messageID = strings.Trim(strings.TrimSpace(m.MessageID), "<>")
	if p.messageID != "" && !validMessageID(p.messageID) {
		return p, fmt.Errorf("%w: message id %q: use printable ASCII of the form left@right", ErrInvalidMessage, m.MessageID)
	}

	p.headers = headers[:0]
	if cap(p.headers) < len(m.Headers) {
		p.headers = make([]Header, 0, len(m.Headers))
	}
	for _, h := range m.Headers {
		if !validFieldName(h.Name) {
			return p, fmt.Errorf("%w: header name %q", ErrInvalidMessage, h.Name)
		}
		if isReserved(h.Name) {
			return p, fmt.Errorf("%w: header %s is set from the message fields", ErrInvalidMessage, h.Name)
		}
		if strings.EqualFold(h.Name, "list-unsubscribe") {
			if err := p.addUnsubscribe(h.Value); err != nil {
				return p, err
			}
			continue
		}
		p.headers = append(p.headers, Header{Name: h.Name, Value: clean(h.Value)})
	}
	p.text, p.html = m.Text, m.HTML
	return p, nil
}

// parsedSender is a From or Reply-To value and its parse.
type parsedSender struct {
	in       string
	mb       mailbox
	utf8Addr string
}

// lastFrom and lastReplyTo remember the last From and Reply-To parsed: a
// campaign sends every message from the same sender, and parsing it costs
// more than the rest of prepare.
var lastFrom, lastReplyTo atomic.Pointer[parsedSender]

// sender parses and converts a From or Reply-To value, "Name <addr>" or
// "addr", using and updating the cache last.
func (p *prepared) sender(field, s string, last *atomic.Pointer[parsedSender]) (mailbox, error) {
	if c := last.Load(); c != nil && c.in == s {
		if p.utf8Addr == "" {
			p.utf8Addr = c.utf8Addr
		}
		p.senderUTF8 = p.senderUTF8 || c.utf8Addr != ""
		return c.mb, nil
	}
	a, err := parseMailbox(field, s)
	if err != nil {
		return mailbox{}, err
	}
	var one prepared
	mb, err := one.wireMailbox(field, a.Name, a.Address)
	if err != nil {
		return mailbox{}, err
	}
	last.Store(&parsedSender{in: s, mb: mb, utf8Addr: one.utf8Addr})
	if p.utf8Addr == "" {
		p.utf8Addr = one.utf8Addr
	}
	p.senderUTF8 = p.senderUTF8 || one.utf8Addr != ""
	return mb, nil
}

// wireMailbox converts addr to its wire form and notes whether it needs
// SMTPUTF8.
func (p *prepared) wireMailbox(field, name, addr string) (mailbox, error) {
	wire, utf8Local, err := wireAddress(field, addr)
	if err != nil {
		return mailbox{}, err
	}
	if utf8Local && p.utf8Addr == "" {
		p.utf8Addr = field + " " + addr
	}
	return mailbox{name: name, addr: wire, bracketed: bracketAddr(wire)}, nil
}

// addUnsubscribe adds the URIs of a List-Unsubscribe value: URIs in angle
// brackets separated by commas (RFC 2369), or one bare URI.
func (p *prepared) addUnsubscribe(v string) error {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, "<") {
		return p.addURI(v)
	}
	for {
		v = strings.TrimLeft(v, " \t\r\n,")
		if v == "" {
			return nil
		}
		end := strings.IndexByte(v, '>')
		if v[0] != '<' || end < 0 {
			return fmt.Errorf("%w: List-Unsubscribe %q: give URIs in angle brackets, separated by commas", ErrInvalidMessage, v)
		}
		if err := p.addURI(v[1:end]); err != nil {
			return err
		}
		v = v[end+1:]
	}
}

func (p *prepared) addURI(u string) error {
	u = cleanURI(u)
	if u == "" {
		return fmt.Errorf("%w: List-Unsubscribe has an empty URI", ErrInvalidMessage)
	}
	p.unsubscribe = append(p.unsubscribe, u)
	if len(u) > len("https://") && strings.EqualFold(u[:len("https://")], "https://") {
		p.oneClick = true
	}
	return nil
}

// cleanURI makes u safe inside angle brackets in a header: bytes that may
// not appear in a URI (controls, space, non-ASCII, <, >, ", \) are
// percent-encoded (non-ASCII as its UTF-8 bytes, RFC 3987 3.1), and so is
// the ? of "=?", so that no decoder can take part of it for an encoded-word.
func cleanURI(u string) string {
	u = strings.TrimSpace(u)
	var b []byte // nil until a byte needs encoding
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\\' || c == '?' && i > 0 && u[i-1] == '=' {
			if b == nil {
				b = append(make([]byte, 0, len(u)+16), u[:i]...)
			}
			b = append(b, '%', upperHex[c>>4], upperHex[c&0x0f])
			continue
		}
		if b != nil {
			b = append(b, c)
		}
	}
	if b == nil {
		return u
	}
	return string(b)
}

// validMessageID reports whether id (without brackets) can be a Message-ID:
// printable ASCII of the form left@right, on one header line (RFC 5322
// 2.1.1: at most 998 bytes; a Message-ID cannot be folded). A campaign's
// longest (a 63-byte name, a 251-byte sender domain) is 334.
func validMessageID(id string) bool {
	at := strings.IndexByte(id, '@')
	if at <= 0 || at == len(id)-1 || len("Message-ID: <>")+len(id) > 998 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !idByte[id[i]] {
			return false
		}
	}
	return true
}

// idByte holds the bytes a Message-ID may have: printable ASCII but '<',
// '>', '"' and '\\' (one lookup per byte of every message's id;
// FuzzValidMessageID compares it with the comparisons it replaced).
var idByte = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = c != '<' && c != '>' && c != '"' && c != '\\'
	}
	return t
}()
