package console_test

import (
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestPausedUnfinishedStagingOffersNothingMore: a campaign whose staging
// did not end and that someone paused meanwhile (its first staging,
// "halfway"; its staging again, "again"; a first staging still running,
// "writing") is offered no action: the pause
// is in force already, and nothing else acts on it until its send is run
// again (resume and cancel are refused). Before, its page and its row
// still offered Pause, which only answered "already paused". Its page and
// its row say who paused it and why, and that the pause stays once it is
// staged.
func TestPausedUnfinishedStagingOffersNothingMore(t *testing.T) {
	t.Parallel()
	w := unfinishedStagings(t)
	sg, err := w.Store.NewStager(t.Context(), store.StageConfig{Campaign: "writing", Definition: []byte(`{}`), Hash: "h", Env: consoletest.EnvName, Who: "erin", Host: "ci", ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sg.Abort(t.Context()) })
	for _, c := range []string{"halfway", "again", "writing"} {
		if _, err := w.Store.Pause(t.Context(), c, store.Actor{Who: "dave", Host: "pager"}, "wrong list"); err != nil {
			t.Fatal(err)
		}
	}
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	_, list, _ := op.get("/")
	list = html.UnescapeString(list)
	for _, tt := range []struct {
		campaign string
		state    store.State
		cancel   bool // a first staging not ended: cancel gives it up, and is offered
	}{
		{"halfway", store.StateStagingInterrupted, true},
		{"again", store.StateRestagingInterrupted, false},
		{"writing", store.StateBeingStaged, false},
	} {
		c := tt.campaign
		who, says := "paused meanwhile by dave@pager at ", " UTC (wrong list): the pause stays once it is staged" // at when, UTC
		// Not told to pause it: it is paused.
		for what, p := range map[string]string{"row": listRow(list, c), "page": pageOf(t, op, c)} {
			if strings.Contains(p, "tidings pause "+c) {
				t.Errorf("the %s of %s, paused, still says to pause it\n%s", what, c, p)
			}
		}
		row := listRow(list, c)
		want := []string(nil)
		if tt.cancel {
			want = []string{"cancel"}
		}
		if strings.Contains(row, "/"+c+"/pause") || strings.Contains(row, "/"+c+"/resume") || strings.Contains(row, `class="cancel"`) != tt.cancel || !strings.Contains(row, ">"+string(tt.state)+"<") || !strings.Contains(row, who) || !strings.Contains(row, says) {
			t.Errorf("the campaigns list's row of %s, paused: want it %s, saying %q, offering %v\n%s", c, tt.state, says, want, row)
		}
		_, page, _ := op.get("/c/" + c)
		page = html.UnescapeString(page)
		if got := offered(page); !slices.Equal(got, want) || !strings.Contains(page, ">"+string(tt.state)+"<") || !strings.Contains(page, who) || !strings.Contains(page, says) {
			t.Errorf("the page of %s, paused, offers %v, want %v; want it %s, saying %q\n%s", c, got, want, tt.state, says, page)
		}
		// Nothing else acts on it: the store refuses what is not offered,
		// and does what is.
		csrf := op.csrf("/c/" + c)
		for _, a := range []struct {
			action string
			form   url.Values
			works  bool
		}{
			{"resume", url.Values{}, false},
			{"cancel", url.Values{"stage": {op.cancelStage("/c/"+c, c)}, "reason": {"wrong list"}, "confirm": {c}}, tt.cancel},
		} {
			a.form.Set("csrf", csrf)
			code, body := op.post("/c/"+c+"/"+a.action, a.form)
			if wantCode := map[bool]int{true: http.StatusOK, false: http.StatusConflict}[a.works]; code != wantCode {
				t.Errorf("%s of the paused %s: %d, want %d\n%s", a.action, c, code, wantCode, body)
			}
		}
	}
}

// pageOf is the page of campaign c as op sees it, unescaped.
func pageOf(t *testing.T, op *client, c string) string {
	t.Helper()
	_, page, _ := op.get("/c/" + c)
	return html.UnescapeString(page)
}
