package send_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/rawsmtp"
	"github.com/tidings-mail/tidings/internal/send"
)

// TestRepliesSplitAnywhere: a relay that writes its replies a byte at a
// time (each reply split across packets anywhere, multi-line ones too):
// every reply is read whole, as the relay meant it, with and without
// PIPELINING: accepted messages are sent once with the relay's whole
// multi-line reply, and a split 550 5.1.1 to RCPT fails its recipient for
// good with that code, nothing sent.
func TestRepliesSplitAnywhere(t *testing.T) {
	t.Parallel()
	for _, pipelining := range []bool{true, false} {
		t.Run(fmt.Sprintf("pipelining %t", pipelining), func(t *testing.T) {
			t.Parallel()
			relay := rawsmtp.Start(t, rawsmtp.Options{
				Dribble: true,
				Final:   func() (string, bool) { return "250-2.0.0 Ok\r\n250 2.0.0 queued as 4BX2\r\n", false },
				Reply: func(cmd string) (string, bool) {
					if strings.HasPrefix(cmd, "RCPT TO:<nobody@") {
						return "550-5.1.1 <nobody@example.org>:\r\n550 5.1.1 no such user\r\n", false
					}
					return "", false
				},
			})
			c := relayConn(t, relay, pipelining)
			want := map[string]int{}
			for i := range 4 {
				to := fmt.Sprintf("u%d@example.org", i)
				if err := c.Send(t.Context(), sampleMessage(to)); err != nil {
					t.Errorf("send to %s: %v", to, err)
				} else if r := c.Response(); r != "2.0.0 Ok\n2.0.0 queued as 4BX2" {
					t.Errorf("send to %s: response %q, want the whole reply", to, r)
				}
				want[to] = 1
				err := c.Send(t.Context(), sampleMessage("nobody@example.org"))
				if ce := send.Classify(err); ce == nil || ce.Temporary || ce.InDoubt || ce.Code != 550 || ce.Enhanced != "5.1.1" {
					t.Errorf("send to nobody: %v (%+v), want failed for good, 550 5.1.1", err, ce)
				}
			}
			if got := relay.Received(); !maps.Equal(got, want) {
				t.Errorf("relay received %v, want %v", got, want)
			}
		})
	}
}
