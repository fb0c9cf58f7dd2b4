package send

import (
	"bufio"
	"fmt"
	"io"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// replyInputs are what a server may answer: one-line replies, replies of
// several lines, other codes than expected, malformed lines, bare LF, a
// line cut by the end of the stream.
var replyInputs = []string{
	"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 4Xyz\r\n",
	"250 Ok\n251 forwarded\n354 go\n",
	"250-first\r\n250-second\r\n250 last\r\n",
	"450 4.2.0 busy\r\n550 5.1.1 no such user\r\n503 bad sequence\r\n",
	"25 short\r\n2500 long\r\nabc not a code\r\n099 too small\r\n+25 sign\r\n",
	"250\r\n250 \r\n250-\r\n250-a\r\n251 b\r\n",
	"354 go ahead\r\n221 bye\r\n",
	"250 cut without a line end",
	"",
	"250 ok\r\r\n250 tab\there\r\n",
	"200 ok\r\n299 ok\r\n199 no\r\n",
}

// replyExpects are the codes the sender expects: any 2xx, 25x, 250, 354.
var replyExpects = []int{2, 25, 250, 354}

// replies reads replies from in with read until an error that is not a
// reply (the end of the stream), expecting expect, and describes each
// reply's text and error.
func replies(in string, expect, size int, oneByte bool, read func(*textproto.Reader, int) (string, error)) (msgs, errs []string) {
	var src io.Reader = strings.NewReader(in)
	if oneByte {
		src = iotest.OneByteReader(src)
	}
	r := textproto.NewReader(bufio.NewReaderSize(src, size))
	for range 20 {
		msg, err := read(r, expect)
		msgs, errs = append(msgs, msg), append(errs, fmt.Sprintf("%T %v", err, err))
		if _, ok := err.(*textproto.Error); err != nil && !ok {
			break
		}
	}
	return msgs, errs
}

// readResponse is textproto's own reading of a reply.
func readResponse(r *textproto.Reader, expect int) (string, error) {
	_, msg, err := r.ReadResponse(expect)
	return msg, err
}

// readCodeOnly is readReplyCode, with the text ReadResponse would give
// left out.
func readCodeOnly(r *textproto.Reader, expect int) (string, error) {
	return "", readReplyCode(r, expect)
}

func checkReplies(t *testing.T, in string, expect int) {
	t.Helper()
	for _, size := range []int{16, 4096} {
		for _, oneByte := range []bool{false, true} {
			wantMsgs, wantErrs := replies(in, expect, size, oneByte, readResponse)
			gotMsgs, gotErrs := replies(in, expect, size, oneByte, readReply)
			if !slices.Equal(gotMsgs, wantMsgs) || !slices.Equal(gotErrs, wantErrs) {
				t.Fatalf("%q expecting %d (buffer %d, one byte a read %v):\nreadReply    %q %q\nReadResponse %q %q",
					in, expect, size, oneByte, gotMsgs, gotErrs, wantMsgs, wantErrs)
			}
			if _, codeErrs := replies(in, expect, size, oneByte, readCodeOnly); !slices.Equal(codeErrs, wantErrs) {
				t.Fatalf("%q expecting %d: readReplyCode %q, ReadResponse %q", in, expect, codeErrs, wantErrs)
			}
		}
	}
}

// TestReadReply: readReply returns what net/textproto's ReadResponse
// returns, reply after reply, errors included, and readReplyCode the same
// errors; a reply it reads itself is one line with the expected code.
func TestReadReply(t *testing.T) {
	for _, in := range replyInputs {
		for _, expect := range replyExpects {
			checkReplies(t, in, expect)
		}
	}
	// A one-line reply with the code expected is read without
	// ReadResponse: what the send path's four replies a message are.
	br := bufio.NewReader(strings.NewReader("250 2.1.0 Ok\r\n250-a\r\n250 b\r\n"))
	if _, err := br.Peek(1); err != nil {
		t.Fatal(err)
	}
	if msg, ok := oneLineReply(br, 250); !ok || string(msg) != "2.1.0 Ok" {
		t.Fatalf("oneLineReply = %q, %v; want the reply", msg, ok)
	}
	if _, ok := oneLineReply(br, 250); ok {
		t.Fatal("oneLineReply read the first line of a reply of two lines")
	}
}

// FuzzReadReply compares readReply with ReadResponse on any input.
func FuzzReadReply(f *testing.F) {
	for _, in := range replyInputs {
		for _, e := range replyExpects {
			f.Add(in, e)
		}
	}
	f.Fuzz(func(t *testing.T, in string, expect int) {
		checkReplies(t, in, expect)
	})
}
