package address

import (
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"

	"golang.org/x/net/idna"

	"github.com/tidings-mail/tidings/internal/csvcell"
)

// ToWire returns addr as it goes into the SMTP envelope and the address
// headers: the domain as an A-label (IDNA, lookup profile: "bücher.example"
// becomes "xn--bcher-kva.example"), the local part unchanged; utf8Local
// reports a non-ASCII local part, which needs SMTPUTF8. An all-ASCII domain
// is kept as it is (IDNA would refuse, for example, an underscore that a
// mail server accepts). Its error is a predicate of the address ("has ...:
// what to do"), to follow the address as written.
func ToWire(addr string) (wire string, utf8Local bool, err error) {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "", false, errors.New("has no local part or no domain: write local-part@domain")
	}
	local, domain := addr[:at], addr[at+1:]
	wire = addr // local + "@" + domain, not made again: one allocation a message
	if !isASCII(domain) {
		a, err := idna.Lookup.ToASCII(domain)
		if err != nil {
			return "", false, fmt.Errorf("has a domain that is not a valid internationalised domain name (%w): correct the domain (in a domain with accents, only letters, digits and '-' between the dots)", err)
		}
		domain = a
		wire = local + "@" + domain
	}
	// RFC 5321 4.5.3.1: a local part of at most 64 octets, a path of at
	// most 256 (the address and its brackets).
	if len(local) > 64 {
		return "", false, fmt.Errorf("has %d bytes before the @, more than SMTP allows (64): use a shorter address", len(local))
	}
	if n := len(local) + 1 + len(domain); n > 254 {
		return "", false, fmt.Errorf("is %d bytes long, more than SMTP allows (254): use a shorter address", n)
	}
	return wire, !isASCII(local), nil
}

// CheckMailbox reports whether s, a sender as a campaign writes its from or
// reply_to ("Name <address>" or "address"), can go on every message: an
// RFC 5322 address that SMTP can carry, with a local part of at most 64
// bytes and a domain IDNA accepts (ToWire). The sender package's composer
// refuses what it refuses.
// Its display name holds no direction control (csvcell.DirectionControl),
// which would reorder how every recipient's mail client shows the sender.
// The error begins with s, quoted, and says what to do.
func CheckMailbox(s string) error {
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return fmt.Errorf("%q is not an RFC 5322 address: write name <address> or just the address", s)
	}
	if _, _, err := ToWire(a.Address); err != nil {
		return fmt.Errorf("%q %w", s, err)
	}
	if c, at, ok := csvcell.DirectionControl(a.Name); ok {
		return fmt.Errorf("%q: the display name holds U+%04X (a direction control) at byte %d, which reorders how the sender is shown: remove it; right-to-left names need none", s, c, at)
	}
	return nil
}
