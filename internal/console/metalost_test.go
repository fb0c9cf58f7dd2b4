package console_test

import (
	"html"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestCampaignPageSaysRedisLostMeta: Redis lost a campaign's meta (part
// of its state) while its control stayed. Before, its page answered with
// the error of reading it ("read meta: ... not found") and the campaigns
// page failed as a whole; now its page says what Redis lost, and the
// state-loss recovery to run (cancel, stage again excluding the journals'
// deliveries), and the campaigns page lists it flagged.
func TestCampaignPageSaysRedisLostMeta(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "metap", N: 6})
	op := newSite(t, w, false).signIn(t, operatorToken)
	if n, err := w.Redis.Client().Unlink(t.Context(), "tidings:{metap}:meta").Result(); err != nil || n != 1 {
		t.Fatalf("unlink the meta: %d, %v", n, err)
	}
	_, page, _ := op.get("/c/metap")
	page = html.UnescapeString(page)
	for _, want := range []string{
		"Redis lost this campaign's meta (part of its state: an eviction, a DEL)",
		`tidings cancel metap --env ` + consoletest.EnvName + ` --reason "state loss"`,
		"--resume-existing --exclude-delivered JOURNAL_DIR",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page of a campaign whose meta Redis lost does not say %q:\n%s", want, page)
		}
	}
	_, list, _ := op.get("/")
	if list = html.UnescapeString(list); !strings.Contains(list, "Redis lost this campaign's meta") {
		t.Errorf("the campaigns page does not flag the campaign whose meta Redis lost:\n%s", list)
	}
}
