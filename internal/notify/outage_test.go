package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/notify"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestWebhookOutageLongerThanMaxAgeStillDelivers: a notifier runs
// the whole time (a worker's). A campaign is cancelled; the webhooks are
// down (HTTP 500: a Slack outage, a proxy misconfigured) for a little over
// an hour, the notifier polling and retrying with its backoff meanwhile.
// Then they answer again.
//
// Promised (docs/console.md, Notifications and Limits): "A failed post
// (error or non-2xx answer) releases the claim with a retry time (5 s,
// doubling, at most 10 min) and whichever notifier comes next retries";
// the one-hour limit is for "A notifier started late does not replay
// events older than an hour"; "A notification may be posted twice ...;
// never zero times while any notifier runs".
//
// What happened before the fix: once the event is older than MaxAge the
// notifier that has been retrying it all along treats it as one it saw
// first too late: it logs "event too old to announce (no notifier was running when
// it happened)" (untrue: it was) and moves its cursor past it. The event
// is never delivered. The same drops an auto-pause whose webhook was down
// for an hour. Cause (guess): internal/notify/notify.go pollCampaign: the
// MaxAge test applies to every event at the cursor, including one whose
// delivery was claimed and failed (it has attempts), not only to events
// first seen late.
func TestWebhookOutageLongerThanMaxAgeStillDelivers(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "outage", N: 20})
	if _, _, err := w.Store.Cancel(t.Context(), "outage", store.Actor{Who: "alice", Host: "laptop", Env: consoletest.EnvName}, "wrong file"); err != nil {
		t.Fatal(err)
	}
	h := newHook(t)
	h.fail = 1 << 30 // down
	now := time.Now()
	clock := func() time.Time { return now }
	n := notifier(t, w, h, "worker-a", clock)
	// Polled every 5 s for 61 minutes: the deliveries fail and are retried
	// at their backoff (a minute here, doubling, at most 10 minutes).
	end := now.Add(61 * time.Minute)
	for ; now.Before(end); now = now.Add(5 * time.Second) {
		if err := n.Poll(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	h.mu.Lock()
	h.fail = 0 // the webhooks are back
	h.mu.Unlock()
	for range 200 { // 1000 s more of polls: past any backoff
		now = now.Add(5 * time.Second)
		if err := n.Poll(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	slack, events := h.kinds()
	if len(slack) != 1 || len(events) != 1 || events[0] != notify.KindCancelled {
		t.Errorf("after a webhook outage of 61 minutes with a notifier running throughout: slack %q, events %v; want the cancelled notification on each\nlogs:\n%s", slack, events, h.logs.String())
	}
	if l := h.logs.String(); strings.Contains(l, "too old") {
		t.Errorf("logs say an event was too old to announce; its delivery was attempted all along:\n%s", l)
	}
}
