package statusview_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestStallIsInRedisClock: a status read from Redis (store.Status.Now, its
// TIME at the read) says how long a campaign has made no progress against
// Redis's now, not the reading host's, as its times are Redis's
// (lua/tick.lua, lua/transition.lua): a host 3 hours behind Redis saw no
// stall of a campaign stalled for 5 minutes (and one 3 hours ahead would
// see every campaign stalled for 3 hours). The full view, the one-line
// form and the list all say it.
func TestStallIsInRedisClock(t *testing.T) {
	t.Parallel()
	redisNow := at.Add(3 * time.Hour) // this host, at, is 3 hours behind
	st := &store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StateRunning, At: redisNow.Add(-time.Hour)},
		LastProgress: redisNow.Add(-5 * time.Minute), DueSince: redisNow.Add(-20 * time.Minute), Now: redisNow}
	want := "NO PROGRESS for 5m0s"
	if got := statusview.WithStall(st, at, ""); !strings.HasPrefix(got, want) {
		t.Errorf("WithStall %q, want it to begin %q", got, want)
	}
	if got := statusview.Line(st, at); !strings.Contains(got, `stall="`+want) {
		t.Errorf("Line %q, want its stall=%q...", got, want)
	}
	var b bytes.Buffer
	statusview.WriteList(&b, []*store.Status{st}, at, func(*store.Status) string { return "more" }, func(*store.Status) string { return "next" })
	if !strings.Contains(b.String(), want) {
		t.Errorf("WriteList:\n%s\nwant %q", b.String(), want)
	}
	// A status not read from Redis (Now zero) is said at the now given.
	st.Now = time.Time{}
	if got := statusview.WithStall(st, redisNow, ""); !strings.HasPrefix(got, want) {
		t.Errorf("Now zero: WithStall %q, want it to begin %q", got, want)
	}
}
