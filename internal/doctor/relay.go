package doctor

import (
	"context"
	"fmt"
	netmail "net/mail"
	"strconv"
	"strings"

	"github.com/tidings-mail/tidings/internal/address"
	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/plan"
)

// extensionChecks says what the relay's EHLO extensions ext (those of
// send.RelayExtensions it announced, after STARTTLS) mean for the mail
// tidings sends, one check each: SMTPUTF8 (its absence is a warning:
// some recipients could fail for good), 8BITMIME, SIZE (the limit of a
// message) and PIPELINING (their absence costs bytes or time, nothing
// else). STARTTLS is the starttls step's.
func extensionChecks(ext map[string]string) []Check {
	has := func(k string) bool { _, ok := ext[k]; return ok }
	var out []Check
	if has("SMTPUTF8") {
		out = append(out, pass("smtp smtputf8", "offered: a recipient whose address has a local part (before the @) that is not ASCII (jösé@example.com) can be delivered"))
	} else {
		out = append(out, warn("smtp smtputf8", noSMTPUTF8+"; the plan of a campaign counts such recipients, and so does doctor given the campaign"))
	}
	if has("8BITMIME") {
		out = append(out, pass("smtp 8bitmime", "offered: text and HTML go as 8bit where they can"))
	} else {
		out = append(out, pass("smtp 8bitmime", "not offered: text and HTML go as quoted-printable or base64 instead of 8bit, which every mail program reads; messages are larger on the wire, nothing else changes"))
	}
	size, sized := ext["SIZE"]
	n, err := strconv.ParseInt(size, 10, 64)
	switch {
	case !sized:
		out = append(out, pass("smtp size", "no limit announced: a message over a limit the relay keeps to itself is refused for good, only once it has been sent whole (552)"))
	case err != nil || n <= 0:
		out = append(out, pass("smtp size", "announced without a limit"))
	default:
		out = append(out, pass("smtp size", fmt.Sprintf("the relay takes messages of up to %s: a larger message is refused for good (552); a tidings message is text and HTML, without attachments", bytesText(n))))
	}
	if has("PIPELINING") {
		out = append(out, pass("smtp pipelining", "offered: MAIL, RCPT and DATA of a message go out together, one round trip"))
	} else {
		out = append(out, pass("smtp pipelining", "not offered: each command waits for the relay's reply, so a distant relay takes fewer messages a second on each connection; nothing else changes"))
	}
	return out
}

// noSMTPUTF8 is what a relay without SMTPUTF8 means.
const noSMTPUTF8 = "not offered: a recipient whose address has a local part (before the @) that is not ASCII (jösé@example.com) fails for good, and a campaign whose from or reply_to has one sends nothing"

// campaignSMTPUTF8 says, for a relay without SMTPUTF8, whether the
// recipients of b need it: the plan of its recipients file for e counts
// them (plan.Summary.SMTPUTF8). ok is false when that is not known (no
// recipients file): the check without the campaign stands.
func campaignSMTPUTF8(ctx context.Context, b *bundle.Bundle, e *environment.Environment) (c Check, ok bool) {
	if field, addr := senderNeedsSMTPUTF8(b.Campaign); field != "" {
		return fail("smtp smtputf8", fmt.Sprintf("not offered, and the campaign's %s (%s) has a local part (before the @) that is not ASCII: no message of the campaign can be sent through this relay; give the campaign a %s with an ASCII local part, or use a relay that offers SMTPUTF8", field, addr, field)), true
	}
	sum, err := b.Plan(ctx, e, nil)
	switch {
	case err != nil:
		return warn("smtp smtputf8", fmt.Sprintf("%s; whether the campaign's recipients need it is not known: %v", noSMTPUTF8, err)), true
	case sum == nil:
		return Check{}, false
	}
	return utf8Need(sum.File, sum.SMTPUTF8), true
}

// utf8Need is the check of a relay without SMTPUTF8 for a campaign whose
// recipients file (file) has u's rows that need it.
func utf8Need(file string, u plan.SMTPUTF8Rows) Check {
	if u.Count == 0 {
		return pass("smtp smtputf8", "not offered; no accepted recipient of the campaign needs it: every address's local part (before the @) is ASCII")
	}
	return warn("smtp smtputf8", fmt.Sprintf("not offered, and %s an address whose local part (before the @) is not ASCII (the first: %s:%d: %s): each fails for good, which counts toward the batch gate and may pause the campaign; use a relay that offers SMTPUTF8, or send them through another relay that does",
		plan.CountOf(u.Count, "accepted recipient of the campaign has", "accepted recipients of the campaign have"), file, u.Line, u.Email))
}

// senderNeedsSMTPUTF8 names the first of c's from and reply_to whose
// address has a local part that is not ASCII (address.ToWire), with that
// address: the sender refuses every message of such a campaign to a relay
// without SMTPUTF8. "" when neither has.
func senderNeedsSMTPUTF8(c *campaign.Campaign) (field, addr string) {
	for _, f := range []struct{ name, value string }{{"from", c.From}, {"reply_to", c.ReplyTo}} {
		a, err := netmail.ParseAddress(f.value)
		if err != nil {
			continue
		}
		if _, utf8, err := address.ToWire(a.Address); err == nil && utf8 {
			return f.name, a.Address
		}
	}
	return "", ""
}

// bytesText is n bytes as a person reads it: "10 MiB (10485760 bytes)".
func bytesText(n int64) string {
	if n < 1<<10 {
		return fmt.Sprintf("%d bytes", n)
	}
	unit, div := "KiB", float64(1<<10)
	if n >= 1<<20 {
		unit, div = "MiB", 1<<20
	}
	v := strings.TrimSuffix(strconv.FormatFloat(float64(n)/div, 'f', 1, 64), ".0")
	return fmt.Sprintf("%s %s (%d bytes)", v, unit, n)
}
