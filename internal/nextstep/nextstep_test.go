package nextstep

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestStagingAdvice: a refusal while a campaign is being staged says, for
// its first staging, to run the same send again as it was (never
// --resume-existing, which is for a campaign that exists) or to give it
// up with a cancel, which removes what the staging left; a cancel refused
// (a send is writing it) says to cancel again once that staging ended;
// for a re-staging, send --resume-existing. Without an environment (a
// console of a campaign file alone) it names no --env, rather than an
// empty one.
func TestStagingAdvice(t *testing.T) {
	t.Parallel()
	type advice struct {
		name, action, env string
		first             bool
		want, not         []string
	}
	for _, tt := range []advice{
		{"first staging", "resume", "production", true, []string{"cannot resume altea: its first staging has not ended", "run it again as it was (CAMPAIGN-FILE: the campaign file you staged it from): tidings send CAMPAIGN-FILE --env production (with the flags it had)", "give it up (nothing was sent): tidings cancel altea --env production --reason ... removes what the staging left"}, []string{"--resume-existing"}},
		{"first staging, cancel", "cancel", "production", true, []string{"cannot cancel altea: its first staging has not ended and a send is writing it now", "run the cancel again then"}, []string{"--resume-existing", "pause it"}},
		{"re-staging", "resume", "production", false, []string{"cannot resume altea: it is being staged", "run it again (CAMPAIGN-FILE: the campaign file you staged it from): tidings send CAMPAIGN-FILE --env production --resume-existing"}, []string{"first staging"}},
		// A cancel of a re-staging not ended says why it cannot act
		// (the staging's recipients are half written) and what to run:
		// pause, which holds once it is staged; the send run again; then
		// the cancel.
		{"re-staging, cancel", "cancel", "production", false, []string{"cannot cancel altea: its staging again has not ended",
			"a cancel records each recipient of the campaign's staging not yet sent as cancelled, and this staging's recipients are only partly written",
			"no worker sends it meanwhile", "pause it, if it is not paused already: tidings pause altea --env production --reason ...",
			"the pause stays when it is staged", "tidings send CAMPAIGN-FILE --env production --resume-existing", "then cancel it (tidings cancel altea --env production --reason ...)"}, []string{"first staging"}},
		{"first staging, no environment", "retry", "", true, []string{"tidings send CAMPAIGN-FILE (with the flags it had)", "tidings cancel altea --reason ..."}, []string{"--env"}},
		{"re-staging, no environment", "cancel", "", false, []string{"tidings send CAMPAIGN-FILE --resume-existing", "tidings cancel altea --reason ..."}, []string{"--env"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Staging(tt.action, "altea", tt.env, tt.first)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("want %q in\n%s", w, got)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("want no %q in\n%s", n, got)
				}
			}
		})
	}
}

// TestStillFailed: after a retry of temporary failures, the recipients
// still failed are counted, with where their replies are and the retry
// that re-queues them once their cause is fixed; none, nothing is said.
func TestStillFailed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		n    int64
		want []string
	}{
		{0, nil},
		{20, []string{"20 recipient(s) of altea are still failed", "tidings report altea --env production --outcome failed", "tidings retry altea --env production --permanent", "not the recipient (550 5.1.1"}},
	} {
		got := StillFailed(tt.n, "altea", "production")
		if tt.want == nil && got != "" {
			t.Errorf("StillFailed(%d) = %q, want nothing", tt.n, got)
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("StillFailed(%d): want %q in\n%s", tt.n, w, got)
			}
		}
	}
}

// TestInDoubtNamesWhatStatusNames: the console's word on recipients in
// doubt names the command that status's hint for them names.
func TestInDoubtNamesWhatStatusNames(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		n    int64
		want string
	}{
		{1, "1 in doubt: "},
		{12, "12 in doubt: "},
	} {
		got := InDoubt(tt.n, "altea", "production")
		cmd := "tidings report altea --env production --outcome in-doubt"
		if !strings.HasPrefix(got, tt.want) || !strings.Contains(got, "("+cmd+" lists them)") || !strings.HasSuffix(Hint(store.NextInDoubt, "altea", "production"), ": "+cmd) {
			t.Errorf("InDoubt(%d) = %q; want it to start %q and name %s, as the hint does (%q)", tt.n, got, tt.want, cmd, Hint(store.NextInDoubt, "altea", "production"))
		}
	}
}

// TestHintPausedDoesNotSayToPause: for a staging that did not end and is
// paused already, the hint says what to run without telling to pause it;
// any other hint is Hint's.
func TestHintPausedDoesNotSayToPause(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		next    store.Next
		trimmed bool
	}{
		{store.NextStageAgain, true},
		{store.NextRestageAgain, true},
		{store.NextResume, false},
	} {
		full, got := Hint(tt.next, "altea", "production"), HintPaused(tt.next, "altea", "production")
		switch {
		case tt.trimmed && (strings.Contains(got, "tidings pause") || !strings.HasPrefix(full, got) || got == full):
			t.Errorf("HintPaused(%v) = %q; want %q without its advice to pause", tt.next, got, full)
		case !tt.trimmed && got != full:
			t.Errorf("HintPaused(%v) = %q; want Hint's %q", tt.next, got, full)
		}
	}
}

