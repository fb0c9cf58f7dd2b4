package e2e

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/tidings-mail/tidings/internal/freeport"
)

// messagesTotal scrapes a worker's /metrics at addr and sums
// tidings_messages_total of campaign by outcome; nil when it does not
// answer.
func messagesTotal(t *testing.T, addr, campaign string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil
	}
	re := regexp.MustCompile(`(?m)^tidings_messages_total\{campaign="` + regexp.QuoteMeta(campaign) + `",environment="` + envName + `",lang="[^"]*",outcome="([a-z-]+)"\} (\S+)$`)
	out := map[string]float64{}
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatalf("tidings_messages_total: %q: %v", m[0], err)
		}
		out[m[1]] += v
	}
	return out
}

// metricsAddr is a free loopback address for a worker's --metrics-addr.
func metricsAddr(t *testing.T) string {
	t.Helper()
	p, err := freeport.Port()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", p)
}

// checkCountersAfterKill: red team 37e, on-call reading the workers'
// tidings_messages_total after a worker was killed (SIGKILL) and another
// finished its campaign (TestWorkerSIGKILLResume). Prometheus sums the
// counters of both processes: the restarted worker must not count again
// what the killed one recorded. The killed worker's last scrape (c1,
// taken just before the kill) plus the restarted one's at the end (c2)
// may fall short of the report (what the killed worker recorded after its
// last scrape is lost to any Prometheus), never exceed it; and c2 counts
// at least every sent message the server had not received at the kill
// (killedAt). Recipients found in doubt after the kill, the killed
// worker's claims, are counted by the worker whose claim finds them (the
// restarted one), so the in-doubt counters sum to the report's exactly
// (the sink answers every message: the killed worker had none in doubt
// of its own to count after its last scrape). Before, the claim that
// found one skipped it and no worker counted it.
func checkCountersAfterKill(t *testing.T, rep report, c1, c2 map[string]float64, killedAt int) {
	t.Helper()
	if c2 == nil {
		t.Fatal("the restarted worker's /metrics does not answer")
	}
	t.Logf("report %v; killed worker's last scrape %v (server had %d at the kill); restarted worker %v", rep.Counts, c1, killedAt, c2)
	for _, o := range []string{"sent", "failed", "in-doubt"} {
		if got, want := c1[o]+c2[o], float64(rep.Counts[o]); got > want {
			t.Errorf("tidings_messages_total{outcome=%q}: killed worker %v + restarted worker %v = %v, above the report's %v: counted twice", o, c1[o], c2[o], got, want)
		}
	}
	if got, want := c1["in-doubt"]+c2["in-doubt"], float64(rep.Counts["in-doubt"]); got != want {
		t.Errorf("tidings_messages_total{outcome=\"in-doubt\"}: killed worker %v + restarted worker %v = %v, want the report's %v: the killed worker's claims, found in doubt, are counted by the worker that found them", c1["in-doubt"], c2["in-doubt"], got, want)
	}
	if least := float64(rep.Counts["sent"]) - float64(killedAt); c2["sent"] < least {
		t.Errorf("restarted worker counts %v sent; the report has %d sent and the server had only %d messages at the kill: at least %v were the restarted worker's", c2["sent"], rep.Counts["sent"], killedAt, least)
	}
}
