package send

import (
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ErrSMTPUTF8Required is wrapped (with ErrInvalidMessage) by the error of a
// message that cannot go through the connection it was sent on: an address
// has a non-ASCII local part (the part before the @), which only a server
// offering SMTPUTF8 (RFC 6531) can carry, and the server does not offer it.
// Classify reports it as permanent.
var ErrSMTPUTF8Required = errors.New("SMTPUTF8 required")

// wireAddress returns addr as it goes into the envelope and the address
// headers: the domain as an A-label (IDNA, lookup profile: "bücher.example"
// becomes "xn--bcher-kva.example"), the local part unchanged. utf8 reports
// a non-ASCII local part, which needs SMTPUTF8. An all-ASCII domain is kept
// as it is (IDNA would refuse, for example, an underscore that a mail server
// accepts). field names the address in the error, which wraps
// ErrInvalidMessage.
func wireAddress(field, addr string) (wire string, utf8Local bool, err error) {
	wire, utf8Local, err = toWire(addr)
	if err != nil {
		return "", false, fmt.Errorf("%w: %s %q %w", ErrInvalidMessage, field, addr, err)
	}
	return wire, utf8Local, nil
}

// toWire is wireAddress without the field: its error is a predicate of the
// address ("has ...: what to do"), to follow the address as written.
func toWire(addr string) (wire string, utf8Local bool, err error) {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "", false, errors.New("has no local part or no domain: write local-part@domain")
	}
	local, domain := addr[:at], addr[at+1:]
	if !isASCII(domain) {
		a, err := idna.Lookup.ToASCII(domain)
		if err != nil {
			return "", false, fmt.Errorf("has a domain that is not a valid internationalised domain name (%w): correct the domain (in a domain with accents, only letters, digits and '-' between the dots)", err)
		}
		domain = a
	}
	// RFC 5321 4.5.3.1: a local part of at most 64 octets, a path of at
	// most 256 (the address and its brackets).
	if len(local) > 64 {
		return "", false, fmt.Errorf("has %d bytes before the @, more than SMTP allows (64): use a shorter address", len(local))
	}
	if n := len(local) + 1 + len(domain); n > 254 {
		return "", false, fmt.Errorf("is %d bytes long, more than SMTP allows (254): use a shorter address", n)
	}
	return local + "@" + domain, !isASCII(local), nil
}

// CheckMailbox reports whether s, a sender as a campaign writes its from or
// reply_to ("Name <address>" or "address"), can go on every message: an
// RFC 5322 address that SMTP can carry, with a local part of at most 64
// bytes and a domain IDNA accepts. NewComposer refuses what it refuses.
// The error begins with s, quoted, and says what to do.
func CheckMailbox(s string) error {
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return fmt.Errorf("%q is not an RFC 5322 address: write name <address> or just the address", s)
	}
	if _, _, err := toWire(a.Address); err != nil {
		return fmt.Errorf("%q %w", s, err)
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// smtputf8Error explains why a message needing SMTPUTF8 cannot be sent on a
// connection without it.
func smtputf8Error(p *prepared) error {
	return fmt.Errorf("%w (%w): %s has a local part (before the @) that is not ASCII, which only a server offering SMTPUTF8 can deliver, and this SMTP server does not offer it",
		ErrInvalidMessage, ErrSMTPUTF8Required, p.utf8Addr)
}
