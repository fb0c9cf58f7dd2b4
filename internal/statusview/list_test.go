package statusview_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

// lister is a statusview.Lister over a map; err, when set, is what Status
// returns; env, when set, the only environment it lists campaigns of.
type lister struct {
	names []string
	err   error
	env   string
	// staging, when set, is the campaign whose first staging runs, and
	// paused the control it holds (a pause made meanwhile), if any.
	staging string
	paused  *store.Control
}

func (l lister) List(_ context.Context, env string) ([]string, error) {
	if l.env != "" && env != l.env {
		return nil, nil
	}
	return l.names, nil
}
func (l lister) Status(_ context.Context, c string) (*store.Status, error) {
	if c == l.staging {
		return nil, &store.BeingStagedError{Campaign: c, By: "bob@box"}
	}
	return &store.Status{Campaign: c}, l.err
}
func (l lister) Control(_ context.Context, c string) (*store.Control, error) {
	if c == l.staging && l.paused != nil {
		return l.paused, nil
	}
	return &store.Control{State: store.StateStaged}, nil
}

func TestAll(t *testing.T) {
	t.Parallel()
	all, err := statusview.All(t.Context(), lister{}, "")
	if err != nil || all == nil || len(all) != 0 {
		t.Errorf("no campaign: %v, %v; want an empty list", all, err)
	}
	all, err = statusview.All(t.Context(), lister{names: []string{"b", "a"}}, "")
	if err != nil || len(all) != 2 || all[0].Campaign != "b" || all[1].Campaign != "a" {
		t.Errorf("two campaigns: %v, %v", all, err)
	}
	boom := errors.New("boom")
	if _, err := statusview.All(t.Context(), lister{names: []string{"a"}, err: boom}, ""); !errors.Is(err, boom) {
		t.Errorf("error %v, want the lister's", err)
	}
	if all, err := statusview.All(t.Context(), lister{names: []string{"a"}, env: "production"}, "staging"); err != nil || len(all) != 0 {
		t.Errorf("another environment's campaigns: %v, %v; want none", all, err)
	}
}

