package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestAFirstStagingThatDidNotEndIsListed: a campaign whose first staging
// has begun but not ended (it runs, or its send was interrupted or failed)
// has no definition in Redis yet. The list of its environment's campaigns
// (status --env) must still show it, with its state, and its status say
// what it is and what to do next. Before, the list left it out (only the
// end of a staging lists a campaign), so on-call could not see that it
// existed, and its status was an error. While the staging runs, its status
// is still an error saying so, as a list of campaigns words it.
func TestAFirstStagingThatDidNotEndIsListed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// stage begins the first staging of c in environment test and
		// leaves it as the case says.
		stage  func(t *testing.T, st *store.Store, c string)
		state  store.State
		next   store.Next
		reason []string // what the status's reason says (By: who began it)
	}{
		{"interrupted before its first row", func(t *testing.T, st *store.Store, c string) {
			begin(t, st, c).Abort(context.Background())
		}, store.StateStagingInterrupted, store.NextStageAgain, []string{"never finished", "no worker sends it"}},
		{"interrupted mid-staging and paused meanwhile", func(t *testing.T, st *store.Store, c string) {
			ctx := context.Background()
			sg := begin(t, st, c)
			if err := sg.Add(ctx, store.Recipient{Line: 2, ID: "r0", Email: "r0@x.example", Lang: "de"}, 0, false); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Pause(ctx, c, store.Actor{Who: "bob", Host: "ops"}, "hold on"); err != nil {
				t.Fatal(err)
			}
			sg.Abort(ctx)
		}, store.StateStagingInterrupted, store.NextStageAgain, []string{"never finished", "no worker sends it"}},
		// A worker's RebuildActive lists every campaign that has a control
		// key: it is still an interrupted staging, not a campaign Redis
		// lost.
		{"interrupted, then a worker rebuilt the campaign sets", func(t *testing.T, st *store.Store, c string) {
			begin(t, st, c).Abort(context.Background())
			if err := st.RebuildActive(context.Background()); err != nil {
				t.Fatal(err)
			}
		}, store.StateStagingInterrupted, store.NextStageAgain, []string{"never finished"}},
		{"being staged", func(t *testing.T, st *store.Store, c string) {
			sg := begin(t, st, c)
			t.Cleanup(func() { sg.Abort(context.Background()) })
		}, store.StateBeingStaged, store.NextPause, []string{"only a pause acts on it"}},
		{"staged", func(t *testing.T, st *store.Store, c string) {
			ctx := context.Background()
			sg := begin(t, st, c)
			if err := sg.Add(ctx, store.Recipient{Line: 2, ID: "r0", Email: "r0@x.example", Lang: "de"}, 0, false); err != nil {
				t.Fatal(err)
			}
			if _, err := sg.Finish(ctx, false); err != nil {
				t.Fatal(err)
			}
		}, store.StateStaged, store.NextNone, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := store.New(startRedis(t))
			tt.stage(t, st, "c-begun")
			// Another environment's interrupted staging is not listed.
			sg, err := st.NewStager(ctx, store.StageConfig{Campaign: "c-prod", Definition: []byte(`{}`), Hash: "h", Env: "production", Who: "carol", ChunkSize: 7})
			if err != nil {
				t.Fatal(err)
			}
			sg.Abort(ctx)
			names, err := st.List(ctx, "test")
			if err != nil || !slices.Equal(names, []string{"c-begun"}) {
				t.Fatalf("campaigns of environment test: %v, %v; want [c-begun]", names, err)
			}
			if names, err := st.List(ctx, "production"); err != nil || !slices.Equal(names, []string{"c-prod"}) {
				t.Errorf("campaigns of environment production: %v, %v; want [c-prod]", names, err)
			}
			s, err := st.Status(ctx, "c-begun")
			if be := (*store.BeingStagedError)(nil); errors.As(err, &be) && be.By == "alice@box" {
				s, err = store.BeingStaged("c-begun", "test", be), nil // as a list shows it (statusview.All)
			}
			if err != nil {
				t.Fatalf("status: %v; want the status of a campaign %s", err, tt.state)
			}
			if s.State != tt.state || s.Env != "test" || s.Campaign != "c-begun" {
				t.Errorf("status: campaign %s, state %s, env %s; want c-begun, %s, test", s.Campaign, s.State, s.Env, tt.state)
			}
			if got := s.Next(); got != tt.next {
				t.Errorf("next of a campaign %s: %v, want %v", s.State, got, tt.next)
			}
			if tt.reason != nil && s.By != "alice@box" {
				t.Errorf("status: by %q, want alice@box, who began its staging", s.By)
			}
			if tt.state == store.StateStagingInterrupted && (s.CreatedBy != "alice@box" || s.At.IsZero()) {
				t.Errorf("status: at %s, created by %q; want when alice@box began its staging", s.At, s.CreatedBy)
			}
			for _, want := range tt.reason {
				if !strings.Contains(s.Reason, want) {
					t.Errorf("reason %q does not say %q", s.Reason, want)
				}
			}
			// The pause made meanwhile is given as such, and only then.
			paused := strings.Contains(tt.name, "paused meanwhile")
			if p := s.PausedWhileStaging; (p != nil) != paused || p != nil && (p.State != store.StatePaused || p.By != "bob@ops" || p.At.IsZero() || p.Reason != "hold on") {
				t.Errorf("status: PausedWhileStaging %+v; want the pause (by bob@ops, when, hold on) exactly when paused meanwhile (%v)", p, paused)
			}
			// Said once, by its readers (nextstep.PausedWhileStaging), not
			// in the reason too.
			if strings.Contains(s.Reason, "hold on") || strings.Contains(s.Reason, "paused") {
				t.Errorf("reason %q says the pause, which PausedWhileStaging holds: status would say it twice", s.Reason)
			}
		})
	}
}

// begin begins the first staging of campaign c in environment test, by
// alice@box.
func begin(t *testing.T, st *store.Store, c string) *store.Stager {
	t.Helper()
	sg, err := st.NewStager(context.Background(), store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "alice", Host: "box", ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	return sg
}
