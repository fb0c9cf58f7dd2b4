package console_test

import (
	"html"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestLostChunksAdviceNamesTheCampaignFile: on the host whose send
// staged the campaign (its state dir keeps the start record), the
// campaign page's advice after Redis lost a chunk names the send to run
// with that campaign file and the flags it had, as tidings status does;
// without the record, CAMPAIGN-FILE, said to be the campaign file it was
// staged from. It said CAMPAIGN-FILE on every host.
func TestLostChunksAdviceNamesTheCampaignFile(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	file := w.Stage(t, consoletest.Spec{Name: "lostf", N: 6})
	loseChunk0(t, w, "lostf")
	send := "tidings send " + file + " --env " + consoletest.EnvName + " --resume-existing --exclude-delivered JOURNAL_DIR --skip-refused --skip-invalid --rejects " + filepath.Join(w.Dir, "lostf.rejects.csv")
	for _, tt := range []struct {
		name, stateDir, want string
	}{
		{"the host that staged it", filepath.Join(w.Dir, "state"), send},
		{"a host without its record", "", "(CAMPAIGN-FILE: the campaign file you staged it from): tidings send CAMPAIGN-FILE --env " + consoletest.EnvName + " --resume-existing --exclude-delivered JOURNAL_DIR"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			op := newSiteWith(t, w, func(c *console.Config) { c.StateDir = tt.stateDir }).signIn(t, operatorToken)
			_, page, _ := op.get("/c/lostf")
			page = html.UnescapeString(page)
			banner := strings.Index(page, `id="lost-chunks"`)
			if banner < 0 || !strings.Contains(page[banner:], tt.want) {
				t.Errorf("the lost-chunks banner does not say %q:\n%s", tt.want, page)
			}
		})
	}
}
