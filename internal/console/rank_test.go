package console_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestFinishedInDoubtRanksBelowActive: a finished campaign with
// recipients in doubt is listed after the campaigns that can still send
// (paused, running): nothing acknowledges recipients in doubt (report
// lists them, retry never re-queues them), so ranking it first would keep
// it above a running send forever. Its row still flags them, with the
// link. It stays above finished campaigns with nothing to look at, and a
// running one with recipients in doubt stays first. Before, the finished
// one was listed first, for as long as Redis kept it.
func TestFinishedInDoubtRanksBelowActive(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	inDoubtCampaign(t, w, "b-finished-doubt", store.StateDone)
	w.Stage(t, consoletest.Spec{Name: "a-over", N: 2})
	w.Stage(t, consoletest.Spec{Name: "c-sending", N: 2})
	w.Stage(t, consoletest.Spec{Name: "d-held", N: 2})
	inDoubtCampaign(t, w, "e-running-doubt", store.StateRunning)
	for c, st := range map[string]store.State{"a-over": store.StateDone, "c-sending": store.StateRunning, "d-held": store.StatePaused} {
		if err := w.Redis.Client().HSet(t.Context(), "tidings:{"+c+"}:control", "state", string(st)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	s := newSite(t, w, false)
	_, list, _ := s.signIn(t, viewerToken).get("/")
	var order []string
	for _, m := range regexp.MustCompile(`<tr class="[^"]*" data-campaign="([^"]+)"`).FindAllStringSubmatch(list, -1) {
		order = append(order, m[1])
	}
	want := []string{"d-held", "e-running-doubt", "c-sending", "b-finished-doubt", "a-over"}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("the campaigns list's order: %v, want %v", order, want)
	}
	if row := listRow(list, "b-finished-doubt"); !strings.Contains(row, `href="/c/b-finished-doubt/recipients?outcome=in-doubt"`) {
		t.Errorf("the row of the finished campaign no longer flags its recipient in doubt\n%s", row)
	}
}
