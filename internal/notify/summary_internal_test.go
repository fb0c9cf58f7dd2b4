package notify

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestSummarySaysInDoubt: an auto-pause for recipients in doubt (a relay
// that drops its reply after the data) says so in its one line: the top
// error is marked in doubt, and the counts name the recipients in doubt
// (which are neither sent, failed nor pending); without any, the line is
// as before.
func TestSummarySaysInDoubt(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		top  SMTPError
		in   map[string]int64
		want string
	}{
		{"in doubt",
			SMTPError{Response: "no reply after the message was sent, it may have been delivered: EOF", InDoubt: true, Count: 20},
			map[string]int64{store.OutcomeInDoubt: 20, store.OutcomePending: 220},
			" Top SMTP error: in doubt, no reply after the message was sent, it may have been delivered: EOF (20×). 0 of 240 sent, 0 failed, 20 in doubt, 220 pending."},
		{"permanent",
			SMTPError{Code: "550 5.1.1", Response: "mailbox unknown", Count: 20},
			map[string]int64{store.OutcomeFailed: 20, store.OutcomePending: 220},
			" Top SMTP error: 550 5.1.1 mailbox unknown (20×). 0 of 240 sent, 20 failed, 220 pending."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := Event{Kind: KindAutoPause, Cause: causeFailures, Campaign: "c", Env: "test", Reason: "auto-pause: error rate 100%",
				TopError: &tt.top, Counts: tt.in, Total: 240}
			if got := summary(ev); !strings.HasSuffix(got, tt.want) {
				t.Errorf("summary %q\nwant it to end %q", got, tt.want)
			}
		})
	}
}