func TestPausedForStateLoss(t *testing.T) {
	t.Parallel()
	audit := func(actions ...string) []store.AuditEntry {
		var out []store.AuditEntry
		for i, a := range actions {
			out = append(out, store.AuditEntry{At: at.Add(time.Duration(i) * time.Minute), Action: a})
		}
		return out
	}
	tests := []struct {
		name  string
		state store.State
		audit []store.AuditEntry
		want  bool
	}{
		{"paused for state loss", store.StatePaused, audit("send", "state-loss"), true},
		{"paused by hand after it", store.StatePaused, audit("state-loss", "resume", "pause"), false},
		{"cancelled after it", store.StateCancelled, audit("state-loss"), false},
		{"no audit", store.StatePaused, nil, false},
	}
	for _, tt := range tests {
		st := &store.Status{Control: store.Control{State: tt.state}, Audit: tt.audit}
		if got := statusview.PausedForStateLoss(st); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestWriteListFlagsNoProgress: the list of an environment's campaigns
// (tidings status --env ENV), which on-call reads first, flags a running
// campaign that has recorded no outcome for a minute although recipients
// are due, as `tidings status CAMPAIGN` does under its state, so that
// "running" in the list does not hide that no worker sends it; a campaign
// between batches (nothing due), or due for less than a minute, has no
// note; chunks Redis lost come first.
func TestWriteListFlagsNoProgress(t *testing.T) {
	t.Parallel()
	now := at.Add(4*time.Minute + 10*time.Second)
	running := store.Control{State: store.StateRunning}
	for _, tt := range []struct {
		name, want string
		st         store.Status
	}{
		{"stalled", "  NO PROGRESS for 4m10s although recipients wait: tidings status c --env production\n",
			store.Status{Campaign: "c", Env: "production", Control: running, DueSince: at}},
		{"due for less than a minute", "%\n", store.Status{Campaign: "c", Env: "production", Control: running, DueSince: now.Add(-30 * time.Second)}},
		{"between batches", "%\n", store.Status{Campaign: "c", Env: "production", Control: running}},
		{"paused", "%\n", store.Status{Campaign: "c", Env: "production", Control: store.Control{State: store.StatePaused}, DueSince: at}},
		{"lost chunks first", "  Redis lost chunk(s) [3] (part of its state): tidings status c --env production\n",
			store.Status{Campaign: "c", Env: "production", Control: running, DueSince: at, LostChunks: []int{3}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			more := func(st *store.Status) string { return "tidings status " + st.Campaign + " --env " + st.Env }
			statusview.WriteList(&b, []*store.Status{&tt.st}, now, more, func(*store.Status) string { return "" })
			if !strings.HasSuffix(b.String(), tt.want) {
				t.Errorf("list line ends %q, want it to end %q", b.String(), tt.want)
			}
		})
	}
}

// TestAllAndWriteListSayAPauseWhileStaging: a campaign paused while its
// staging had not ended (its first being staged, its first or its
// staging again interrupted) is listed with that pause, in the console's
// words (nextstep.PausedWhileStaging); All reads it of one being staged
// from its control, as the console does; one being staged and not paused
// has no such note. One being staged, paused or not, is noted as such in
// the console's words (nextstep.BeingStaged; before, only once paused).
func TestAllAndWriteListSayAPauseWhileStaging(t *testing.T) {
	t.Parallel()
	pause := &store.Control{State: store.StatePaused, By: "alice@ops", Reason: "fix the list"}
	all, err := statusview.All(t.Context(), lister{names: []string{"new", "old"}, staging: "new", paused: pause}, "production")
	if err != nil || len(all) != 2 || all[0].State != store.StateBeingStaged || all[0].PausedWhileStaging != pause || all[1].PausedWhileStaging != nil {
		t.Fatalf("All: %+v, %v; want new being staged, paused by alice@ops, old not", all, err)
	}
	unpaused, err := statusview.All(t.Context(), lister{names: []string{"new"}, staging: "new"}, "production")
	if err != nil || len(unpaused) != 1 || unpaused[0].PausedWhileStaging != nil {
		t.Fatalf("All of one being staged, not paused: %+v, %v; want no pause", unpaused, err)
	}
	interrupted := func(s store.State) *store.Status {
		return &store.Status{Campaign: "c", Env: "production", Control: store.Control{State: s}, PausedWhileStaging: pause}
	}
	for _, st := range []*store.Status{all[0], interrupted(store.StateStagingInterrupted), interrupted(store.StateRestagingInterrupted), unpaused[0]} {
		var b strings.Builder
		statusview.WriteList(&b, []*store.Status{st}, at, func(*store.Status) string { return "MORE" }, func(*store.Status) string { return "NEXT" })
		want := nextstep.PausedWhileStaging(st)
		if got := b.String(); want != "" && !strings.Contains(got, want) || want == "" && strings.Contains(got, "paused meanwhile") {
			t.Errorf("WriteList of %s (%s): want %q in\n%s", st.Campaign, st.State, want, got)
		}
		// One being staged says so as the console does, paused or not.
		if got := b.String(); st.State == store.StateBeingStaged && !strings.Contains(got, "  being staged by bob@box: no worker sends it until that staging ends; ") {
			t.Errorf("WriteList of %s (%s, paused %v): want it said being staged by bob@box, as the console says it\n%s", st.Campaign, st.State, st.PausedWhileStaging != nil, got)
		}
	}
}

// TestPausedAutomatically: a pause by tidings itself (the error window, a
// batch gate, a worker that stopped it) pages on-call
// (tidings_campaign_paused_automatically); a person's pause does not. The
// action of the last state change says which; for a campaign staged
// before that was recorded, the newest audit entry; with neither, it
// counts as automatic (it pages, as every pause did).
func TestPausedAutomatically(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		state  store.State
		action string
		audit  []store.AuditEntry
		want   bool
	}{
		{"error window", store.StatePaused, "auto-pause", nil, true},
		{"worker stop: journal", store.StatePaused, "journal", nil, true},
		{"by a person", store.StatePaused, "pause", nil, false},
		{"running", store.StateRunning, "resume", nil, false},
		{"older control, paused by a person", store.StatePaused, "", []store.AuditEntry{{At: at, Action: "auto-pause"}, {At: at.Add(time.Minute), Action: "resume"}, {At: at.Add(2 * time.Minute), Action: "pause"}}, false},
		{"older control, error window", store.StatePaused, "", []store.AuditEntry{{At: at, Action: "send"}, {At: at.Add(time.Minute), Action: "auto-pause"}}, true},
		{"nothing recorded", store.StatePaused, "", nil, true},
	}
	for _, tt := range tests {
		st := &store.Status{Control: store.Control{State: tt.state, Action: tt.action}, Audit: tt.audit}
		if got := statusview.PausedAutomatically(st); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
