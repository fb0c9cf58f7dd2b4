package console_test

import (
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// statusByRE finds the status line's "by WHO at WHEN" of a campaign page.
var statusByRE = regexp.MustCompile(`<span class="meta">(by [^<]*)</span></p>`)

// TestStagingPageSaysNoUnknownTime: the page of a campaign whose staging
// again did not end said "by carol@build at —" (red team): that status
// carries who stages it, not when. It says who, and no time it does not
// know; a status with a time keeps it (one being staged has the time its
// send recorded its start, store.BeingStagedError.Since).
func TestStagingPageSaysNoUnknownTime(t *testing.T) {
	t.Parallel()
	w := unfinishedStagings(t)
	// "fresh": its first staging, by erin@ci, runs (the send holds it).
	if _, err := w.Store.NewStager(t.Context(), store.StageConfig{Campaign: "fresh", Definition: []byte(`{}`), Hash: "h", Env: consoletest.EnvName, Who: "erin", Host: "ci", ChunkSize: 7}); err != nil {
		t.Fatal(err)
	}
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	for _, tc := range []struct{ campaign, want string }{
		{"fresh", "by erin@ci at 20"},   // being staged: since its send recorded its start
		{"halfway", "by bob@box at 20"}, // interrupted: begun then
	} {
		_, page, _ := op.get("/c/" + tc.campaign)
		m := statusByRE.FindStringSubmatch(html.UnescapeString(page))
		if m == nil || !strings.HasPrefix(m[1], tc.want) || strings.Contains(m[1], "—") {
			t.Errorf("the status line of %s says %q, want %q", tc.campaign, m, tc.want)
		}
	}
}
