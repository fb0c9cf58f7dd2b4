package statusview_test

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestBatchRowCountsRecipientsDone: a batch's row in `tidings status`
// counts, in its bar and its "n/size", the recipients done (an outcome
// other than cancelled), as the Progress line and the languages' rows do:
// one whose first attempt failed temporarily and who waits for a retry is
// not done, nor is one cancelled. It counted those attempted: "100/100"
// with 20 of them still pending, a full bar before the batch was through.
func TestBatchRowCountsRecipientsDone(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		b    store.BatchProgress
		want string // the row's figure and bar
	}{
		{"every one sent", store.BatchProgress{Attempted: 100, Sent: 100}, "[####################]   100/100"},
		{"20 wait for their retry", store.BatchProgress{Attempted: 100, Sent: 80}, "[################....]    80/100"},
		{"failed, refused, in doubt are done", store.BatchProgress{Attempted: 100, Sent: 70, Failed: 10, Refused: 10, InDoubt: 5, Invalid: 3, Skipped: 2}, "[####################]   100/100"},
		{"cancelled are not done", store.BatchProgress{Attempted: 100, Sent: 50, Cancelled: 50}, "[##########..........]    50/100"},
		{"half attempted", store.BatchProgress{Attempted: 50, Sent: 40}, "[########............]    40/100"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateRunning}, Total: 100, Staged: 100,
				Counts:  counts(store.OutcomeSent, tt.b.Sent, store.OutcomePending, 100-tt.b.Sent),
				Batches: []store.BatchStatus{{Batch: 0, Size: 100, Released: true, Done: tt.b.Attempted == 100, BatchProgress: tt.b}}}
			var out strings.Builder
			statusview.Write(&out, &st, "")
			row := ""
			for _, l := range strings.Split(out.String(), "\n") {
				if strings.Contains(l, "sent ") && strings.HasPrefix(strings.TrimSpace(l), "batch") {
					row = l
				}
			}
			if !strings.Contains(row, tt.want) {
				t.Errorf("batch row %q; want %q", row, tt.want)
			}
		})
	}
}

// TestBatchStateOfAPausedCampaign: the current batch (released, not
// through) of a paused campaign reads "paused" in `tidings status`'s batch
// table and the console's (both BatchState), as the State line and
// status --json's state do: no worker sends it. It read "sending".
func TestBatchStateOfAPausedCampaign(t *testing.T) {
	t.Parallel()
	current := store.BatchStatus{Batch: 1, Size: 45, Released: true, BatchProgress: store.BatchProgress{Attempted: 22, Sent: 22}}
	through := store.BatchStatus{Batch: 0, Size: 10, Released: true, Done: true, BatchProgress: store.BatchProgress{Attempted: 10, Sent: 10}}
	retrying := store.BatchStatus{Batch: 0, Size: 10, Released: true, Done: true, BatchProgress: store.BatchProgress{Attempted: 10, Sent: 8}}
	for _, tt := range []struct {
		name  string
		state store.State
		b     store.BatchStatus
		want  string
	}{
		{"running, current batch", store.StateRunning, current, "sending"},
		{"paused, current batch", store.StatePaused, current, "paused"},
		{"paused, batch through", store.StatePaused, through, "done"},
		{"paused, batch waiting", store.StatePaused, store.BatchStatus{Batch: 2, Size: 45}, "waiting"},
		{"paused, batch retrying", store.StatePaused, retrying, "retrying"},
		{"cancelled, current batch", store.StateCancelled, current, "cancelled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := &store.Status{Campaign: "c", Control: store.Control{State: tt.state}}
			if got := statusview.BatchState(tt.b, st); got != tt.want {
				t.Errorf("BatchState = %q; want %q", got, tt.want)
			}
		})
	}
}

// TestBatchTableNeverFoldsOneBatch: the batch table of `tidings status`
// shows a batch that is alone before or after the window of batches shown
// one line each on a line of its own, "batch 1", not as a run of one
// ("batches 1-1 [...] 20000/20000 1 done:"), as it did for a campaign of
// 10 batches sending its 4th (found by a red team walking the night).
// Longer runs are still folded.
func TestBatchTableNeverFoldsOneBatch(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		n, done    int
		want, nots []string
	}{
		{"one before the window", 10, 3, []string{"  batch 1  ", "  batch 2  ", "  batch 10 "}, []string{"batches "}},
		{"one after the window", 9, 0, []string{"  batch 1  ", "  batch 8  ", "  batch 9  "}, []string{"batches "}},
		{"longer runs fold", 14, 6, []string{"batches 1-4 ", "  batch 5  ", "  batch 12 ", "batches 13-14"}, []string{"  batch 4  ", "  batch 13 "}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bs := batches(10, tt.n, 100, tt.done)
			total := int64(10 + 100*tt.n)
			st := store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateRunning, CurBatch: tt.done + 1},
				Total: total, Staged: total, Counts: counts(store.OutcomePending, int(total)), Batches: bs}
			var out strings.Builder
			statusview.Write(&out, &st, "")
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("status lacks %q:\n%s", w, out.String())
				}
			}
			for _, n := range tt.nots {
				if strings.Contains(out.String(), n) {
					t.Errorf("status holds %q:\n%s", n, out.String())
				}
			}
		})
	}
}
