package rehearsal

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestWriteTextCounts: the summary's counts read as English for one and
// for none ("1 recipient row", "Captured no message", never "Captured 0
// messages by language: .").
func TestWriteTextCounts(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		rows, captured int
		mails          map[string]int
		want           []string
	}{
		{1, 0, nil, []string{"\n1 recipient row: 0 sent, 1 refused", "\nCaptured no message.\n"}},
		{1, 1, map[string]int{"de": 1}, []string{"\n1 recipient row: 1 sent", "\nCaptured 1 message by language: de 1.\n"}},
		{3, 2, map[string]int{"de": 1, "fr": 1}, []string{"\n3 recipient rows: 2 sent", "\nCaptured 2 messages by language: de 1, fr 1.\n"}},
	} {
		sent := int64(tt.captured)
		r := &Result{Campaign: "c", Plan: &plan.Summary{Rows: tt.rows, Refused: tt.rows - tt.captured}, Mails: tt.mails, Captured: tt.captured,
			Status: &store.Status{Counts: map[string]int64{store.OutcomeSent: sent, store.OutcomeRefused: int64(tt.rows - tt.captured)}}}
		var b strings.Builder
		r.WriteText(&b)
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("rows %d, captured %d: output lacks %q:\n%s", tt.rows, tt.captured, w, b.String())
			}
		}
	}
}

// TestWriteTextNamesEveryOutcome: the summary's figures add up to the
// campaign's rows: every final outcome that is not zero is named, in
// status's order (store.Outcomes), as status and the notifications name
// them. It spelled its own list, which lacked skipped.
func TestWriteTextNamesEveryOutcome(t *testing.T) {
	t.Parallel()
	for _, o := range store.Outcomes {
		t.Run(o, func(t *testing.T) {
			t.Parallel()
			r := &Result{Campaign: "c", Plan: &plan.Summary{Rows: 2}, Status: &store.Status{Counts: map[string]int64{store.OutcomeSent: 1, o: 1}}}
			if o == store.OutcomeSent {
				r.Status.Counts[o] = 2
			}
			var b strings.Builder
			r.WriteText(&b)
			if want := ", 1 " + o; o != store.OutcomeSent && !strings.Contains(b.String(), want) {
				t.Errorf("1 %s: output lacks %q:\n%s", o, want, b.String())
			}
		})
	}
}
