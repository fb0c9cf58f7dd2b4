package store_test

import (
	"errors"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestCheckExistingRefusesWhatBeginRefuses: the early check of a staging
// of a campaign that exists (store.CheckExisting, asked before a send's
// confirmation) refuses, in every state, what NewStager refuses with the
// same refusal: without ResumeExisting an *ExistsError naming the state
// (control-lost when Redis lost the control, the control's action when a
// worker paused it for a state loss); with it, a running campaign and one
// awaiting approval (*TransitionError), and first one of another stored
// format (*FormatError); and lets pass what NewStager
// lets pass (or refuses for another reason: a done one staged again only
// checks rows).
func TestCheckExistingRefusesWhatBeginRefuses(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	rdb := startRedis(t)
	st := store.New(rdb)
	for _, tc := range []struct {
		state  string // the control's state ("": Redis lost the control)
		action string // the control's last action
		// want is the state ExistsError says without ResumeExisting;
		// restage, whether ResumeExisting is refused (*TransitionError).
		want    store.State
		restage bool
	}{
		{state: "staged", want: store.StateStaged},
		{state: "running", want: store.StateRunning, restage: true},
		{state: "paused", action: "pause", want: store.StatePaused},
		{state: "paused", action: "state-loss", want: store.StatePaused},
		{state: "awaiting-approval", want: store.StateAwaitingApproval, restage: true},
		{state: "cancelled", action: "cancel", want: store.StateCancelled},
		{state: "done", want: store.StateDone},
		{state: "", want: store.StateControlLost},
	} {
		name := "exists-" + string(tc.want) + "-" + tc.action
		if tc.action == "" {
			name = "exists-" + string(tc.want)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			stage(t, st, name, stageOpts{n: 3, size: 3})
			ctl := "tidings:{" + name + "}:control"
			if tc.state == "" {
				rdb.Del(ctx, ctl)
			} else {
				rdb.HSet(ctx, ctl, "state", tc.state, "action", tc.action)
			}
			for _, resume := range []bool{false, true} {
				cfg := store.StageConfig{Campaign: name, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "bob", ResumeExisting: resume}
				early := st.CheckExisting(ctx, cfg)
				var ex *store.ExistsError
				var te *store.TransitionError
				switch {
				case !resume && (!errors.As(early, &ex) || ex.State != tc.want || ex.Action != tc.action || ex.Campaign != name):
					t.Errorf("without ResumeExisting: %v (%+v), want an ExistsError of state %s, action %q", early, ex, tc.want, tc.action)
				case resume && tc.restage && (!errors.As(early, &te) || te.Action != "stage" || te.State != tc.want):
					t.Errorf("with ResumeExisting: %v, want a TransitionError of stage in %s", early, tc.want)
				case resume && !tc.restage && early != nil:
					t.Errorf("with ResumeExisting: %v, want nil (begin lets it pass)", early)
				}
				// The staging itself refuses alike (and, let pass, is
				// aborted: nothing of it is written).
				sg, err := st.NewStager(ctx, cfg)
				if sg != nil {
					sg.Abort(ctx)
				}
				if got, want := refusal(err), refusal(early); got != want {
					t.Errorf("resume %v: NewStager refuses %q (%v), CheckExisting %q (%v)", resume, got, err, want, early)
				}
			}
		})
	}
	if err := st.CheckExisting(ctx, store.StageConfig{Campaign: "never-staged", Env: "test"}); err != nil {
		t.Errorf("a campaign not staged: %v, want nil", err)
	}
	// Of another stored format, a staging again is refused for that first,
	// as begin refuses it.
	stage(t, st, "newer", stageOpts{n: 1, size: 1})
	rdb.HSet(ctx, "tidings:{newer}:meta", "format", store.StoredFormat+1)
	if err := st.CheckExisting(ctx, store.StageConfig{Campaign: "newer", Env: "test", ResumeExisting: true}); !errors.As(err, new(*store.FormatError)) {
		t.Errorf("a staging again of another stored format: %v, want a FormatError", err)
	}
	stage(t, st, "elsewhere", stageOpts{n: 1, size: 1})
	if err := st.CheckExisting(ctx, store.StageConfig{Campaign: "elsewhere", Env: "other"}); err != nil {
		t.Errorf("another environment's campaign: %v, want nil (begin refuses it)", err)
	}
}

// refusal is the kind of err that CheckExisting returns: "exists",
// "transition", or "" for any other (nil included).
func refusal(err error) string {
	switch {
	case errors.As(err, new(*store.ExistsError)):
		return "exists"
	case errors.As(err, new(*store.TransitionError)):
		return "transition"
	}
	return ""
}
