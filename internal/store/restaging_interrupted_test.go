package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestStatusOfAnInterruptedRestaging: a campaign staged again (send
// --resume-existing) whose staging stopped before its end has a status
// that says so, restaging-interrupted, with who began that staging and
// when, a pause made before it (which stays), and what comes next
// (NextRestageAgain): not the state its control holds (staged, paused),
// which no worker acts on, and in which only a pause is accepted. While
// the staging runs (a send holds its lease), and once a send ends it, the
// status is the control's.
func TestStatusOfAnInterruptedRestaging(t *testing.T) {
	t.Parallel()
	bob := store.Actor{Who: "bob", Host: "laptop", Env: "test"}
	for _, tc := range []struct {
		name      string
		pause     bool        // paused before it is staged again
		state     store.State // once it is staged again
		reasonHas string      // in the interrupted one's reason
	}{
		{"staged", false, store.StateStaged, "no worker sends it until that send is run again"},
		{"paused before", true, store.StatePaused, "no worker sends it until that send is run again"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := store.New(startRedis(t))
			ctx := context.Background()
			const c = "again"
			// stager begins a staging of c by bob (again: of c staged
			// before, as send --resume-existing does).
			stager := func(again bool) *store.Stager {
				t.Helper()
				sg, err := st.NewStager(ctx, store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: bob.Who, Host: bob.Host, ChunkSize: 7, ResumeExisting: again})
				if err != nil {
					t.Fatal(err)
				}
				for i := range 3 {
					if err := sg.Add(ctx, store.Recipient{Line: i + 2, ID: fmt.Sprint("r", i), Email: fmt.Sprintf("r%d@x.example", i), Lang: "de"}, 0, false); err != nil {
						t.Fatal(err)
					}
				}
				return sg
			}
			if _, err := stager(false).Finish(ctx, false); err != nil {
				t.Fatal(err)
			}
			if tc.pause {
				if _, err := st.Pause(ctx, c, who, "fix the template"); err != nil {
					t.Fatal(err)
				}
			}
			status := func() *store.Status {
				t.Helper()
				s, err := st.Status(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			sg := stager(true)
			if s := status(); s.State != tc.state {
				t.Errorf("while its staging again runs: %s, want %s (its control's)", s.State, tc.state)
			}
			sg.Abort(ctx) // the send died: its lease is let go
			s := status()
			if s.State != store.StateRestagingInterrupted || s.By != "bob@laptop" || s.At.IsZero() || !strings.Contains(s.Reason, "its staging again never finished") ||
				!strings.Contains(s.Reason, tc.reasonHas) || s.Control.Next() != store.NextRestageAgain {
				t.Errorf("its staging again interrupted: %s by %s at %s: %s (next %d); want %s by bob@laptop, when, saying %q, next NextRestageAgain",
					s.State, s.By, s.At, s.Reason, s.Control.Next(), store.StateRestagingInterrupted, tc.reasonHas)
			}
			// A pause made meanwhile is given as such (the console offers
			// nothing more then), and only then.
			if p := s.PausedWhileStaging; (p != nil) != tc.pause || p != nil && (p.State != store.StatePaused || p.Reason != "fix the template" || p.By != "alice@box" || p.At.IsZero()) {
				t.Errorf("its staging again interrupted: PausedWhileStaging %+v; want the pause by alice@box for 'fix the template', and when, exactly when paused before (%v)", p, tc.pause)
			}
			// Said once, by its readers (nextstep.PausedWhileStaging), not
			// in the reason too.
			if strings.Contains(s.Reason, "fix the template") || strings.Contains(s.Reason, "paused") {
				t.Errorf("its staging again interrupted: reason %q says the pause, which PausedWhileStaging holds: status would say it twice", s.Reason)
			}
			// Only a pause acts on it (as the state says).
			if _, _, err := st.Cancel(ctx, c, bob, "wrong list"); err == nil {
				t.Errorf("cancel of an interrupted re-staging: accepted, want refused")
			}
			// The same send run again ends it.
			if _, err := stager(true).Finish(ctx, false); err != nil {
				t.Fatal(err)
			}
			if s := status(); s.State != tc.state || s.PausedWhileStaging != nil {
				t.Errorf("staged again to its end: %s (paused while staging: %+v), want %s, and no pause while staging", s.State, s.PausedWhileStaging, tc.state)
			}
		})
	}
}
