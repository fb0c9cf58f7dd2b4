package statusview_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestProgressNeverSaysAllDoneBeforeItIs: the share of recipients done,
// in `tidings status CAMPAIGN` and in the list of campaigns, is rounded
// down, as the console's is: 199,950 of 200,000 done (50 still pending)
// is 99.9%, never "100.0%", which on-call reads as finished; one
// recipient done of 200,000 is "<0.1%", not "0.0%", which reads as
// nothing sent. It printed %.1f of the exact share, rounded to nearest.
func TestProgressNeverSaysAllDoneBeforeItIs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name        string
		done, total int
		want        string
		not         string
	}{
		{"50 of 200,000 pending", 199950, 200000, "99.9%", "100.0%"},
		{"one pending of 3,000", 2999, 3000, "99.9%", "100.0%"},
		{"every one done", 3000, 3000, "100.0%", "99.9%"},
		{"one done of 200,000", 1, 200000, "<0.1%", "0.0%"},
		{"none done", 0, 200000, "0.0%", "<0.1%"},
		{"a third", 1, 3, "33.3%", "33.4%"},
		{"two thirds", 2, 3, "66.6%", "66.7%"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateRunning},
				Total: int64(tt.total), Staged: int64(tt.total), Counts: counts(store.OutcomeSent, tt.done, store.OutcomePending, tt.total-tt.done)}
			var one, list strings.Builder
			statusview.Write(&one, &st, "")
			statusview.WriteList(&list, []*store.Status{&st}, at.Add(time.Second), func(*store.Status) string { return "" }, func(*store.Status) string { return "" })
			progress := ""
			for _, l := range strings.Split(one.String(), "\n") {
				if strings.HasPrefix(l, "Progress:") {
					progress = l
				}
			}
			row := strings.Split(list.String(), "\n")[1]
			for what, line := range map[string]string{"status's Progress line": progress, "the list's row": row} {
				if !strings.Contains(line, " ("+tt.want+")") && !strings.Contains(line, " "+tt.want) {
					t.Errorf("%s of %d/%d done: %q; want %s", what, tt.done, tt.total, line, tt.want)
				}
				if strings.Contains(line, " "+tt.not) || strings.Contains(line, "("+tt.not) {
					t.Errorf("%s of %d/%d done: %q says %s", what, tt.done, tt.total, line, tt.not)
				}
			}
		})
	}
}
