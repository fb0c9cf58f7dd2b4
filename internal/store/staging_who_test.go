package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestWhoBeganAStagingIsKeptOnce: who began a staging not yet ended, and
// when, is kept in one place at a time: of a first staging, its record in
// tidings:stagings (which carries its environment and is written before
// any key of the campaign); of a staging again, the control's staging_by
// and staging_at (written with its stage id); once a staging ends, the
// definition's created_by and created_at. The control held staging_by
// and staging_at for a first staging too, and kept them after every
// staging ended. Each status still says who began the staging.
func TestWhoBeganAStagingIsKeptOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	carol := store.StageConfig{Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "carol", Host: "build", ChunkSize: 7}
	tests := []struct {
		name string
		// stage leaves campaign c as the case says.
		stage     func(t *testing.T, st *store.Store, c string)
		state     store.State
		inControl bool // staging_by, staging_at in the control
	}{
		{"first staging interrupted", func(t *testing.T, st *store.Store, c string) {
			begin(t, st, c).Abort(ctx)
		}, store.StateStagingInterrupted, false},
		{"first staging ended", func(t *testing.T, st *store.Store, c string) {
			finish(t, begin(t, st, c))
		}, store.StateStaged, false},
		{"staging again interrupted", func(t *testing.T, st *store.Store, c string) {
			finish(t, begin(t, st, c))
			sg := again(t, st, c, carol)
			if err := sg.Add(ctx, store.Recipient{Line: 2, ID: "r0", Email: "r0@x.example", Lang: "de"}, 0, false); err != nil {
				t.Fatal(err) // a staging again changes the campaign from its first row on
			}
			sg.Abort(ctx)
		}, store.StateRestagingInterrupted, true},
		{"staging again ended", func(t *testing.T, st *store.Store, c string) {
			finish(t, begin(t, st, c))
			finish(t, again(t, st, c, carol))
		}, store.StateStaged, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := store.New(startRedis(t))
			tt.stage(t, st, "c")
			ctl, err := st.Client().HMGet(ctx, "tidings:{c}:control", "staging_by", "staging_at").Result()
			if err != nil {
				t.Fatal(err)
			}
			if has := ctl[0] != nil || ctl[1] != nil; has != tt.inControl {
				t.Errorf("control's staging_by, staging_at: %v; want them there: %v", ctl, tt.inControl)
			}
			s, err := st.Status(ctx, "c")
			if err != nil {
				t.Fatal(err)
			}
			by := s.By // who began the staging not ended
			if tt.state == store.StateStaged {
				by = s.CreatedBy
			}
			want := "alice@box"
			if tt.name[:13] == "staging again" {
				want = "carol@build"
			}
			if s.State != tt.state || by != want || s.At.IsZero() {
				t.Errorf("status: %s, who began its staging %q at %s; want %s, %s, when", s.State, by, s.At, tt.state, want)
			}
		})
	}
}

// finish ends staging sg with one recipient.
func finish(t *testing.T, sg *store.Stager) {
	t.Helper()
	if err := sg.Add(context.Background(), store.Recipient{Line: 2, ID: "r0", Email: "r0@x.example", Lang: "de"}, 0, false); err != nil {
		t.Fatal(err)
	}
	if _, err := sg.Finish(context.Background(), false); err != nil {
		t.Fatal(fmt.Errorf("finish: %w", err))
	}
}

// again begins a staging again of campaign c, as cfg's Who@Host.
func again(t *testing.T, st *store.Store, c string, cfg store.StageConfig) *store.Stager {
	t.Helper()
	cfg.Campaign, cfg.ResumeExisting = c, true
	sg, err := st.NewStager(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sg
}
