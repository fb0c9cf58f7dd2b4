package console_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
)

// alertRule returns the rule named alert of deploy/prometheus/alerts.yml.
func alertRule(t *testing.T, alert string) (expr, severity string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(consoletest.RepoRoot(t), "deploy", "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert  string            `yaml:"alert"`
				Expr   string            `yaml:"expr"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == alert {
				return r.Expr, r.Labels["severity"]
			}
		}
	}
	t.Fatalf("alerts.yml has no rule %s", alert)
	return "", ""
}

// TestPausedAlertPagesForAnAutoPauseNotADeliberateOne: red team 37e, the
// on-call engineer at 2 a.m. A 5xx storm (a relay refusing every
// recipient) pauses a campaign automatically: nobody chose it, and
// someone must look (the page TidingsCampaignPaused). On-call who pauses a
// campaign on purpose, because errors climb or a relay's operator asks,
// must not be paged by it 5 minutes later, and again at every repeat
// interval while the pause lasts. Before, the rule was
// tidings_campaign_state{state="paused"} == 1 for every pause alike, and
// the console served nothing that told them apart. Here a real worker
// sends one campaign to a real SMTP server that answers 550 to every
// recipient until the error window pauses it, another campaign is paused
// by a person (tidings pause), the console's /metrics is scraped, and the
// paging rule's expression is evaluated with Prometheus's engine over
// that scrape: it must select the auto-paused campaign and not the one
// paused on purpose. The deliberate pause has a rule of its own instead,
// a ticket once it lasts (TidingsCampaignPausedLong: paused and
// forgotten), which selects it and not the other.
func TestPausedAlertPagesForAnAutoPauseNotADeliberateOne(t *testing.T) {
	t.Parallel()
	// Every recipient refused: held is paused before any worker runs, so
	// only storm's are ever attempted.
	w := consoletest.New(t, func(string) error { return smtpcapture.Reject(550, "5.7.1 relaying denied") })
	w.Stage(t, consoletest.Spec{Name: "storm", N: 12})
	w.Stage(t, consoletest.Spec{Name: "held", N: 12, Size: 2, Rate: "1/s"})
	if out, code := w.CLI(t, "pause", "held", "--env", consoletest.EnvName, "--reason", "relay maintenance"); code != 0 {
		t.Fatalf("pause held: exit %d\n%s", code, out)
	}
	w.StartWorker(t)
	st := w.WaitState(t, "storm", store.StatePaused, time.Minute)
	if st.Action != "auto-pause" {
		t.Fatalf("storm: paused by %q (%s), want auto-pause", st.Action, st.Reason)
	}

	s := newSite(t, w, false)
	_, body, _ := s.anonymous(t).get("/metrics")
	for _, c := range []string{"storm", "held"} {
		if !strings.Contains(body, `tidings_campaign_state{campaign="`+c+`",environment="test",state="paused"} 1`) {
			t.Fatalf("/metrics does not show %s paused:\n%s", c, body)
		}
	}
	page, severity := alertRule(t, "TidingsCampaignPaused")
	if severity != "page" {
		t.Errorf("TidingsCampaignPaused: severity %q, want page", severity)
	}
	promQL(t, body, page, map[string]float64{`tidings_campaign_state{campaign="storm",environment="test",state="paused"}`: 1})
	long, _ := alertRule(t, "TidingsCampaignPausedLong")
	promQL(t, body, long, map[string]float64{`tidings_campaign_state{campaign="held",environment="test",state="paused"}`: 1})
}
