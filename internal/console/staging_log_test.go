package console_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestPagesOfACampaignBeingStagedLogNoError: a page of a campaign whose
// first staging runs (its campaign page, live part, recipients, their
// CSV, its gallery) is an expected state, answered 409 "come back once
// its send ends": the console logs it at info, naming the campaign and
// the path, never as a store error ("console: store" at ERROR), which
// would page on-call for a send that is going as it should.
func TestPagesOfACampaignBeingStagedLogNoError(t *testing.T) {
	t.Parallel()
	s, v := beingStaged(t)
	for _, path := range []string{
		"/c/writing",
		"/c/writing/recipients",
		"/c/writing/recipients?format=csv",
		"/c/writing/gallery",
	} {
		code, body, _ := v.get(path)
		if code == http.StatusOK {
			continue // a page that shows the staging itself has nothing to log
		}
		if code != http.StatusConflict {
			t.Errorf("%s of a campaign being staged: %d; want 200 or 409\n%s", path, code, body)
		}
		u := strings.SplitN(path, "?", 2)[0]
		var logged bool
		for _, line := range strings.Split(s.log(), "\n") {
			if !strings.Contains(line, "path="+u+" ") && !strings.HasSuffix(line, "path="+u) {
				continue
			}
			if strings.Contains(line, "level=ERROR") {
				t.Errorf("%s of a campaign being staged logged as an error:\n%s", path, line)
			}
			if strings.Contains(line, "level=INFO") && strings.Contains(line, "campaign=writing") {
				logged = true
			}
		}
		if !logged {
			t.Errorf("%s of a campaign being staged: no info line naming campaign=writing and the path\n%s", path, s.log())
		}
	}
}
