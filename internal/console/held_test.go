package console_test

import (
	"html"
	"net/http"
	"strings"
	"testing"
)

// TestCampaignPageSaysRedisHoldsTheCampaign: while Redis refuses a
// running campaign's writes (here a real redis-server whose
// min-replicas-to-write is 1 and that has no replica: NOREPLICAS), its
// workers hold it and it shows RUNNING with no progress. Its page, and its
// live update, must say so as tidings status does (the server, the code,
// that workers resume by themselves, the doctor command); neither may once
// Redis accepts writes again. Before, the console said nothing of it.
func TestCampaignPageSaysRedisHoldsTheCampaign(t *testing.T) {
	t.Parallel()
	r, _, s := siteOfItsOwn(t, "held")
	viewer := s.signIn(t, viewerToken)
	for _, tc := range []struct {
		minReplicas string
		held        bool
	}{{"1", true}, {"0", false}} {
		if err := r.Client().ConfigSet(t.Context(), "min-replicas-to-write", tc.minReplicas).Err(); err != nil {
			t.Fatal(err)
		}
		code, page, _ := viewer.get("/c/held")
		if code != http.StatusOK {
			t.Fatalf("GET /c/held: %d\n%s", code, page)
		}
		for name, body := range map[string]string{"the page": html.UnescapeString(page), "its live update": firstSpecEvent(t, viewer, "/c/held/live")} {
			if !strings.Contains(body, `data-state="running"`) {
				t.Fatalf("%s does not show the campaign running; the premise does not hold\n%s", name, body)
			}
			said := strings.Contains(body, "Held:") && strings.Contains(body, "Redis at "+r.Addr+" refuses writes (NOREPLICAS: ") &&
				strings.Contains(body, "workers resume by themselves") && strings.Contains(body, "tidings doctor --env test")
			if said != tc.held {
				t.Errorf("min-replicas-to-write %s, no replica: %s says the hold: %v, want %v\n%s", tc.minReplicas, name, said, tc.held, body)
			}
		}
	}
}
