package worker

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestAChunkBehindALongCheckObeys: a chunk waiting for the lock of its
// campaign's journal check, held by a check of the whole journal that
// takes long (minutes on a million deliveries), ends as soon as the
// campaign is paused or its worker shuts down, not when that check ends:
// on-call's pause, and a deploy's drain, do not wait for a journal read.
func TestAChunkBehindALongCheckObeys(t *testing.T) {
	t.Parallel()
	st := store.New(redistest.Start(t).Client())
	for _, tt := range []struct {
		name string
		stop func(t *testing.T, w *Worker, c string)
		want error // nil: the chunk ends without an error (runs again when the campaign does)
	}{
		{"paused", func(t *testing.T, _ *Worker, c string) {
			if _, err := st.Pause(context.Background(), c, store.Actor{Who: "op"}, "errors climb"); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"worker shutting down", func(_ *testing.T, w *Worker, _ string) { close(w.drain) }, errDraining},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := "lock-" + map[bool]string{true: "p", false: "d"}[tt.want == nil]
			sum := stageTest(t, st, c, 4, 0, true)
			j, err := journal.Open(journal.Config{Dir: t.TempDir(), Worker: "wk"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = j.Close() })
			w := &Worker{cfg: Config{WorkerID: "wk", Concurrency: 1, ClaimWindow: 1}.WithDefaults(), journal: j, st: st,
				log: slog.New(slog.DiscardHandler), drain: make(chan struct{}), checked: map[string]string{}}
			held := make(chan struct{}, 1)
			held <- struct{}{} // another check holds the lock for the whole test
			w.checking.Store(c, held)
			type result struct {
				ok  bool
				err error
			}
			done := make(chan result, 1)
			go func() {
				_, ok, err := w.verify(context.Background(), &campaignState{name: c, stage: sum.Stage}, st.StartChunk(context.Background(), c, 0))
				done <- result{ok, err}
			}()
			select {
			case r := <-done:
				t.Fatalf("verify returned %v, %v while the check lock is held and the campaign runs", r.ok, r.err)
			case <-time.After(time.Second):
			}
			tt.stop(t, w, c)
			select {
			case r := <-done:
				if r.ok || !errors.Is(r.err, tt.want) || (tt.want == nil && r.err != nil) {
					t.Fatalf("verify = %v, %v; want false, %v", r.ok, r.err, tt.want)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the chunk still waits behind the other check after the campaign stopped")
			}
		})
	}
}
