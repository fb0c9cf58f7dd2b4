package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestEveryStateHasABadgeAndASeries: every state a campaign is listed in
// has a badge style of its own in the stylesheet, as the others do, and a
// series of tidings_campaign_state, so that a dashboard can alert on a
// staging that was interrupted. A campaign whose first staging runs
// ("writing") is listed in its state, being-staged, with Pause (the only
// action that works on it), not as an error; its page shows it likewise.
// Before, the three staging states had no style, no series, and one being
// staged was a red error row whose page answered 409.
func TestEveryStateHasABadgeAndASeries(t *testing.T) {
	t.Parallel()
	w := unfinishedStagings(t)
	sg, err := w.Store.NewStager(t.Context(), store.StageConfig{Campaign: "writing", Definition: []byte(`{}`), Hash: "h", Env: consoletest.EnvName, Who: "erin", Host: "ci", ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sg.Abort(t.Context()) })
	// Redis lost the control of noctl (an eviction, a DEL): control-lost,
	// which TidingsCampaignControlLost pages on.
	w.Stage(t, consoletest.Spec{Name: "noctl", N: 5})
	if err := w.Redis.Client().Del(t.Context(), "tidings:{noctl}:control").Err(); err != nil {
		t.Fatal(err)
	}
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	_, css, _ := op.get("/assets/console.css")
	_, metrics, _ := op.get("/metrics")
	_, list, _ := op.get("/")
	list = html.UnescapeString(list)
	for _, tt := range []struct {
		state    store.State
		campaign string // one in that state, "" for none
	}{
		{store.StateStaged, ""},
		{store.StateRunning, ""},
		{store.StateAwaitingApproval, ""},
		{store.StatePaused, ""},
		{store.StateCancelled, ""},
		{store.StateDone, ""},
		{store.StateBeingStaged, "writing"},
		{store.StateStagingInterrupted, "halfway"},
		{store.StateRestagingInterrupted, "again"},
		{store.StateControlLost, "noctl"},
	} {
		if !regexp.MustCompile(`\.s-` + regexp.QuoteMeta(string(tt.state)) + `[ ,{]`).MatchString(css) {
			t.Errorf("the stylesheet has no badge style .s-%s", tt.state)
		}
		if tt.campaign == "" {
			continue
		}
		for _, c := range []string{"halfway", "again", "writing", "noctl"} {
			want := "0"
			if c == tt.campaign {
				want = "1"
			}
			series := `tidings_campaign_state{campaign="` + c + `",environment="` + consoletest.EnvName + `",state="` + string(tt.state) + `"} ` + want
			if !strings.Contains(metrics, series+"\n") {
				t.Errorf("/metrics has no %s\n%s", series, metrics)
			}
		}
		row := listRow(list, tt.campaign)
		asError := strings.Contains(row, `class="alert"`) && tt.state != store.StateControlLost // lost state is an alert
		if !strings.Contains(row, `<span class="state s-`+string(tt.state)+`">`+string(tt.state)+`</span>`) || asError {
			t.Errorf("the campaigns list's row of %s: want its state %s as a badge, not an error\n%s", tt.campaign, tt.state, row)
		}
	}
	row := listRow(list, "writing")
	if !strings.Contains(row, `action="/c/writing/pause"`) || strings.Contains(row, `action="/c/writing/cancel"`) || !strings.Contains(row, "erin") {
		t.Errorf("the row of writing, being staged: want Pause alone, and who stages it (erin)\n%s", row)
	}
	code, page, _ := op.get("/c/writing")
	if got := offered(html.UnescapeString(page)); code != http.StatusOK || len(got) != 1 || got[0] != "pause" || !strings.Contains(page, `id="state">being-staged<`) {
		t.Errorf("the page of writing, being staged: %d offering %v; want 200, being-staged, offering [pause]\n%s", code, got, page)
	}
	if code, body := op.post("/c/writing/pause", url.Values{"csrf": {op.csrf("/c/writing")}, "reason": {"wrong list"}}); code != http.StatusOK || !strings.Contains(body, "Paused.") {
		t.Errorf("pause of writing, being staged, as offered: %d\n%s", code, body)
	}
}
