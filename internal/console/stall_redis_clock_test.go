package console_test

import (
	"html"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// stalledFor makes running campaign c, staged and started, look so in
// Redis's clock d ago: its control's `at` (since when its work is due:
// no batch released yet) moves back by d, as if its staging had ended
// then (lua/stage_end.lua writes it with Redis's TIME).
func stalledFor(t *testing.T, w *consoletest.World, c string, d time.Duration) {
	t.Helper()
	if err := w.Redis.Client().HSet(t.Context(), "tidings:{"+c+"}:control", "at", time.Now().Add(-d).UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestStallFiguresAreRedisClock: the console's "No progress for ..." and
// its metrics tidings_campaign_seconds_since_progress and
// tidings_campaign_work_waiting are reckoned from Redis's now, read with
// the status (store.Status.Now), as tidings status does, not from the
// console host's clock: the times they compare it with are Redis's. Before,
// a console host 3 hours behind Redis showed no stall of a campaign due
// for 5 minutes with no outcome, and served no seconds since progress (a
// host 3 hours ahead showed every campaign stalled for 3 hours).
func TestStallFiguresAreRedisClock(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "stalled", N: 9}) // running; no worker runs
	stalledFor(t, w, "stalled", 5*time.Minute)
	s := newSiteWith(t, w, func(c *console.Config) {
		c.Clock = func() time.Time { return time.Now().Add(-3 * time.Hour) }
	})
	v := s.signIn(t, viewerToken)
	for _, path := range []string{"/", "/c/stalled"} {
		_, body, _ := v.get(path)
		if body = html.UnescapeString(body); !strings.Contains(body, "No progress for 5m") {
			t.Errorf("%s: due for 5 minutes in Redis's clock, no outcome: want \"No progress for 5m...\"\n%s", path, body)
		}
	}
	_, body, _ := s.anonymous(t).get("/metrics")
	const since = `tidings_campaign_seconds_since_progress{campaign="stalled",environment="test"} `
	i := strings.Index(body, since)
	if i < 0 {
		t.Fatalf("/metrics lacks %s...:\n%s", since, body)
	}
	secs, err := strconv.ParseFloat(strings.Fields(body[i+len(since):])[0], 64)
	if err != nil || secs < 300 || secs > 3600 {
		t.Errorf("seconds since progress %v (%v), want 300 and more (5 minutes in Redis's clock), under an hour", secs, err)
	}
	if want := `tidings_campaign_work_waiting{campaign="stalled",environment="test"} 1`; !strings.Contains(body, want) {
		t.Errorf("/metrics lacks %s", want)
	}
}
