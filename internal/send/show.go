package send

import (
	"bytes"
	"fmt"
	"mime"
	netmail "net/mail"
	"strings"

	"golang.org/x/net/idna"
)

// Shown is what a mail client shows of the header fields QA signs off, read
// from the message as it goes on the wire.
type Shown struct {
	Subject string
	// From, ReplyTo and To are "Name <addr>" or "addr": the display name
	// decoded, the address as on the wire, followed by the domain's Unicode
	// form in parentheses when the wire has it in A-labels
	// ("<ana@xn--bcher-kva.example> (bücher.example)"). ReplyTo is "" when
	// the message has none.
	From, ReplyTo, To string
	// ListUnsubscribe is the field's URIs in angle brackets, without the
	// folds the writer put inside the brackets; "" when the message has none.
	ListUnsubscribe string
}

// Show reads the header of eml, a message as Message.WriteTo writes it, as a
// mail client does: net/mail unfolds and parses the fields and
// mime.WordDecoder decodes the RFC 2047 encoded-words. A gallery that shows
// these values shows what is sent by construction.
func Show(eml []byte) (Shown, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(eml))
	if err != nil {
		return Shown{}, fmt.Errorf("read the message's header: %w", err)
	}
	h := msg.Header
	var s Shown
	if s.Subject, err = new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); err != nil {
		return Shown{}, fmt.Errorf("decode the Subject: %w", err)
	}
	for _, f := range []struct {
		name string
		to   *string
	}{{"From", &s.From}, {"Reply-To", &s.ReplyTo}, {"To", &s.To}} {
		v := h.Get(f.name)
		if v == "" {
			continue
		}
		a, err := netmail.ParseAddress(v)
		if err != nil {
			return Shown{}, fmt.Errorf("parse %s %q: %w", f.name, v, err)
		}
		*f.to = showAddress(a)
	}
	s.ListUnsubscribe = unfoldURIs(h.Get("List-Unsubscribe"))
	return s, nil
}

// showAddress is a "Name <addr>" or "addr", the domain's Unicode form added
// when addr has it in A-labels.
func showAddress(a *netmail.Address) string {
	s := a.Address
	if a.Name != "" {
		s = a.Name + " <" + a.Address + ">"
	}
	domain := a.Address[strings.LastIndexByte(a.Address, '@')+1:]
	if u, err := idna.Display.ToUnicode(domain); err == nil && u != domain {
		s += " (" + u + ")"
	}
	return s
}

// unfoldURIs drops the white space inside angle brackets, where the writer
// folds a long URI and where it is not part of the URI (RFC 2369 section 2).
func unfoldURIs(v string) string {
	var b strings.Builder
	in := false
	for _, r := range v {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case in && (r == ' ' || r == '\t'):
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
