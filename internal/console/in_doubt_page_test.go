package console_test

import (
	"html"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/store"
)

// inDoubtCampaign stages campaign c with two recipients, one sent and one
// in doubt, and leaves it in state st.
func inDoubtCampaign(t *testing.T, w *consoletest.World, c string, st store.State) {
	t.Helper()
	claimAndRecord(t, releasedLedger(t, w, c), store.Policy{MaxAttempts: 3},
		store.Record{ID: consoletest.Email(0, "en"), Lang: "en", Kind: store.KindSent},
		store.Record{ID: consoletest.Email(1, "en"), Lang: "en", Kind: store.KindInDoubt, Response: "connection lost after DATA"})
	if err := w.Redis.Client().HSet(t.Context(), "tidings:{"+c+"}:control", "state", string(st)).Err(); err != nil {
		t.Fatal(err)
	}
}

var needsBoxRE = regexp.MustCompile(`(?s)<(?:p|div) class="needs-box"[^>]*>(.*?)</(?:p|div)>`)

// needsBoxes is the text of a campaign page's boxes of what needs a human,
// one a line.
func needsBoxes(page string) string {
	var out []string
	for _, m := range needsBoxRE.FindAllStringSubmatch(page, -1) {
		out = append(out, strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(m[1], ""))), " "))
	}
	return strings.Join(out, "\n") + "\n"
}

// TestCampaignPageFlagsRecipientsInDoubt: a campaign with recipients in
// doubt says so on its page (and its live updates), as the campaigns list
// does: how many, that they are never sent again, what to do (the advice
// of internal/nextstep, as `tidings status` gives it) and a link to them
// on the recipients page; for an operator and a viewer, running or done.
// Before, only the list said it.
func TestCampaignPageFlagsRecipientsInDoubt(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	inDoubtCampaign(t, w, "doubtful", store.StateRunning)
	inDoubtCampaign(t, w, "finished", store.StateDone)
	s := newSite(t, w, false)
	for _, who := range []struct {
		name  string
		token string
	}{{"operator", operatorToken}, {"viewer", viewerToken}} {
		cl := s.signIn(t, who.token)
		for _, c := range []string{"doubtful", "finished"} {
			_, page, _ := cl.get("/c/" + c)
			live := firstLiveEvent(t, cl, "/c/"+c+"/live")
			golden.Check(t, filepath.Join("testdata", "campaign-in-doubt-"+c+".golden"), needsBoxes(page))
			for what, p := range map[string]string{"page": html.UnescapeString(page), "live update": live} {
				if !strings.Contains(p, "tidings report "+c+" --env "+consoletest.EnvName+" --outcome in-doubt") ||
					!strings.Contains(p, `href="/c/`+c+`/recipients?outcome=in-doubt"`) || !strings.Contains(p, "1 in doubt") {
					t.Errorf("%s's %s of %s does not flag its recipient in doubt with what to do and a link to it\n%s", who.name, what, c, p)
				}
			}
		}
	}
}