// TestCanaryRunning: an approval refused because the canary is still
// being sent says so once, for `tidings approve` and the console alike:
// nobody has checked it, nothing changed, approve once status says
// awaiting-approval, or approve in advance with the command that does.
// Without an environment it names no --env.
func TestCanaryRunning(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		env       string
		want, not []string
	}{
		{"staging", []string{"cannot approve altea: its canary (the first batch) is still being sent, or not yet released, so nobody has checked it; nothing changed", "'tidings status altea --env staging' shows awaiting-approval", "tidings approve altea --env staging --in-advance"}, nil},
		{"", []string{"'tidings status altea' shows awaiting-approval", "tidings approve altea --in-advance"}, []string{"--env"}},
	} {
		says(t, fmt.Sprintf("CanaryRunning(altea, %q)", tt.env), CanaryRunning("altea", tt.env), tt.want, tt.not)
	}
}

// TestCanaryNotDone: an approval refused while canary recipients wait for
// a retry (red team: the relay down, the canary's gate paused it, approve
// was accepted with nobody delivered) says how many wait, the last error
// when at hand, and what to do: resume a paused campaign so their retries
// run (a running one runs them), fix the relay, approve in advance, or
// cancel; with none waiting, it is CanaryRunning's refusal.
func TestCanaryNotDone(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		e         store.TransitionError
		want, not []string
	}{
		{"first pass running", store.TransitionError{Campaign: "altea", State: store.StateRunning}, []string{CanaryRunning("altea", "staging")}, []string{"retry"}},
		{"paused by the gate, 9 waiting", store.TransitionError{Campaign: "altea", State: store.StatePaused, Waiting: 9, LastError: "451 4.3.0 try again later"},
			[]string{"cannot approve altea: 9 of its canary's recipients wait (last error: 451 4.3.0 try again later) for a retry", "still being sent and nobody has checked it; nothing changed", "Fix what refused them (the relay, the SMTP server)", "tidings resume altea --env staging", "shows awaiting-approval", "tidings approve altea --env staging --in-advance", "tidings cancel altea --env staging"}, nil},
		{"running, 1 waiting, no error at hand", store.TransitionError{Campaign: "altea", State: store.StateRunning, Waiting: 1},
			[]string{"1 of its canary's recipients waits for a retry", "let their retries run"}, []string{"last error", "tidings resume"}},
		// A retry re-queued them and did not move it back to running
		// (interrupted): a retry again does.
		{"awaiting approval, 2 re-queued", store.TransitionError{Campaign: "altea", State: store.StateAwaitingApproval, Waiting: 2, LastError: "550 5.7.1"},
			[]string{"2 of its canary's recipients wait (last error: 550 5.7.1) for a retry (after a temporary failure, or re-queued by tidings retry)", "run the retry again (tidings retry altea --env staging)"}, []string{"tidings resume", "let their retries run"}},
	} {
		says(t, tt.name, CanaryNotDone(&tt.e, "staging"), tt.want, tt.not)
	}
}

// TestRequeued: what `tidings retry` answers (and the console's Retry,
// CanaryRequeued): how many; a paused campaign sends them once resumed;
// of the canary's of a campaign awaiting approval, that it is back to
// running its canary and will await approval again; an approval given
// before stands; none of the canary's re-queued says nothing of it.
func TestRequeued(t *testing.T) {
	t.Parallel()
	perm := store.RetryScope{Permanent: true}
	for _, tt := range []struct {
		name      string
		r         store.Retried
		want, not []string
	}{
		{"awaiting approval, the canary's", store.Retried{N: 3, Canary: 3, State: store.StateRunning, Rerun: true},
			[]string{"Re-queued 3 temporary and permanent failures of altea. 3 of them are its canary's: the campaign is back to running its canary; it will await approval again once they are sent, and approve is refused until then."}, []string{"paused"}},
		{"paused, the canary's", store.Retried{N: 3, Canary: 3, State: store.StatePaused, Paused: true},
			[]string{"it is paused: they go out after 'tidings resume altea --env staging'.", "once resumed, it sends them before it awaits approval; approve is refused until they are sent."}, []string{"back to running"}},
		{"approved before", store.Retried{N: 3, Canary: 3, State: store.StatePaused, Paused: true, Approved: true},
			[]string{"which was approved before this retry", "that approval stands", "without a new approval"}, []string{"refused"}},
		{"none of the canary's", store.Retried{N: 2, State: store.StateRunning},
			[]string{"Re-queued 2 temporary and permanent failures of altea."}, []string{"canary", "approv"}},
		{"nothing", store.Retried{}, []string{"Re-queued 0 temporary and permanent failures of altea."}, []string{"canary", "paused"}},
	} {
		says(t, tt.name, Requeued(tt.r, perm, "altea", "staging"), tt.want, tt.not)
	}
}

// says checks that got, what call says, has every one of want and none of
// not.
func says(t *testing.T, call, got string, want, not []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: want %q in\n%s", call, w, got)
		}
	}
	for _, n := range not {
		if strings.Contains(got, n) {
			t.Errorf("%s: want no %q in\n%s", call, n, got)
		}
	}
}

