package notify_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/notify"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestEventIDsAreNotReusedAfterRedisLosesTheCampaign: a campaign
// is cancelled and the webhook receives the `cancelled` event. Redis then
// loses its state (README, "When Redis loses a campaign": FLUSHALL, a new
// empty instance; FLUSHDB of the test's database here) and the campaign
// is staged again (here by `send` on a
// machine without the first start's record; the documented recovery with
// --exclude-delivered stages it anew the same way), and cancelled again,
// by someone else, for another reason.
//
// Promised (docs/console.md, Notifications): "every payload carries a
// stable `id` (and the `X-Tidings-Event` header) for receivers that must
// deduplicate"; notify.Event's doc: "ID is unique per event and campaign".
//
// What happened before the fix: the id was "<campaign>/a<index in the
// audit log>"; the audit log restarts with the new staging, so the second, different
// event goes out with the first one's id, and a receiver that
// deduplicates (as the docs tell it to) drops it: on-call never hears of
// the new run's cancel (or its awaiting-approval, its auto-pause). Cause
// (guess): internal/notify/notify.go pollCampaign builds ev.ID from the
// audit index alone, with nothing of the staging or run.
func TestEventIDsAreNotReusedAfterRedisLosesTheCampaign(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	h := newHook(t)
	now := time.Now()
	clock := func() time.Time { return now }
	n := notifier(t, w, h, "worker-a", clock)
	cancelAndPoll := func(who, why string) {
		t.Helper()
		w.Stage(t, consoletest.Spec{Name: "lost", N: 20})
		if _, _, err := w.Store.Cancel(t.Context(), "lost", store.Actor{Who: who, Host: "laptop", Env: consoletest.EnvName}, why); err != nil {
			t.Fatal(err)
		}
		if err := n.Poll(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	cancelAndPoll("alice", "wrong file")

	// Redis loses everything; the campaign is staged again from a machine
	// that has no record of the first start.
	if err := w.Redis.Client().FlushDB(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(w.Dir, "state")); err != nil {
		t.Fatal(err)
	}
	cancelAndPoll("bob", "relay misconfigured")

	h.mu.Lock()
	events := append([]notify.Event(nil), h.events...)
	h.mu.Unlock()
	if len(events) != 2 {
		t.Fatalf("got %d generic events, want the two cancels: %+v", len(events), events)
	}
	if events[0].ID == events[1].ID {
		t.Errorf("two different events share the id %q: %s cancelled at %s (%q) and %s cancelled at %s (%q); a receiver deduplicating by id drops the second",
			events[0].ID, events[0].By, events[0].At.Format(time.RFC3339Nano), events[0].Reason, events[1].By, events[1].At.Format(time.RFC3339Nano), events[1].Reason)
	}
	// The documented form, "<campaign>/a<audit index>-<unix ms of the
	// event>", also in the X-Tidings-Event header.
	h.mu.Lock()
	ids := slices.Clone(h.ids)
	h.mu.Unlock()
	for _, ev := range events {
		if !regexp.MustCompile(`^lost/a[0-9]+-` + strconv.FormatInt(ev.At.UnixMilli(), 10) + `$`).MatchString(ev.ID) {
			t.Errorf("event id %q, want lost/a<index>-%d", ev.ID, ev.At.UnixMilli())
		}
		if !slices.Contains(ids, "/json "+ev.ID) {
			t.Errorf("no request with the header X-Tidings-Event: %s (requests %q)", ev.ID, ids)
		}
	}
}
