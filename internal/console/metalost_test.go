package console_test

import (
	"html"
	"net/http"
	"net/url"
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

// TestResumeOfCampaignWhoseMetaRedisLostSaysIt: Redis lost the meta of a
// paused campaign. Its Resume is refused in the words its page and
// tidings status use (what Redis lost, what it means) with the same
// recovery (do not resume; cancel, then stage it again without the
// journals' deliveries), as tidings resume says it. Before, the console
// answered that its first staging had not ended, to run the send again
// as it was or give it up ("nothing was sent").
func TestResumeOfCampaignWhoseMetaRedisLostSaysIt(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "metar", N: 6})
	op := newSite(t, w, false).signIn(t, operatorToken)
	if code, body := op.post("/c/metar/pause", url.Values{"csrf": {op.csrf("/c/metar")}, "reason": {"bounces"}}); code != http.StatusOK {
		t.Fatalf("pause: %d %s", code, body)
	}
	if n, err := w.Redis.Client().Unlink(t.Context(), "tidings:{metar}:meta").Result(); err != nil || n != 1 {
		t.Fatalf("unlink the meta: %d, %v", n, err)
	}
	code, body := op.post("/c/metar/resume", url.Values{"csrf": {op.csrf("/c/metar")}})
	msg := message(t, body)
	for _, want := range []string{
		"Cannot resume metar: Redis lost this campaign's meta (part of its state: an eviction, a DEL): its definition, batches and languages are unknown, no worker sends it, and its ledger may have lost deliveries too",
		"do not resume: Redis forgot deliveries",
		`tidings cancel metar --env ` + consoletest.EnvName + ` --reason "state loss"`,
	} {
		if code != http.StatusConflict || !strings.Contains(msg, want) {
			t.Errorf("resume of a campaign whose meta Redis lost: %d %q, want 409 saying %q", code, msg, want)
		}
	}
	if strings.Contains(msg, "staging has not ended") || strings.Contains(msg, "nothing was sent") {
		t.Errorf("resume of a campaign whose meta Redis lost says a staging has not ended: %q", msg)
	}
	if st, err := w.Redis.Client().HGet(t.Context(), "tidings:{metar}:control", "state").Result(); err != nil || st != "paused" {
		t.Errorf("after the refused resume: %q (%v), want paused", st, err)
	}
}
