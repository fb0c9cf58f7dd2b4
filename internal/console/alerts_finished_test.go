package console_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestFailingAlertDoesNotPageForAFinishedCampaign: the example
// alert rules are what on-call is paged by. docs/console.md (Metrics):
// "deploy/prometheus/alerts.yml holds example alert rules: ... more than
// 5% failed"; the rule TidingsCampaignFailing is `severity: page` and its
// description tells on-call what to do: "pause it there if the errors keep
// coming". README (On-call) and `tidings pause` say a done campaign has
// nothing to pause.
//
// Red team 14d found the rule's expression was only the ratio of failed
// and in-doubt to attempted recipients, with no condition on the
// campaign's state, while the console serves tidings_campaign_recipients
// for every campaign Redis keeps: a campaign that ended done with more than
// 5% failed (stale addresses, auto_pause.error_rate raised) paged on-call
// five minutes after it finished, and again at every repeat interval, for
// ever, though pause is refused and no failure is coming. This test runs
// such a campaign to done with a real worker, Redis and SMTP server,
// scrapes the console's /metrics, computes the rule's ratio from the
// scraped samples, and checks that the rule restricts itself to running
// campaigns (`and on (campaign) tidings_campaign_state{state="running"} ==
// 1`, as TidingsCampaignNoProgress does).
func TestFailingAlertDoesNotPageForAFinishedCampaign(t *testing.T) {
	t.Parallel()
	idx := regexp.MustCompile(`^r(\d{5})-`)
	w := consoletest.New(t, func(rcpt string) error {
		if m := idx.FindStringSubmatch(rcpt); m != nil {
			if i, _ := strconv.Atoi(m[1]); i%10 == 0 { // 10%: stale addresses
				return smtpcapture.Reject(550, "5.1.1 mailbox unknown")
			}
		}
		return nil
	})
	// Bounces expected: the auto-pause and gate are set above them.
	w.Stage(t, consoletest.Spec{Name: "stale-list", N: 40, ErrRate: "0.3"})
	w.StartWorker(t)
	st := w.WaitState(t, "stale-list", store.StateDone, time.Minute)
	if st.Counts[store.OutcomeFailed] == 0 {
		t.Fatalf("counts %v: want some failed", st.Counts)
	}
	if out, code := w.CLI(t, "pause", "stale-list", "--env", consoletest.EnvName, "--reason", "paged"); code != 1 || !strings.Contains(out, "nothing to pause") {
		t.Fatalf("pause of the done campaign: exit %d, want 1 saying there is nothing to pause\n%s", code, out)
	}

	s := newSite(t, w, false)
	_, body, _ := s.anonymous(t).get("/metrics")
	sample := regexp.MustCompile(`(?m)^tidings_campaign_recipients\{campaign="stale-list",environment="test",lang="[^"]*",outcome="([a-z-]+)"\} (\S+)$`)
	var bad, attempted float64
	for _, m := range sample.FindAllStringSubmatch(body, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		switch m[1] {
		case "failed", "in-doubt":
			bad += v
			attempted += v
		case "sent":
			attempted += v
		}
	}
	if !strings.Contains(body, `tidings_campaign_state{campaign="stale-list",environment="test",state="done"} 1`) || attempted == 0 {
		t.Fatalf("the console's /metrics does not show the done campaign:\n%s", body)
	}
	ratio := bad / attempted

	expr, severity := alertRule(t, "TidingsCampaignFailing")
	threshold := 0.05
	if m := regexp.MustCompile(`>\s*([0-9.]+)\s*$`).FindStringSubmatch(strings.TrimSpace(expr)); m != nil {
		threshold, _ = strconv.ParseFloat(m[1], 64)
	}
	fires := ratio > threshold && !strings.Contains(expr, `and on (environment, campaign) tidings_campaign_state{state="running"} == 1`)
	if fires {
		t.Errorf("alert TidingsCampaignFailing (severity %s) pages for campaign stale-list, done (%s of the attempted failed, above %v): "+
			"its expression selects every campaign the console lists, whatever its state, so a finished campaign pages on-call for ever "+
			"although pause is refused and no failure is coming; restrict it to running campaigns:\n%s",
			severity, fmt.Sprintf("%.0f%%", 100*ratio), threshold, expr)
	}
}
