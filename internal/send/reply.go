package send

import (
	"bufio"
	"bytes"
	"net/textproto"
)

// Replies are read as net/textproto's ReadResponse reads them, which makes
// two strings of every reply line (the line, then the text past the code)
// and parses the code with strconv: four replies for every message. A
// reply of one line ("250 2.1.0 Ok\r\n") whose code is the one expected
// is read here from the connection's buffer instead, without making a
// string the caller does not keep; anything else (a reply of several
// lines, another code, a malformed line, a line not yet wholly buffered)
// is left in the buffer for ReadResponse, which reads and reports it as it
// always did. TestReadReply and FuzzReadReply compare the two.

// readReply reads one reply expecting expect (as ReadResponse: 2 means any
// 2xx, 25 any 25x, 250 exactly 250) and returns its text as ReadResponse
// does.
func readReply(r *textproto.Reader, expect int) (string, error) {
	msg, ok, err := nextOneLineReply(r, expect)
	if err != nil || ok {
		return string(msg), err
	}
	_, text, err := r.ReadResponse(expect)
	return text, err
}

// readReplyCode is readReply for a caller that needs only to know the
// reply was the one expected: a one-line reply makes no string.
func readReplyCode(r *textproto.Reader, expect int) error {
	_, ok, err := nextOneLineReply(r, expect)
	if err != nil || ok {
		return err
	}
	_, _, err = r.ReadResponse(expect)
	return err
}

// nextOneLineReply waits for the next reply and consumes it when it is one
// whole line with the code expected (oneLineReply). A failed wait is the
// error ReadResponse would return, having made the same read.
func nextOneLineReply(r *textproto.Reader, expect int) ([]byte, bool, error) {
	if r.R.Buffered() == 0 {
		if _, err := r.R.Peek(1); err != nil {
			return nil, false, err
		}
	}
	msg, ok := oneLineReply(r.R, expect)
	return msg, ok, nil
}

// oneLineReply consumes the reply at the start of br's buffer and returns
// its text (valid until br's next read) if it is one whole line "ddd
// text" whose code ddd is the one expected; otherwise it consumes nothing.
func oneLineReply(br *bufio.Reader, expect int) ([]byte, bool) {
	buf, _ := br.Peek(br.Buffered())
	n := bytes.IndexByte(buf, '\n')
	if n < 0 {
		return nil, false
	}
	line := buf[:n]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) < 4 || line[3] != ' ' {
		return nil, false
	}
	code := 0
	for _, c := range line[:3] {
		if c < '0' || c > '9' {
			return nil, false
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 || !codeExpected(code, expect) {
		return nil, false
	}
	msg := line[4:]
	if _, err := br.Discard(n + 1); err != nil {
		return nil, false // not reached: the line is buffered
	}
	return msg, true
}

// codeExpected is ReadResponse's test of code against expect: its first
// digit (1-9), first two (10-99) or the whole code (100-999); any code for
// another expect.
func codeExpected(code, expect int) bool {
	switch {
	case 1 <= expect && expect < 10:
		return code/100 == expect
	case 10 <= expect && expect < 100:
		return code/10 == expect
	case 100 <= expect && expect < 1000:
		return code == expect
	}
	return true
}
