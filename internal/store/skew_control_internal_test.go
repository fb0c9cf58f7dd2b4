package store

import (
	"context"
	"testing"
	"time"
)

// TestControlTimesAreRedisClock: a control (pause, resume, and so approve,
// cancel and retry, all Transition) writes the control's `at`, the idle
// time's start of the batch it resumes and its audit entry's `at` in
// Redis's clock, as a tick does (lua/tick.lua), not in the clock of the
// host that runs the command: status compares them with each other and
// with Redis's TIME. Before, an operator's laptop 3 hours behind paused
// and resumed a campaign 3 hours ago: its idle time started 3 hours
// before the pause, and its audit log and control said so. The
// compare-and-set on the stored `at` (IfAt) still holds.
func TestControlTimesAreRedisClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, l := releasedTwoChunks(t, "skewctl")
	// A claim ends the release's idle time: a resume starts a new one.
	if _, err := l.Step(ctx, nil, []Claim{{ID: "r0", Lang: "de", Token: "a"}}, Policy{MaxAttempts: 3}, time.Now()); err != nil {
		t.Fatal(err)
	}
	behind := func() time.Time { return time.Now().Add(-3 * time.Hour) }
	a := Actor{Who: "op", Host: "laptop", Env: "test"}
	near := func(t *testing.T, what string, got time.Time) {
		t.Helper()
		if now := time.Now(); got.Before(now.Add(-time.Hour)) || got.After(now.Add(time.Hour)) {
			t.Errorf("%s %v, %v from now; want Redis's clock (this host's: now, give or take the test's time)", what, got, got.Sub(now).Round(time.Second))
		}
	}
	lastAudit := func(t *testing.T, action string) {
		t.Helper()
		st, err := s.Status(ctx, "skewctl")
		if err != nil {
			t.Fatal(err)
		}
		near(t, "status read at (Status.Now)", st.Now)
		if n := len(st.Audit); n == 0 || st.Audit[n-1].Action != action {
			t.Fatalf("audit %+v: want the %s last", st.Audit, action)
		} else {
			near(t, "the audit's "+action+" at", st.Audit[n-1].At)
		}
	}
	pause := TransitionParams{From: []State{StateRunning}, To: StatePaused, Actor: a, Action: "pause", Reason: "check", WhileStaging: true}
	if _, moved, err := s.transition(ctx, "skewctl", pause, behind()); err != nil || !moved {
		t.Fatalf("pause: moved %v, %v", moved, err)
	}
	ctl, err := s.Control(ctx, "skewctl")
	if err != nil {
		t.Fatal(err)
	}
	near(t, "paused at", ctl.At)
	lastAudit(t, "pause")

	resume := TransitionParams{From: []State{StatePaused}, To: StateRunning, Actor: a, Action: "resume", ResetWindow: true}
	// A compare-and-set on the stored at: a stale one moves nothing, the
	// one read moves.
	stale := resume
	stale.IfAt = ctl.At.Add(-time.Millisecond)
	if _, moved, err := s.transition(ctx, "skewctl", stale, behind()); err != nil || moved {
		t.Fatalf("resume if at a time not the control's: moved %v, %v; want not moved", moved, err)
	}
	resume.IfAt = ctl.At
	if _, moved, err := s.transition(ctx, "skewctl", resume, behind()); err != nil || !moved {
		t.Fatalf("resume if at the control's at: moved %v, %v", moved, err)
	}
	if ctl, err = s.Control(ctx, "skewctl"); err != nil {
		t.Fatal(err)
	}
	near(t, "resumed at", ctl.At)
	lastAudit(t, "resume")
	since, err := s.rdb.HGet(ctx, keysFor("skewctl").control, "idle_since").Int64()
	if err != nil {
		t.Fatalf("idle_since after the resume: %v", err)
	}
	near(t, "idle since", fromMS(since))
}
