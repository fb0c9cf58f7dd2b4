package send

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"regexp"
	"strings"
	"syscall"
)

// Error is a classified send failure, for the ledger and the retry decision.
type Error struct {
	Code      int    // SMTP reply code, 0 when the server did not answer
	Enhanced  string // RFC 3463 enhanced status code, e.g. "5.1.1", when given
	Temporary bool   // retry later (4xx, connection trouble); false: never retry
	Msg       string // the server's reply text, or a description of the failure
	// InDoubt is set when the whole message was sent but no final reply
	// came: the server may have delivered it. It is not Temporary: retrying
	// could deliver the message twice; record it as in doubt instead.
	InDoubt bool
}

// Error returns "smtp 550 5.1.1: no such user", or Msg alone when there is
// no SMTP code.
func (e *Error) Error() string {
	switch {
	case e.Code == 0:
		return e.Msg
	case e.Enhanced != "":
		return fmt.Sprintf("smtp %d %s: %s", e.Code, e.Enhanced, e.Msg)
	default:
		return fmt.Sprintf("smtp %d: %s", e.Code, e.Msg)
	}
}

var enhancedRE = regexp.MustCompile(`^([245]\.\d{1,3}\.\d{1,3})\s*`)

// Classify turns an error from Pool.Get or Conn.Send into an *Error (nil for
// nil):
//   - an SMTP reply in the 4xx range is temporary, 5xx permanent;
//   - failures to connect, log in or start TLS, and replies to MAIL FROM,
//     are temporary whatever their code: they are about the sender, not the
//     recipient, and the campaign's error-rate gate pauses the campaign when
//     they persist;
//   - dropped connections, timeouts, refused connections and a cancelled
//     context before the end of the message data are temporary (go-mail
//     reports a dropped connection with code 0 and as not temporary;
//     tidings retries it);
//   - a positive reply where another was expected (the relay's replies
//     out of step with the commands) is temporary: the connection was
//     closed before any message data (outOfStepError);
//   - no reply after the complete message was sent, or a reply that is
//     neither 2xx, 4xx nor 5xx, is InDoubt, not Temporary (see Conn.Send);
//   - an invalid message (ErrInvalidMessage) or configuration (ErrConfig) is
//     permanent;
//   - anything else is temporary, so that no recipient is failed for good
//     by an error nobody understood; retries are bounded by the worker.
func Classify(err error) *Error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	if errors.Is(err, ErrInvalidMessage) || errors.Is(err, ErrConfig) {
		return &Error{Msg: err.Error()}
	}
	var de *dialError
	var tx *txError
	isTx := errors.As(err, &tx)
	// Not the recipient's fault: the connection set-up, and MAIL FROM,
	// which is about the sender (530 authentication required, 550 sender
	// rejected). Permanent would fail every recipient for good; temporary
	// retries them and lets the error-rate gate pause the campaign.
	senderSide := errors.As(err, &de) || (isTx && tx.stage == stageMail)
	if oe := (*outOfStepError)(nil); errors.As(err, &oe) {
		return &Error{Msg: oe.Error(), Temporary: true}
	}
	if isTx && tx.inDoubt() {
		return &Error{InDoubt: true, Msg: "no reply after the message was sent, it may have been delivered: " + describe(tx.err)}
	}
	var te *textproto.Error
	if errors.As(err, &te) && isTx && tx.stage == stageReply && te.Code/100 != 4 && te.Code/100 != 5 {
		// Neither success nor failure after the whole message: the relay
		// may have taken it, and a retry could deliver it twice.
		return &Error{Code: te.Code, InDoubt: true, Msg: fmt.Sprintf("the reply to the message was %d %q, neither success nor failure: it may have been delivered", te.Code, strings.TrimSpace(te.Msg))}
	}
	if errors.As(err, &te) {
		e := &Error{Code: te.Code, Msg: strings.TrimSpace(te.Msg), Temporary: te.Code/100 != 5 || senderSide}
		if m := enhancedRE.FindStringSubmatch(e.Msg); m != nil {
			e.Enhanced = m[1]
			e.Msg = strings.TrimSpace(e.Msg[len(m[0]):])
		}
		return e
	}
	msg := describe(err)
	if isTx {
		msg = tx.stage + ": " + describe(tx.err)
	}
	return &Error{Msg: msg, Temporary: true}
}

// describe gives a short reason for a failure without an SMTP reply, in
// the same words on every connection: status groups recent errors by
// their text, and a local address (its port differs per connection)
// would make one failure as many lines as connections (stableText).
func describe(err error) string {
	var ne net.Error
	text := stableText(err)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "cancelled or timed out: " + text
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused: " + text
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return "connection dropped: " + text
	case errors.As(err, &ne) && ne.Timeout():
		return "timed out waiting for the relay (slow, or holding the connection): " + text
	}
	return text
}

// stableText is err's text with the local address of a *net.OpError
// left out ("read tcp 127.0.0.1:45561: i/o timeout", not "read tcp
// 127.0.0.1:58538->127.0.0.1:45561: ...").
func stableText(err error) string {
	text := err.Error()
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Source != nil {
		local := *oe
		local.Source = nil
		text = strings.Replace(text, oe.Error(), local.Error(), 1)
	}
	return text
}
