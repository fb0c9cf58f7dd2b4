package send_test

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/rawsmtp"
	"github.com/tidings-mail/tidings/internal/send"
)

// TestTarpitTimesOutInWords: a relay that holds RCPT without answering
// (a tarpit) costs each attempt Config.Timeout, then a temporary failure
// (nothing was sent) that says what the relay did; and the same failure
// on two connections reads the same, so that status, which groups recent
// errors by their text, shows one line for it and not one per local port
// ("read tcp 127.0.0.1:59932->...").
func TestTarpitTimesOutInWords(t *testing.T) {
	t.Parallel()
	held := make(chan struct{})
	t.Cleanup(func() { close(held) })
	relay := rawsmtp.Start(t, rawsmtp.Options{Reply: func(cmd string) (string, bool) {
		if strings.HasPrefix(cmd, "RCPT") {
			<-held // answers when the test ends
			return "250 2.1.5 Ok\r\n", false
		}
		return "", false
	}})
	p := newPool(t, relay.Config(), 1)
	send.DisablePipelining(p)
	var msgs []string
	for _, to := range []string{"jane@example.org", "joe@example.org"} {
		err := getAndSend(t, p, sampleMessage(to))
		temporarySaying(t, err, "RCPT TO", "timed out waiting for the relay")
		msgs = append(msgs, send.Classify(err).Msg)
	}
	if msgs[0] != msgs[1] {
		t.Errorf("one failure, two texts (status would list it twice):\n%s\n%s", msgs[0], msgs[1])
	}
	if relay.Accepted() != 0 {
		t.Errorf("relay read %d messages", relay.Accepted())
	}
}
