package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestSendThenWithRealServers: messages sent one write each, the next
// message's MAIL, RCPT and DATA after this one's data and final dot
// (send.Conn.SendThen, RFC 2920 3.1), against servers we did not write:
// postfix's smtp-sink (PIPELINING: chained) and aiosmtpd (the form
// without PIPELINING is used). Each message arrives once, whole, with
// its own Message-ID; the last one, chained and then not sent (the
// connection put back: a pause or shutdown in the worker), never
// arrives whole: the connection is closed without its data or final dot.
func TestSendThenWithRealServers(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		start func(t *testing.T) (mailServer, int)
	}{
		{"smtp-sink", func(t *testing.T) (mailServer, int) { s := startSMTPSink(t); return s, s.Port() }},
		{"aiosmtpd", func(t *testing.T) (mailServer, int) { needAiosmtpd(t); s := startAiosmtpd(t); return s, s.Port() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, port := tt.start(t)
			p := send.NewPool(send.Config{Host: "127.0.0.1", Port: port, TLS: send.TLSNone, HeloName: "test.local", Timeout: 30 * time.Second}, 1)
			defer p.Close()
			var msgs []*send.Message
			for i, text := range []string{"Hello Ann,\n.\nplease register again.\n", "Hallo Zoë,\nbitte neu registrieren.\n", "こんにちは\n", "never sent\n"} {
				msgs = append(msgs, &send.Message{
					From: "Altea <community@altea.example>", To: fmt.Sprintf("r%d@example.org", i),
					Subject: "Welcome back", Text: text, MessageID: fmt.Sprintf("chain.%d@tidings.example", i),
					Date: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC),
				})
			}
			c, err := p.Get(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if err := c.SendThen(t.Context(), msgs[i], msgs[i+1], nil); err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
			}
			p.Put(c) // the fourth's commands went out (with PIPELINING): it is not sent after all
			complete := func() map[string][]string {
				got := map[string][]string{}
				for _, m := range srv.Messages(t) {
					if m.err == nil {
						for _, r := range m.rcpts {
							got[r] = append(got[r], m.header.Get("Message-Id"))
						}
					}
				}
				return got
			}
			wait.For(t, 30*time.Second, "the three messages sent to arrive", func() bool { return len(complete()) >= 3 })
			got := complete()
			for i, m := range msgs {
				want := []string{"<" + m.MessageID + ">"}
				if i == 3 {
					want = nil
				}
				if !slices.Equal(got[m.To], want) {
					t.Errorf("%s received %q, want %q", m.To, got[m.To], want)
				}
			}
		})
	}
}
