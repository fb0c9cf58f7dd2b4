package send_test

import (
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/rawsmtp"
	"github.com/tidings-mail/tidings/internal/send"
)

// TestFinalReplyOutcomes: what the relay answers to the end of the
// message decides the recipient's outcome (README, Sending semantics, SMTP
// outcomes): 4xx temporary, 5xx permanent, "a connection dropped after the
// whole message was sent but before the reply is in-doubt, never retried";
// the wait for that reply is RFC 5321's 10 minutes (internal/send/pool.go,
// finalReplyTimeout), not the per-command timeout, so a relay that scans
// for longer than the timeout still delivers once. None of these may be a
// temporary failure when the relay may have taken the message: a
// temporary failure is sent again.
func TestFinalReplyOutcomes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		final func() (string, bool)
		want  string // sent, temp, failed, in-doubt
	}{
		{"250 after the command timeout", func() (string, bool) {
			time.Sleep(2500 * time.Millisecond) // Config.Timeout is 1 s
			return "250 2.0.0 Ok: queued as 4BX2\r\n", false
		}, "sent"},
		{"multi-line 250", func() (string, bool) { return "250-2.0.0 Ok\r\n250 2.0.0 queued as 4BX2\r\n", false }, "sent"},
		// Any 2xx is success (RFC 5321 4.2.1): a 251 after the data (meant
		// for RCPT; a relay or proxy that does not conform) took the
		// message, and was retried, mailing it again (red team 12c).
		{"251 after the data", func() (string, bool) { return "251 2.1.5 Ok: queued as 4BX2, will forward\r\n", false }, "sent"},
		// Neither success nor failure: the relay may have taken it.
		{"354 after the data", func() (string, bool) { return "354 go on\r\n", false }, "in-doubt"},
		{"199 after the data", func() (string, bool) { return "199 hmm\r\n", false }, "in-doubt"},
		{"451 after the data", func() (string, bool) { return "451 4.3.0 Error: queue file write error\r\n", false }, "temp"},
		{"452 after the data", func() (string, bool) { return "452 4.3.1 Insufficient system storage\r\n", false }, "temp"},
		{"554 after the data", func() (string, bool) { return "554 5.7.1 Rejected by content filter\r\n", false }, "failed"},
		{"421 after the data, then closed", func() (string, bool) { return "421 4.3.2 Shutting down\r\n", true }, "temp"},
		{"dropped before the reply", func() (string, bool) { return "", true }, "in-doubt"},
		{"half a reply, then dropped", func() (string, bool) { return "25", true }, "in-doubt"},
		{"mixed codes: 250 then 550, then dropped", func() (string, bool) { return "250-2.0.0 Ok\r\n550 5.7.1 but no\r\n", true }, "in-doubt"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := rawsmtp.Start(t, rawsmtp.Options{Final: tt.final})
			p := newPool(t, r.Config(), 1)
			err := sendOne(t, p, sampleMessage("jane@example.org"))
			got := "sent"
			if e := send.Classify(err); e != nil {
				switch {
				case e.InDoubt:
					got = "in-doubt"
				case e.Temporary:
					got = "temp"
				default:
					got = "failed"
				}
			}
			if got != tt.want {
				t.Errorf("outcome %s (%v), want %s", got, err, tt.want)
			}
			if n := r.Accepted(); n != 1 {
				t.Errorf("the relay read %d messages, want 1", n)
			}
		})
	}
}

// TestMixedCodesAtRCPTSendNothing: a relay that answers RCPT with a
// multi-line reply whose lines have different codes (550 then 250) never
// gets the message: the reply is not a clear acceptance, so the data is
// not sent, and the recipient is not sent (a temporary failure, retried,
// or a permanent one), with or without PIPELINING.
func TestMixedCodesAtRCPTSendNothing(t *testing.T) {
	t.Parallel()
	for _, pipelining := range []bool{true, false} {
		t.Run(map[bool]string{true: "pipelining", false: "one command at a time"}[pipelining], func(t *testing.T) {
			t.Parallel()
			r := rawsmtp.Start(t, rawsmtp.Options{RCPT: "550-5.1.1 <jane@example.org>: no such user\r\n250 2.1.5 Ok\r\n"})
			p := newPool(t, r.Config(), 1)
			if !pipelining {
				send.DisablePipelining(p)
			}
			err := sendOne(t, p, sampleMessage("jane@example.org"))
			if e := send.Classify(err); e == nil || e.InDoubt {
				t.Errorf("Send = %v, want a failure (temporary or permanent)", err)
			}
			if n := r.Accepted(); n != 0 {
				t.Errorf("the relay read %d messages, want none", n)
			}
		})
	}
}
