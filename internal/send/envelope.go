package send

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tidings-mail/tidings/internal/address"
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
	wire, utf8Local, err = address.ToWire(addr)
	if err != nil {
		return "", false, fmt.Errorf("%w: %s %q %w", ErrInvalidMessage, field, addr, err)
	}
	return wire, utf8Local, nil
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
// connection without it. The recipient's own address is their message's
// fault (permanent: ErrInvalidMessage); the sender's (From, Reply-To) is
// nobody's, and every recipient's: temporary, as a sender refused at MAIL
// FROM is (Classify), so that the error-rate gate pauses the campaign and
// retry reaches them once the campaign file or the relay is fixed.
func smtputf8Error(p *prepared) error {
	if p.senderUTF8 {
		return fmt.Errorf("%w: the sender's %s has a local part (before the @) that is not ASCII, which only a server offering SMTPUTF8 can carry, and this SMTP server does not offer it: no recipient can be sent; give the campaign a from (and reply_to) with an ASCII local part, or use a relay that offers SMTPUTF8",
			ErrSMTPUTF8Required, p.utf8Addr)
	}
	return fmt.Errorf("%w (%w): %s has a local part (before the @) that is not ASCII, which only a server offering SMTPUTF8 can deliver, and this SMTP server does not offer it",
		ErrInvalidMessage, ErrSMTPUTF8Required, p.utf8Addr)
}

// plainAddress reports whether s is an ASCII addr-spec whose local part and
// domain are both dot-atoms, as nearly every recipient's address is.
// net/mail accepts every such address and reads it back unchanged
// (TestPlainAddress, FuzzPlainAddress), so prepare does not parse it again.
func plainAddress(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && isASCII(s) && address.IsDotAtom(s[:at]) && address.IsDotAtom(s[at+1:])
}
