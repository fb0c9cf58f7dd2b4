package statusview_test

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestWriteListFlagsInDoubt: the list of an environment's campaigns
// (tidings status --env ENV) notes a campaign's recipients in doubt in
// the console list's words (nextstep.InDoubt), whatever its state, since
// nothing marks them dealt with: after a worker was killed with SIGKILL
// and the campaign cancelled, the list said "altea-c cancelled 1000 6000
// 16.8%" and nothing of its 10 in doubt, which the console's list flags
// (found by a red team walking the night as on-call). A note that says
// more (lost chunks) comes first; a campaign with none in doubt has no
// note.
func TestWriteListFlagsInDoubt(t *testing.T) {
	t.Parallel()
	inDoubt := func(n int) map[string]int64 {
		return counts(store.OutcomeSent, 1000, store.OutcomeInDoubt, n, store.OutcomeCancelled, 5000-n)
	}
	const note = "  10 in doubt: the SMTP server may have accepted their message, and they are never sent again. Ask the relay's logs which it delivered, and tell those it did not (tidings report c --env production --outcome in-doubt lists them).\n"
	for _, tt := range []struct {
		name, want string
		st         store.Status
	}{
		{"cancelled", note, store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateCancelled}, Total: 6000, Counts: inDoubt(10)}},
		{"done", note, store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateDone}, Total: 6000, Counts: inDoubt(10)}},
		{"running", note, store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateRunning}, Total: 6000, Counts: inDoubt(10)}},
		{"none in doubt", "%\n", store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateDone}, Total: 6000, Counts: inDoubt(0)}},
		{"lost chunks first", "  Redis lost chunk(s) [3] (part of its state): tidings status c --env production\n",
			store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateRunning}, Total: 6000, Counts: inDoubt(10), LostChunks: []int{3}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			more := func(st *store.Status) string { return "tidings status " + st.Campaign + " --env " + st.Env }
			statusview.WriteList(&b, []*store.Status{&tt.st}, at, more, func(*store.Status) string { return "" })
			if !strings.HasSuffix(b.String(), tt.want) {
				t.Errorf("list line %q, want it to end %q", b.String(), tt.want)
			}
		})
	}
}
