package console_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestConsoleShowsNoRateOnceEnded: a cancelled campaign has no current
// rate: the campaigns page's Rate/s cell and the campaign page's Rate say
// "—", as `tidings status` says "Rate:     —" (statusview.Rate decides for
// all three), not "0.0/s".
func TestConsoleShowsNoRateOnceEnded(t *testing.T) {
	t.Parallel()
	w, _, op := cancelledAfterCanary(t)
	if out, _ := w.CLI(t, "status", "stopped", "--env", consoletest.EnvName); !strings.Contains(out, "Rate:     —") {
		t.Fatalf("tidings status of the cancelled campaign says a rate:\n%s", out)
	}
	_, list, _ := op.get("/")
	row := regexp.MustCompile(`(?s)<a href="/c/stopped">stopped</a>.*?</tr>`).FindString(list)
	if want := `<td data-label="Rate/s" class="n">—</td>`; !strings.Contains(row, want) {
		t.Errorf("the campaigns page lacks %s for the cancelled campaign:\n%s", want, row)
	}
	_, page, _ := op.get("/c/stopped")
	if want := "<dt>Rate</dt><dd>—</dd>"; !strings.Contains(page, want) {
		t.Errorf("the campaign page lacks %s:\n%s", want, page)
	}
}
