package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestStatusKeepsAnUnreadableAuditEntryInItsPlace: an audit entry that does
// not parse (a corrupted or hand-edited list) was dropped by Status
// without a word, which also moved every later entry one place up: the
// notifier counts entries for its cursor and its event ids, so an event
// could be announced twice or never. It is kept in its place, as an entry
// saying it cannot be read.
func TestStatusKeepsAnUnreadableAuditEntryInItsPlace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := startRedis(t)
	st := store.New(rdb)
	stage(t, st, "au", stageOpts{n: 3, size: 3})
	if err := rdb.RPush(ctx, "tidings:{au}:audit", "{not json").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pause(ctx, "au", who, "after the garbage"); err != nil {
		t.Fatal(err)
	}
	s, err := st.Status(ctx, "au")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range s.Audit {
		actions = append(actions, a.Action)
	}
	if got := strings.Join(actions, ","); got != "start,unreadable,pause" {
		t.Fatalf("audit actions %s, want start,unreadable,pause", got)
	}
	if r := s.Audit[1].Reason; !strings.Contains(r, "cannot read") || !strings.Contains(r, `{not json`) {
		t.Errorf("the unreadable entry says %q, want what it holds", r)
	}
}
