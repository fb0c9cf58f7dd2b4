package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestTwoCancelsAtOnceEachSayTheTruth: on-call cancels a campaign from two
// terminals (or the console and the CLI) at the same time. The first moves
// it to cancelled and sweeps its chunks one at a time; the second finds it
// cancelled and sweeps too (it records what an interrupted cancel left),
// so the chunks are shared between them. Each answer must be true: the
// first says every recipient it cancelled (those the second swept for it
// too), the second that the campaign was cancelled already, by whom, and
// the final count; every recipient is counted once. Before, the first said
// it cancelled one chunk's recipients (7 of 100) and the second "Cancelled:
// 93", or, coming after the first's sweep, "already cancelled ... nothing
// changed" with no count at all.
func TestTwoCancelsAtOnceEachSayTheTruth(t *testing.T) {
	t.Parallel()
	const n = 100
	bob := store.Actor{Who: "bob", Host: "other", Env: "test"}
	for _, tt := range []struct {
		name string
		at   func(done, total int) bool // when, in the first cancel's sweep, the second runs
		// the second's own share, of the n
		secondSwept bool
	}{
		{"while the first sweeps its first chunk", func(done, _ int) bool { return done == 7 }, true},
		{"after the first swept its last chunk", func(done, total int) bool { return done == total }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := store.New(startRedis(t))
			stage(t, st, "twice", stageOpts{n: n, size: 40})
			var second string
			var secondN store.Cancelled
			first, firstAlready, err := st.CancelWatched(ctx, "twice", who, "wrong list", func(done, total int) {
				if second != "" || !tt.at(done, total) {
					return
				}
				got, already, err := st.Cancel(ctx, "twice", bob, "wrong list too")
				if err != nil {
					t.Errorf("the second cancel: %v", err)
				}
				secondN, second = got, got.Answer("twice", "Cancelled twice: ", already, "see status")
			})
			if err != nil {
				t.Fatal(err)
			}
			if second == "" {
				t.Fatal("the second cancel never ran")
			}
			firstSaid := first.Answer("twice", "Cancelled twice: ", firstAlready, "see status")
			t.Logf("first: %s\nsecond: %s", firstSaid, second)
			if firstAlready != nil || !strings.HasPrefix(firstSaid, "Cancelled twice: 100 unsent recipients recorded as cancelled") {
				t.Errorf("the first cancel (which cancelled it) says %q, want it to say all 100 cancelled", firstSaid)
			}
			if !strings.HasPrefix(second, "twice was already cancelled by alice") || !strings.Contains(second, "100 unsent recipients") || strings.Contains(second, "Cancelled twice") {
				t.Errorf("the second cancel says %q, want that alice cancelled it already, and the 100 recorded as cancelled", second)
			}
			if swept := secondN.Recipients > 0; swept != tt.secondSwept {
				t.Errorf("the second cancel swept %d recipients itself, want some: %v", secondN.Recipients, tt.secondSwept)
			}
			if first.Recipients+secondN.Recipients != n {
				t.Errorf("the two cancels swept %d and %d recipients, want %d in all", first.Recipients, secondN.Recipients, n)
			}
			s, err := st.Status(ctx, "twice")
			if err != nil {
				t.Fatal(err)
			}
			if s.Counts[store.OutcomeCancelled] != n || s.Counts[store.OutcomePending] != 0 {
				t.Errorf("status counts %d cancelled, %d pending, want %d and 0", s.Counts[store.OutcomeCancelled], s.Counts[store.OutcomePending], n)
			}
		})
	}
}
