package send_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/rawsmtp"
	"github.com/tidings-mail/tidings/internal/send"
)

// TestRepliesOutOfStep: a relay whose replies are out of step with the
// commands (under PIPELINING: DATA's 354 before RCPT's 250; or a second
// reply to the end of a message, which the next message's MAIL would take
// as its own). A positive reply where another was expected says the
// session is lost: the connection is closed at once, without RSET (a
// relay that went on to read message data would take the RSET as a line
// of it) and before any message data; the recipient fails for now
// (temporary, nothing was sent) with words that say what the relay did,
// not a "failure" of code 250. A reply left over after a message's own
// reply closes the connection too (the message stays sent), so the next
// message goes on a new connection and is sent. Nobody gets two.
func TestRepliesOutOfStep(t *testing.T) {
	t.Parallel()
	for _, pipelining := range []bool{true, false} {
		name := "without PIPELINING"
		if pipelining {
			name = "with PIPELINING"
		}
		t.Run("354 before RCPT's reply, "+name, func(t *testing.T) {
			t.Parallel()
			relay := rawsmtp.Start(t, rawsmtp.Options{Reply: func(cmd string) (string, bool) {
				switch {
				case strings.HasPrefix(cmd, "RCPT"):
					return "354 End data with <CR><LF>.<CR><LF>\r\n", false
				case cmd == "DATA":
					return "250 2.1.5 Ok\r\n", false
				}
				return "", false
			}})
			p := newPool(t, relay.Config(), 1)
			if !pipelining {
				send.DisablePipelining(p)
			}
			err := sendOne(t, p, sampleMessage("jane@example.org"))
			temporarySaying(t, err, "RCPT TO", "354", "out of step", "nothing was sent")
			if slices.Contains(relay.Commands(), "RSET") {
				t.Errorf("relay received RSET after replies out of step: %q", relay.Commands())
			}
			if relay.Accepted() != 0 {
				t.Errorf("relay read %d messages, want none", relay.Accepted())
			}
		})
		t.Run("two replies to the end of data, "+name, func(t *testing.T) {
			t.Parallel()
			relay := rawsmtp.Start(t, rawsmtp.Options{Final: func() (string, bool) {
				return "250 2.0.0 Ok: queued as 4BX2\r\n250 2.0.0 Ok: queued as 4BX2\r\n", false
			}})
			c := relayConn(t, relay, pipelining)
			for _, to := range []string{"jane@example.org", "joe@example.org", "ann@example.org"} {
				if err := c.Send(t.Context(), sampleMessage(to)); err != nil {
					t.Errorf("send to %s: %v", to, err)
				}
			}
			want := map[string]int{"jane@example.org": 1, "joe@example.org": 1, "ann@example.org": 1}
			if got := relay.Received(); !maps.Equal(got, want) {
				t.Errorf("relay received %v, want %v", got, want)
			}
		})
	}
}

// relayConn returns a connection to relay, pipelining or not, put back
// when the test ends.
func relayConn(t *testing.T, relay *rawsmtp.Relay, pipelining bool) *send.Conn {
	t.Helper()
	p := newPool(t, relay.Config(), 1)
	if !pipelining {
		send.DisablePipelining(p)
	}
	c, err := p.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Put(c) })
	return c
}
