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

// TestSummaryFiguresAddUp: an event's one line counted sent, failed, in
// doubt and pending only, so a done campaign with refused, invalid,
// skipped or cancelled rows read "2 of 9 sent, 1 failed, 1 in doubt, 0
// pending" (red team). It now names every outcome that is not zero, and
// its figures add up to the total, as the done reason's do
// (lua/tick.lua).
func TestSummaryFiguresAddUp(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		ev   Event
		want string
	}{
		{"done", Event{Kind: KindDone, Campaign: "c", Env: "test", Total: 9,
			Reason: "every recipient has an outcome: 2 sent, 1 failed, 1 in doubt, 2 refused, 1 invalid, 2 skipped",
			Counts: map[string]int64{store.OutcomeSent: 2, store.OutcomeFailed: 1, store.OutcomeInDoubt: 1, store.OutcomeRefused: 2, store.OutcomeInvalid: 1, store.OutcomeSkipped: 2}},
			"[test] c: done: every recipient has an outcome: 2 sent, 1 failed, 1 in doubt, 2 refused, 1 invalid, 2 skipped. 2 of 9 sent, 1 failed, 1 in doubt, 2 refused, 1 invalid, 2 skipped, 0 pending." + inDoubtAdvice},
		{"cancelled", Event{Kind: KindCancelled, Campaign: "c", Env: "test", By: "alice", Total: 8, Reason: "wrong file",
			Counts: map[string]int64{store.OutcomeSent: 3, store.OutcomeCancelled: 5}},
			"[test] c: cancelled by alice: wrong file. 3 of 8 sent, 0 failed, 5 cancelled, 0 pending."},
		{"cancelled in doubt", Event{Kind: KindCancelled, Campaign: "c", Env: "test", By: "alice", Total: 8, Reason: "wrong file",
			Counts: map[string]int64{store.OutcomeSent: 2, store.OutcomeInDoubt: 1, store.OutcomeCancelled: 5}},
			"[test] c: cancelled by alice: wrong file. 2 of 8 sent, 0 failed, 1 in doubt, 5 cancelled, 0 pending." + inDoubtAdvice},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := summary(tt.ev); got != tt.want {
				t.Errorf("summary %q\nwant %q", got, tt.want)
			}
		})
	}
}

// inDoubtAdvice is what a finished campaign's one line adds of its one
// recipient in doubt (nextstep.InDoubt, as status says it).
const inDoubtAdvice = " 1 in doubt: the SMTP server may have accepted their message, and they are never sent again. Ask the relay's logs which it delivered, and tell those it did not (tidings report c --env test --outcome in-doubt lists them)."