// TestPausedWhileStaging: the pause made while a campaign's staging had
// not ended is worded with who and why, and what else acts on it: cancel
// (which gives it up) of a first staging that never finished, nothing
// else otherwise, with when (UTC) when known; HintOf then leaves out the
// advice to pause it (of one being staged, it says nothing more). Without
// such a pause, nothing is said and HintOf is Hint.
func TestPausedWhileStaging(t *testing.T) {
	t.Parallel()
	pause := &store.Control{State: store.StatePaused, By: "alice@ops", Reason: "fix the list"}
	at := &store.Control{State: store.StatePaused, By: "alice@ops", Reason: "fix the list", At: time.Date(2026, 3, 1, 10, 30, 0, 0, time.FixedZone("CET", 3600))}
	for _, tt := range []struct {
		state   store.State
		paused  *store.Control
		next    store.Next
		want    string
		hintNot string
	}{
		{store.StateRestagingInterrupted, pause, store.NextRestageAgain, "paused meanwhile by alice@ops (fix the list): the pause stays once it is staged, and nothing else acts on it until then", "tidings pause"},
		{store.StateStagingInterrupted, pause, store.NextStageAgain, "paused meanwhile by alice@ops (fix the list): the pause stays once it is staged, and only cancel, which gives it up, acts on it until then", "tidings pause"},
		{store.StateBeingStaged, pause, store.NextPause, "paused meanwhile by alice@ops (fix the list)", "tidings pause"}, // what Control.Next says of it
		{store.StateStagingInterrupted, at, store.NextStageAgain, "paused meanwhile by alice@ops at 2026-03-01 09:30:00 UTC (fix the list): ", "tidings pause"},
		{store.StateRestagingInterrupted, nil, store.NextRestageAgain, "", "meanwhile by"},
	} {
		st := &store.Status{Campaign: "altea", Env: "production", Control: store.Control{State: tt.state}, PausedWhileStaging: tt.paused}
		if got := PausedWhileStaging(st); tt.want == "" && got != "" || !strings.HasPrefix(got, tt.want) {
			t.Errorf("PausedWhileStaging(%s, paused %v) = %q, want %q", tt.state, tt.paused != nil, got, tt.want)
		}
		hint := HintOf(tt.next, st)
		if strings.Contains(hint, tt.hintNot) || tt.paused == nil && hint != Hint(tt.next, "altea", "production") {
			t.Errorf("HintOf(%v, %s, paused %v) = %q; want no %q", tt.next, tt.state, tt.paused != nil, hint, tt.hintNot)
		}
	}
}

// TestHintOfAnUnknownEnvironment: of a campaign whose environment is not
// known (a record of an older version), what to run names ENV, for the
// operator to fill in, never an empty --env.
func TestHintOfAnUnknownEnvironment(t *testing.T) {
	t.Parallel()
	for _, got := range []string{
		Hint(store.NextResume, "altea", ""),
		HintPaused(store.NextRestageAgain, "altea", ""),
		HintOf(store.NextRetry, &store.Status{Campaign: "altea"}),
		RetryPermanent("altea", "", "550"),
		StillFailed(2, "altea", ""),
	} {
		if !strings.Contains(got, "--env ENV") || strings.Contains(got, "--env  ") || strings.Contains(got, "--env --") || strings.HasSuffix(got, "--env") {
			t.Errorf("want --env ENV and no empty --env in\n%s", got)
		}
	}
}

// TestReportError: a report refused because the campaign's first staging
// runs says by whom, since when (when known) and to report it once its
// send ends, and no longer wraps the refusal (which exits 3); any other
// error, and none, pass as they are.
func TestReportError(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 5, 12, 30, 0, 0, time.FixedZone("CET", 3600))
	other := errors.New("read rows: connection refused")
	for _, tt := range []struct {
		name string
		err  error
		want string // "" for err as it is
	}{
		{"since known", fmt.Errorf("report: %w", &store.BeingStagedError{Campaign: "spring", By: "bob@box2", Since: at}),
			`campaign "spring" is being staged by bob@box2 since 2026-12-05 11:30:00 UTC: it has no report until that staging ends (its recipients are being written); report it once its send ends: tidings report spring --env prod`},
		{"since unknown", &store.BeingStagedError{Campaign: "spring", By: "bob@box2"},
			`campaign "spring" is being staged by bob@box2: it has no report until that staging ends (its recipients are being written); report it once its send ends: tidings report spring --env prod`},
		{"another error", other, ""},
		{"none", nil, ""},
	} {
		got := ReportError(tt.err, "spring", "prod")
		switch {
		case tt.want == "" && got != tt.err:
			t.Errorf("%s: ReportError(%v) = %v; want it as it is", tt.name, tt.err, got)
		case tt.want != "" && (got == nil || got.Error() != tt.want || errors.As(got, new(*store.BeingStagedError))):
			t.Errorf("%s: ReportError = %v\nwant %s, not wrapping the refusal", tt.name, got, tt.want)
		}
	}
}
