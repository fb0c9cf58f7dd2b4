package send

import (
	"errors"
	"fmt"
	"net/textproto"
)

// outOfStepError is a positive reply (1xx, 2xx or 3xx) to a command that
// expects another: under PIPELINING, DATA's 354 read as RCPT's reply, or
// a second reply to a message's end read as the next MAIL's. The session
// is lost: which command a reply answers is unknown, and the relay may be
// reading message data. Conn closes the connection at once (no RSET, which
// such a relay would take as a line of a message) and sends no data on it,
// so nothing was delivered; Classify says temporary, in these words. It
// does not wrap the reply's textproto.Error: on a reused connection's MAIL
// it counts as a closed connection (txError.closing), redialled once.
type outOfStepError struct {
	stage  string // the command whose reply it was taken to be
	expect int    // as readReply's: 250, 25 (any 25x) or 354
	code   int
	msg    string
}

func (e *outOfStepError) Error() string {
	want := fmt.Sprint(e.expect)
	if e.expect == 25 {
		want = "250, 251 or 252"
	}
	return fmt.Sprintf("the relay answered %s with %d %q where %s was expected: its replies are out of step with the commands (a relay that breaks SMTP, or its PIPELINING); the connection was closed before any message data, nothing was sent",
		e.stage, e.code, e.msg, want)
}

// replyError is the error of a command at stage whose reply, expected to
// be expect, failed with err: out of step (the connection then closed) or
// as it came.
func (c *Conn) replyError(stage string, expect int, err error) *txError {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code/100 >= 1 && te.Code/100 <= 3 {
		c.drop()
		return &txError{stage, &outOfStepError{stage: stage, expect: expect, code: te.Code, msg: te.Msg}}
	}
	return &txError{stage, err}
}
