package statusview_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestLanguageRowAddsUp: a language's row in `tidings status` names every
// outcome its "done/staged" counts, so the figures after it add up to the
// done figure, as the console's language table does (a column per
// outcome). It named sent and failed alone: after a worker was killed with
// SIGKILL, "ar 2864/22218 sent 2862, failed 0", the two recipients of ar
// in doubt nowhere on the row (found by a red team walking the night).
func TestLanguageRowAddsUp(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		c    map[string]int64
		want string // the row's text after the bar
	}{
		{"sent only", counts(store.OutcomeSent, 10, store.OutcomePending, 90), "10/100    sent 10, failed 0"},
		{"in doubt after a crash", counts(store.OutcomeSent, 2862, store.OutcomeInDoubt, 2, store.OutcomePending, 19354), "2864/22218  sent 2862, failed 0, in-doubt 2"},
		{"refused and invalid by the worker", counts(store.OutcomeSent, 5, store.OutcomeRefused, 1, store.OutcomeInvalid, 2, store.OutcomePending, 92), "8/100    sent 5, failed 0, refused 1, invalid 2"},
		{"skipped", counts(store.OutcomeSent, 5, store.OutcomeSkipped, 3, store.OutcomePending, 92), "8/100    sent 5, failed 0, skipped 3"},
		{"cancelled are not done", counts(store.OutcomeSent, 5, store.OutcomeFailed, 1, store.OutcomeInDoubt, 1, store.OutcomeCancelled, 93), "7/100    sent 5, failed 1, in-doubt 1, cancelled 93"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var staged int64
			for _, n := range tt.c {
				staged += n
			}
			st := store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateRunning}, Total: staged, Staged: staged,
				Counts: tt.c, Languages: []store.LangStatus{{Lang: "ar", Staged: staged, Counts: tt.c}}}
			var out strings.Builder
			statusview.Write(&out, &st, "")
			row := ""
			for _, l := range strings.Split(out.String(), "\n") {
				if strings.HasPrefix(l, "  ar ") {
					row = l
				}
			}
			if !strings.HasSuffix(row, tt.want) {
				t.Fatalf("language row %q; want it to end in %q", row, tt.want)
			}
			// The outcomes named other than cancelled add up to the done figure.
			m := regexp.MustCompile(`(\d+)/\d+ +(.*)$`).FindStringSubmatch(row)
			done, _ := strconv.ParseInt(m[1], 10, 64)
			var sum int64
			for _, part := range strings.Split(m[2], ", ") {
				f := strings.Fields(part)
				if f[0] == store.OutcomeCancelled {
					continue
				}
				n, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
				sum += n
			}
			if sum != done {
				t.Errorf("language row %q: its outcomes add up to %d, its done figure is %d", row, sum, done)
			}
		})
	}
}
