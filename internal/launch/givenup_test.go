package launch_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/journal/journaltest"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestOnlyALostCampaignReadsAsLost: status, doctor and the console call a
// campaign lost ("Redis has no trace of ...") when this host's start
// record (launch.Gone) or delivery journal (launch.Journaled) names it and
// Redis does not. A first staging interrupted (Ctrl-C) and given up
// (tidings cancel: Redis forgets it) sent nobody: it must not read as
// lost, or on-call thinks Redis lost state. A recovery staging given up,
// a campaign with journal entries, a campaign flushed after its staging
// must read as lost. With real Redis and real stagings.
func TestOnlyALostCampaignReadsAsLost(t *testing.T) {
	t.Parallel()
	const c = "launch-test"
	// interruptedAndGivenUp stages p, interrupted at its first row, then
	// gives the staging up as tidings cancel does.
	interruptedAndGivenUp := func(t *testing.T, st *store.Store, p *launch.Planned, o launch.Options) {
		t.Helper()
		ctx, interrupt := context.WithCancel(context.Background())
		defer interrupt()
		o.Start, o.Progress = true, interrupt
		if res, err := p.Stage(ctx, st, o); !errors.As(err, new(*launch.InterruptedError)) {
			t.Fatalf("staging interrupted at its first row: %+v, %v; want a *launch.InterruptedError", res, err)
		}
		if _, _, err := st.Cancel(context.Background(), c, store.Actor{Who: "tester", Host: "box", Env: "test"}, "wrong list"); err != nil {
			t.Fatalf("give the staging up: %v", err)
		}
	}
	tests := []struct {
		name string
		// setUp leaves Redis, the state directory of the host that ran
		// send and the journal directory of a worker's host as the case
		// has them.
		setUp           func(t *testing.T) (st *store.Store, state, jdir string)
		gone, journaled []string
	}{
		{"a first staging given up", func(t *testing.T) (*store.Store, string, string) {
			st, state, jdir := store.New(redistest.Start(t).Client()), t.TempDir(), t.TempDir()
			p, err := launch.Plan(context.Background(), input(t, nil))
			if err != nil {
				t.Fatal(err)
			}
			interruptedAndGivenUp(t, st, p, launch.Options{StateDir: state, JournalDir: jdir})
			return st, state, jdir
		}, nil, nil},
		{"a recovery staging given up, its exclusions recorded", func(t *testing.T) (*store.Store, string, string) {
			r, st, state, jdir, p := plannedFromAReport(t)
			_ = r
			interruptedAndGivenUp(t, st, p, launch.Options{StateDir: state, JournalDir: jdir})
			return st, state, jdir
		}, []string{c}, nil},
		{"a first staging given up, the campaign in a worker's journal", func(t *testing.T) (*store.Store, string, string) {
			st, state, jdir := store.New(redistest.Start(t).Client()), t.TempDir(), t.TempDir()
			journaltest.Write(t, jdir, "w1", journal.Entry{Campaign: c, Run: "r0", ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"})
			p, err := launch.Plan(context.Background(), input(t, nil))
			if err != nil {
				t.Fatal(err)
			}
			// send runs on a host of its own, without that journal.
			interruptedAndGivenUp(t, st, p, launch.Options{StateDir: state})
			return st, state, jdir
		}, nil, []string{c}},
		{"flushed after its staging", func(t *testing.T) (*store.Store, string, string) {
			r, st, state, jdir, _ := started(t)
			if err := r.Wipe(context.Background()); err != nil {
				t.Fatal(err)
			}
			return st, state, jdir
		}, []string{c}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, state, jdir := tt.setUp(t)
			listed, err := st.List(context.Background(), "test")
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(listed, c) {
				t.Fatalf("Redis lists %s: %v; the case wants it gone from Redis", c, listed)
			}
			if got := launch.Gone(state, "test", listed); !slices.Equal(got, tt.gone) {
				t.Errorf("launch.Gone (this host started it, Redis lost it) = %v, want %v", got, tt.gone)
			}
			if got := launch.Journaled(jdir, state, listed); !slices.Equal(got, tt.journaled) {
				t.Errorf("launch.Journaled (this host's journal holds it, Redis lost it) = %v, want %v", got, tt.journaled)
			}
		})
	}
}
