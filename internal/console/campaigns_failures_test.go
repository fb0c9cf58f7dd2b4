package console_test

import (
	"fmt"
	"html"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/store"
)

var (
	headRE = regexp.MustCompile(`(?s)<th(?:\s[^>]*)?>(.*?)</th>`)
	cellRE = regexp.MustCompile(`(?s)<td data-label="([^"]+)"[^>]*>(.*?)</td>`)
	tagRE  = regexp.MustCompile(`<[^>]+>`)
)

// TestCampaignsListShowsFailuresClimbing: the campaigns page, where
// on-call looks first, counts a running campaign's recipients in doubt
// and those whose temporary failures wait for a retry beside the failed,
// so that errors climbing below the auto-pause's threshold show there.
// Before, a campaign whose every attempt had failed temporarily read
// "Failed 0" there, and one with recipients in doubt did not say so.
// Recipients in doubt need a human (the relay may have delivered them,
// and they are never sent again): its "Needs a human" column says so and
// what to do, with a link to them; before, it was empty.
func TestCampaignsListShowsFailuresClimbing(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	claimAndRecord(t, releasedLedger(t, w, "climbing"), store.Policy{MaxAttempts: 3},
		store.Record{ID: consoletest.Email(0, "en"), Lang: "en", Kind: store.KindTemp, Code: "451 4.3.0", Response: "try later"},
		store.Record{ID: consoletest.Email(1, "en"), Lang: "en", Kind: store.KindInDoubt, Response: "connection lost after DATA"})
	s := newSite(t, w, false)
	code, body, _ := s.signIn(t, viewerToken).get("/")
	if code != http.StatusOK {
		t.Fatalf("campaigns page: %d\n%s", code, body)
	}
	golden.Check(t, filepath.Join("testdata", "campaigns-failures.golden"), campaignsTable(body))
	if link := `href="/c/climbing/recipients?outcome=in-doubt"`; !strings.Contains(body, link) {
		t.Errorf("the campaigns page does not link to the recipients in doubt (%s)", link)
	}
}

// campaignsTable is the campaigns page's table as text: its header, then
// each row's cells, one "label: text" a line, but those that change from
// one run to the next (progress, rate, ETA).
func campaignsTable(page string) string {
	start, end := strings.Index(page, `<table class="campaigns">`), strings.Index(page, `</table>`)
	if start < 0 || end < start {
		return "no table of campaigns:\n" + page
	}
	table := page[start:end]
	var out []string
	for _, m := range headRE.FindAllStringSubmatch(table, -1) {
		out = append(out, "th: "+m[1])
	}
	for _, m := range cellRE.FindAllStringSubmatch(table, -1) {
		switch m[1] {
		case "Progress", "Rate/s", "ETA":
			continue
		}
		out = append(out, m[1]+": "+strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(m[2], ""))), " "))
	}
	return strings.Join(out, "\n") + "\n"
}

// claimAndRecord claims the recipients of recs in ledger l, as a worker
// does, then records recs as their outcomes.
func claimAndRecord(t *testing.T, l *store.Ledger, p store.Policy, recs ...store.Record) {
	t.Helper()
	claims := make([]store.Claim, len(recs))
	for i, r := range recs {
		claims[i] = store.Claim{ID: r.ID, Lang: r.Lang, Token: fmt.Sprintf("t%d", i+1)}
	}
	if _, err := l.Step(t.Context(), nil, claims, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Step(t.Context(), recs, nil, p, time.Now()); err != nil {
		t.Fatal(err)
	}
}
