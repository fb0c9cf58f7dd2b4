package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/oneline"
)

// Control is a campaign's control state.
type Control struct {
	State    State     `json:"state"`
	Reason   string    `json:"reason,omitempty"`
	By       string    `json:"by,omitempty"`
	At       time.Time `json:"at"`
	Approved bool      `json:"approved"`
	CurBatch int       `json:"current_batch"` // highest released batch, -1 before the first
	Stage    string    `json:"stage"`         // id of the current staging
	Run      string    `json:"run"`           // id of the run (kept by resume-existing)
	// Action is the audit action of the last state change (stage, pause,
	// state-loss, journal, resume, auto-pause, await-approval, approve,
	// done, ...), written by every script that changes the state: why the
	// campaign is in its state.
	Action string `json:"action,omitempty"`
	// Unrecorded is, of the control in force an action found (Already),
	// the reason that action was given and did not record; "" when it
	// was given none.
	Unrecorded string `json:"-"`
}

// Control reads the control state of campaign c.
func (s *Store) Control(ctx context.Context, c string) (*Control, error) {
	m, err := s.rdb.HGetAll(ctx, keysFor(c).control).Result()
	if err != nil {
		return nil, fmt.Errorf("read control of %s: %w", c, err)
	}
	if len(m) == 0 {
		return nil, s.notFound(ctx, "read control", c)
	}
	return parseControl(m), nil
}

func parseControl(m map[string]string) *Control {
	return &Control{
		State: State(m["state"]), Reason: m["reason"], By: m["by"], At: fromMS(atoi64(m["at"])),
		Approved: m["approved"] == "1", CurBatch: atoi(cmp.Or(m["cur_batch"], "-1")),
		Stage: m["stage"], Run: m["run"], Action: m["action"],
	}
}

// Probe is what a worker re-reads of a campaign every few hundred
// milliseconds: its state, its staging, and the number of recipients sent
// (which never decreases while Redis keeps its state).
type Probe struct {
	State State // "" when the campaign is gone
	Stage string
	At    time.Time // of its last state change
	Sent  int64
	Env   string // the environment it was staged in ("" while being staged)
	// Format is its stored format (Meta.Format; FormatNone while being
	// staged, or staged by a build before stored formats).
	Format int
}

// Probe reads the Probe of c in one round trip.
func (s *Store) Probe(ctx context.Context, c string) (Probe, error) {
	k := keysFor(c)
	p := s.rdb.Pipeline()
	ctl := p.HMGet(ctx, k.control, "state", "stage", "at")
	cnt := p.HGet(ctx, k.counts, OutcomeSent)
	meta := p.HMGet(ctx, k.meta, "env", "format")
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return Probe{}, fmt.Errorf("read control of %s: %w", c, err)
	}
	cv, mv := ctl.Val(), append(meta.Val(), nil, nil) // nil, nil: meta's own error (redis.Nil came first)
	return Probe{State: State(strOr(cv[0], "")), Stage: strOr(cv[1], ""), At: fromMS(atoi64(strOr(cv[2], ""))), Sent: atoi64(cnt.Val()),
		Env: strOr(mv[0], ""), Format: atoi(strOr(mv[1], ""))}, nil
}

// TransitionParams describe a control change.
type TransitionParams struct {
	From        []State // states the campaign may move from
	To          State
	Actor       Actor
	Action      string // audit action; "" records no audit entry
	Reason      string
	ResetWindow bool // start the auto-pause window afresh
	// Unless, when set, forbids the move while the current state was set
	// by a Transition with this Action: a *TransitionError with PausedFor.
	Unless string
	// Keep lists states the action is taken in without a move: the audit
	// entry is recorded (and Approve applied), the state stays.
	Keep    []State
	Approve bool // mark the canary approved
	// WhileStaging allows the action while the campaign is being staged
	// (pause); any other is then a *TransitionError with PausedFor
	// "staging".
	WhileStaging bool
	// IfAt, when set, makes the move only while the control's At is still
	// IfAt: nobody changed the state since the caller read it (a worker's
	// pause does not undo a resume made meanwhile). Stage, when set, makes
	// the move, or the action kept, only while the campaign's staging is
	// still Stage: else a *TransitionError with PausedFor StagedAgain.
	IfAt  time.Time
	Stage string
	// CanaryDone makes Approve refuse a campaign whose canary is still
	// being sent (or not released), or has recipients waiting for a
	// retry: a *TransitionError, PausedFor CanaryRunning (with Waiting
	// and LastError then).
	CanaryDone bool
	// CanaryRetried, for a retry, moves a campaign awaiting approval whose
	// canary's recipients wait for a retry (the retry re-queued some) to
	// To (running), which sends them; else its state is kept. Nothing is
	// claimed while it awaits approval: they would never be sent.
	CanaryRetried bool
	// MetaLost allows the action on a campaign whose meta Redis lost after
	// its staging ended, while no send stages it (lua/transition.lua's
	// metaLost): a cancel; without it, it is taken for a staging under way.
	MetaLost bool
}

// Transition atomically moves campaign c from one of p.From to p.To (or
// takes the action in one of p.Keep) and records the audit entry. It
// reports the state found and whether it moved. Errors: *NotFoundError, or
// an *AckError when the change was not acknowledged by enough replicas.
func (s *Store) Transition(ctx context.Context, c string, p TransitionParams) (State, bool, error) {
	return s.transition(ctx, c, p, time.Now())
}

// transition is Transition with now, the caller's clock (a test's skewed).
func (s *Store) transition(ctx context.Context, c string, p TransitionParams, now time.Time) (State, bool, error) {
	k := keysFor(c)
	list := func(sts []State) string { return strings.Trim(fmt.Sprint(sts), "[]") } // "a b", as fmt prints a slice
	audit, what := "", fmt.Sprintf("set %s to %s", c, p.To)
	if p.Action != "" {
		audit, what = auditJSON(now, p.Actor, p.Action, p.Reason), p.Action+" "+c // approve in advance sets no state
	}
	// go-redis sends a bool as 1 or 0.
	args := []any{list(p.From), string(p.To), oneline.Of(p.Reason), p.Actor.String(), ms(now), audit, p.ResetWindow, p.Action, p.Unless, list(p.Keep), p.Approve, p.WhileStaging, p.Actor.Env, ms(p.IfAt), p.Stage, p.CanaryDone, p.CanaryRetried, p.MetaLost}
	v, ack, err := s.eval(ctx, transitionScript, []string{k.control, k.audit, k.win, k.winerr, k.meta, k.batches, k.bstats, k.errors, k.staging}, args...)
	if err != nil {
		return "", false, fmt.Errorf("%s: %w", what, err)
	}
	res := v.([]any)
	st, _ := res[0].(string)
	if st == "" {
		return "", false, s.controlGone(ctx, what, c)
	}
	if env, ok := strings.CutPrefix(fmt.Sprint(res[2]), "env:"); ok {
		return State(st), false, fmt.Errorf("%s: %w", what, checkEnv(c, env, p.Actor.Env))
	}
	if by, _ := res[2].(string); by == "approved" {
		return State(st), false, errUnchanged
	} else if by != "" {
		te := &TransitionError{Campaign: c, Action: p.Action, State: State(st), PausedFor: by}
		if len(res) == 5 { // the canary's recipients waiting for a retry, the last error
			n, _ := res[3].(int64)
			te.Waiting, te.LastError = int(n), fmt.Sprint(res[4])
		}
		if by == "staging" {
			pl := s.rdb.Pipeline()
			metaC, leaseC := pl.Exists(ctx, k.meta), pl.Exists(ctx, k.staging)
			_, _ = pl.Exec(ctx) // an error: said as a re-staging
			te.FirstStaging = metaC.Val() == 0
			// Or Redis lost the meta of a campaign staged, which no send
			// stages (not a first staging interrupted, nor one under way):
			// said as status says it.
			if ml := (*MetaLostError)(nil); metaC.Val() == 0 && leaseC.Val() == 0 && p.Action != "" {
				if _, lost := s.metaLost(ctx, c, p.Actor.Env, k); errors.As(lost, &ml) {
					ml.Action = p.Action
					return State(st), false, fmt.Errorf("%s: %w", what, ml)
				}
			}
		}
		return State(st), false, fmt.Errorf("%s: %w", what, te)
	}
	moved := res[1].(int64) == 1
	if moved {
		ack = cmp.Or(s.markActive(ctx, c, p.To), ack) // the failure to list it first: it is not an *AckError
		s.announce(ctx, c)
	}
	return State(st), moved, wrapf(ack, "%s", what)
}

// markActive keeps the global set of active campaigns in step with c's
// state (a key of another Cluster slot, so written after the change).
func (s *Store) markActive(ctx context.Context, c string, st State) error {
	mark := s.rdb.SAdd
	if st.Finished() {
		mark = s.rdb.SRem
	}
	return wrapf(mark(ctx, keyActive, c).Err(), "update the active campaigns for %s", c)
}

// act makes the change p of a control command to c. A campaign
// already in p.To, or in a state p.Keep lists, is fine as it is; one in a
// state p.From does not list is a *TransitionError (also when the replicas
// did not acknowledge that nothing changed). It reports whether c moved,
// and whether it is in p.To or kept.
func (s *Store) act(ctx context.Context, c string, p TransitionParams) (moved, ok bool, err error) {
	st, moved, err := s.Transition(ctx, c, p)
	ok = moved || st == p.To || slices.Contains(p.Keep, st)
	if !ok && (err == nil || errors.As(err, new(*AckError))) {
		return false, false, &TransitionError{Campaign: c, Action: p.Action, State: st}
	}
	return moved, ok, err
}

// Pause stops campaign c: workers stop claiming within a second (sends
// already handed to SMTP finish). Pausing a paused campaign changes
// nothing and records nothing: Pause then returns the pause in force
// (who, when, why), so that a second person is not led to think their
// reason was recorded; else nil.
func (s *Store) Pause(ctx context.Context, c string, a Actor, reason string) (*Control, error) {
	return s.toggle(ctx, c, TransitionParams{From: []State{StateRunning, StateAwaitingApproval, StateStaged},
		To: StatePaused, Actor: a, Action: "pause", Reason: reason, WhileStaging: true})
}

// toggle makes p's transition of c (a pause or a resume). When c was in
// p.To already it returns c's control as read then (Control.Already says
// who made it so); when it was moved back meanwhile (resumed, paused), it
// makes the transition again.
func (s *Store) toggle(ctx context.Context, c string, p TransitionParams) (*Control, error) {
	for {
		moved, ok, err := s.act(ctx, c, p)
		if moved || !ok || err != nil {
			return nil, err
		}
		if ctl, err := s.inForce(ctx, c, p.Action, p.To, p.Reason); ctl != nil || err != nil {
			return ctl, err
		}
	}
}

// inForce reads, after action found campaign c already in state st (or,
// for approve, approved) and so changed nothing and recorded nothing, the
// control in force: who put it there, when and why. It is nil when c is
// no longer so (changed meanwhile). reason is the one action was given,
// not recorded (Control.Unrecorded).
func (s *Store) inForce(ctx context.Context, c, action string, st State, reason string) (*Control, error) {
	ctl, err := s.Control(ctx, c)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s %s: it is %s already, but who made it so could not be read: %w", action, c, st, err)
	case action == "approve" && !ctl.Approved, action != "approve" && ctl.State != st:
		return nil, nil
	}
	ctl.Unrecorded = reason
	return ctl, nil
}

// Already says that action (pause, cancel, resume or approve) found the
// campaign already as it would have left it, under control c: by whom,
// when and why, and that nothing changed (nor, when it was given one,
// was its reason recorded: c.Unrecorded).
func (c *Control) Already(action string) string {
	by := c.byWhom()
	unchanged := "nothing changed"
	if c.Unrecorded != "" { // a resume or an approval may be given none
		unchanged += ", and this reason is not recorded"
	}
	switch action {
	case "resume":
		return fmt.Sprintf("already running (%s %s): %s", cmp.Or(c.Action, "set"), by, unchanged)
	case "approve":
		if c.Action != "approve" { // approved in advance: its entry is in the audit log
			by = "(see the audit log)"
		}
		return "already approved " + by + ": " + unchanged
	}
	what := map[string]string{"pause": "paused", "cancel": "cancelled"}[action]
	return "already " + what + " " + by + ": " + unchanged
}

// byWhom says who set control c, when, and why (when a reason was given).
func (c *Control) byWhom() string {
	by := fmt.Sprintf("by %s at %s", c.By, c.At.UTC().Format("2006-01-02 15:04:05 UTC"))
	if c.Reason != "" { // a resume or a staging may have none
		by += " (" + c.Reason + ")"
	}
	return by
}

// AlreadyOr is what a control action on campaign camp says: done when
// it changed something (c is nil), else that camp was already so (c,
// the control in force: Already).
func (c *Control) AlreadyOr(camp, action, done string) string {
	if c == nil {
		return done
	}
	return camp + " was " + c.Already(action) + "."
}

// Resume continues a paused (or staged) campaign where it stopped and
// starts the auto-pause window afresh: auto-pause can trigger again only
// after MinAttempts new attempts. Resuming a running campaign changes
// nothing and records nothing: Resume then returns the control in force
// (who set it running, when, why); else nil.
func (s *Store) Resume(ctx context.Context, c string, a Actor, reason string) (*Control, error) {
	// A campaign a worker paused because Redis forgot deliveries its
	// journal holds is never resumed: that would send them again.
	// Only a campaign of this build's stored format, of the staging read.
	stage, err := s.controlFormat(ctx, c, "resume", a.Env)
	if err != nil {
		return nil, err
	}
	return s.toggle(ctx, c, TransitionParams{From: []State{StatePaused, StateStaged},
		To: StateRunning, Actor: a, Action: "resume", Reason: reason, ResetWindow: true, Unless: "state-loss", Stage: stage})
}

// Approve releases a campaign waiting after its canary (and starts the
// auto-pause window afresh); one paused after its canary was done is
// approved and stays paused. A campaign whose canary is still being sent
// (or not released), or has recipients waiting for a retry (Waiting, with
// the LastError), is refused, a *TransitionError PausedFor
// CanaryRunning (PausedFor NoCanary when it was staged without one:
// nothing to approve), unless inAdvance: then it is approved in advance, and the
// batches after the canary go without waiting. With stage set, only while
// stage is the campaign's staging: an approval given on what someone saw
// of one staging (the console's page) never releases a later one, whose
// canary may be other people (a *TransitionError, PausedFor StagedAgain).
//
// Approving a campaign approved already (and not awaiting approval)
// changes nothing and records nothing: Approve then returns the control in
// force; else nil.
func (s *Store) Approve(ctx context.Context, c, stage string, inAdvance bool, a Actor, reason string) (*Control, error) {
	// Only a campaign of this build's stored format, of the staging read
	// (when the caller names none).
	staged, err := s.controlFormat(ctx, c, "approve", a.Env)
	if err != nil {
		return nil, err
	}
	_, _, err = s.act(ctx, c, TransitionParams{From: []State{StateAwaitingApproval}, Keep: []State{StateRunning, StatePaused, StateStaged},
		To: StateRunning, Actor: a, Action: "approve", Reason: s.approvalRecord(ctx, c, reason), ResetWindow: true, Approve: true, Stage: cmp.Or(stage, staged), CanaryDone: !inAdvance})
	// Of a campaign staged without a canary (its batch 0 is none), there
	// is no canary to wait for; when that cannot be read, the refusal
	// says what it said.
	if te := (*TransitionError)(nil); errors.As(err, &te) && te.PausedFor == CanaryRunning {
		if m, merr := s.Meta(ctx, c, false); merr == nil && len(m.Batches) > 0 && !m.Batches[0].Canary {
			return nil, &TransitionError{Campaign: c, Action: "approve", State: te.State, PausedFor: NoCanary} // none at all
		}
	}
	if !errors.Is(err, errUnchanged) {
		return nil, err
	}
	ctl, err := s.inForce(ctx, c, "approve", "approved", reason)
	if ctl == nil && err == nil { // staged again meanwhile: approve that
		return s.Approve(ctx, c, stage, inAdvance, a, reason)
	}
	return ctl, err
}

// errUnchanged is Transition's error for an approval of a campaign
// approved already: nothing was written.
var errUnchanged = errors.New("approved already: nothing changed")

// CanaryRunning is the PausedFor of a *TransitionError for an approval of
// a canary still being sent.
const CanaryRunning = "canary-running"

// NoCanary is the PausedFor of a *TransitionError for an approval of a
// campaign staged without a canary (canary_per_locale 0): nothing to
// approve.
const NoCanary = "no-canary"

// StagedAgain is the PausedFor of a *TransitionError for an action meant
// for a staging that is no longer the campaign's.
const StagedAgain = "staged-again"

// Cancelled is what a Cancel recorded.
type Cancelled struct {
	// Recipients is how many recipients not yet sent it recorded as
	// cancelled.
	Recipients int
	// InFlight is how many it found being sent at that moment (in the SMTP
	// server's hands): recorded in-doubt until their senders record the
	// real outcome (sent, failed, or in doubt for good), so the counts are
	// final only once they have.
	InFlight int
	// Total and TotalInFlight are Recipients and InFlight summed over
	// every sweep of the campaign's cancel: this one's, and another's of
	// the same campaign that shared its chunks (two cancels at once: the
	// one that found it cancelled sweeps too, as it does the rest a cancel
	// interrupted left). Once any sweep has ended, every chunk is swept,
	// so they are the final counts (but for those in flight). They fall
	// back to this sweep's own when the sums could not be read.
	Total, TotalInFlight int
	// StillInFlight is, of a cancel that found the campaign cancelled
	// already, how many of TotalInFlight are being sent still when it
	// ran: in doubt under the claim the sweep found, their sender's record
	// not come yet (stillInFlight). Answer says it, not what was in flight
	// at the moment of the cancel in force.
	StillInFlight int
	// Dropped: the campaign's first staging had not ended and no send
	// was staging it (StateStagingInterrupted), so nothing was ever sent:
	// the cancel removed what that staging left (dropStaging).
	Dropped bool
	// KeptLedger is, of a first staging Dropped that came after a
	// staging whose meta Redis lost, how many recipients' entries the
	// ledger of that lost staging holds, which the cancel kept (a send of
	// the campaign again must mail none of those it records as sent): 0
	// when it kept none.
	KeptLedger int64
	// MetaLost: Redis had lost the campaign's meta (its batches and
	// chunks are unknown), so the cancel stopped it but could record none
	// of its recipients: Recipients and InFlight are 0, and who was sent
	// is in the workers' journals.
	MetaLost bool
}

// Say says what the cancel recorded: how many recipients it cancelled
// and, when some were being sent at that moment, that the count is not
// final until their outcomes are recorded; final says where to read the
// final count.
func (c Cancelled) Say(final string) string {
	if c.Dropped && c.KeptLedger > 0 {
		return fmt.Sprintf("its first staging never finished, so it sent nothing: what it left in Redis is removed, but Redis keeps the ledger of the staging whose meta Redis lost (%d recipients), with no expiry, so that a send of the campaign again mails none of those it records as sent (its audit log keeps the cancel); the campaign can be staged anew.", c.KeptLedger)
	}
	if c.Dropped {
		return "its first staging never finished, so nothing was sent: what it left in Redis is removed (its audit log keeps the cancel), and the campaign can be staged anew."
	}
	if c.MetaLost {
		return MetaLost + ", so which recipients it has is unknown: the campaign is cancelled (nothing more is sent), but no recipient could be recorded as cancelled, and its counts are what Redis kept; who was sent is in the workers' journals (report --journal)."
	}
	return c.sayTotal(final)
}

// sayTotal says the recipients the cancel recorded, with those a cancel
// of the same campaign run at the same time recorded for it.
func (c Cancelled) sayTotal(final string) string {
	n := max(c.Total, c.Recipients)
	others := ""
	if n > c.Recipients {
		others = fmt.Sprintf(" (%d of them by another cancel of it run at the same time, which found it cancelled and shared the sweep)", n-c.Recipients)
	}
	return sayCancelled(n, max(c.TotalInFlight, c.InFlight), others, final)
}

// sayCancelled says that n unsent recipients are recorded as cancelled
// (then adds more) and that inFlight were being sent; final says where
// to read the final count.
func sayCancelled(n, inFlight int, more, final string) string {
	said := fmt.Sprintf("%d unsent recipients recorded as cancelled%s", n, more)
	if inFlight == 0 {
		return said + "."
	}
	return fmt.Sprintf("%s; %d were being sent at that moment (claimed by a worker) "+
		"and end sent, failed, in doubt or cancelled once it records them, so this count is not final: %s", said, inFlight, final)
}

// Answer is what a cancel of campaign camp says: done (e.g. "Cancelled
// camp: ") and what it recorded, when it cancelled camp (already nil);
// else that camp was cancelled already (already: the cancel in force, by
// whom, when, why), what this command recorded that the sweep of that
// cancel had not reached (it was still running, or was interrupted), and
// the final count. final says where to read the final count when some
// were in flight.
func (c Cancelled) Answer(camp, done string, already *Control, final string) string {
	if already == nil {
		return done + c.Say(final)
	}
	total := c.sayNow(final)
	if c.Recipients == 0 && c.InFlight == 0 {
		said := already.AlreadyOr(camp, "cancel", "")
		if c.Total == 0 && c.TotalInFlight == 0 {
			return said
		}
		return said + " Its cancel: " + total
	}
	unrecorded := ""
	if already.Unrecorded != "" {
		unrecorded = ", and this reason is not recorded"
	}
	return fmt.Sprintf("%s was already cancelled %s%s; this command recorded %d more, which the sweep of that cancel had not reached (still running, or interrupted): %s",
		camp, already.byWhom(), unrecorded, c.Recipients+c.InFlight, total)
}

// sayNow says, for a cancel that found the campaign cancelled already,
// the recipients its cancel recorded in all and, of those it found being
// sent, how many still are now (StillInFlight), not at that moment.
func (c Cancelled) sayNow(final string) string {
	said := fmt.Sprintf("%d unsent recipients recorded as cancelled in all", c.Total)
	switch {
	case c.TotalInFlight == 0 && c.StillInFlight == 0:
		return said + "."
	case c.StillInFlight == 0:
		return fmt.Sprintf("%s; none is being sent now: each of the %d it found being sent has its outcome recorded (sent, failed, in doubt or cancelled).", said, c.TotalInFlight)
	}
	return fmt.Sprintf("%s; of the %d it found being sent, still being sent now: %d (claimed by a worker; each ends sent, failed, in doubt or cancelled once it records it), so this count is not final: %s",
		said, max(c.TotalInFlight, c.StillInFlight), c.StillInFlight, final)
}

// Cancel stops campaign c for good: it sets the state cancelled (claims
// stop at once), then records every recipient not yet sent as cancelled
// (one being sent at that moment as in-doubt, until its sender records
// the real outcome), so that counts reconcile. It returns how many
// recipients it cancelled and how many were in flight. Cancelling a cancelled campaign records the
// recipients a cancel interrupted left unrecorded, if any, and no audit
// entry: when it finds none, it changed nothing, and Cancel returns the
// cancel in force (who, when, why); else nil.
func (s *Store) Cancel(ctx context.Context, c string, a Actor, reason string) (Cancelled, *Control, error) {
	return s.cancel(ctx, c, "", a, reason, nil)
}

// CancelWatched is Cancel, calling progress (when not nil) after each chunk
// it swept with the recipients swept so far, of total staged: the sweep of
// a campaign of 200,000 recipients takes seconds.
func (s *Store) CancelWatched(ctx context.Context, c string, a Actor, reason string, progress func(done, total int)) (Cancelled, *Control, error) {
	return s.cancel(ctx, c, "", a, reason, progress)
}

// CancelStaging is Cancel of campaign c only while shown is its staging
// ("" = whichever is current, as Cancel): a cancel pressed on what someone
// saw of one staging (the console's page) never cancels a later one (a
// *TransitionError, PausedFor StagedAgain, with the state it is in). A
// first staging that never ended is dropped whatever shown is: nothing of
// it was sent.
func (s *Store) CancelStaging(ctx context.Context, c, shown string, a Actor, reason string) (Cancelled, *Control, error) {
	return s.cancel(ctx, c, shown, a, reason, nil)
}

// cancel is CancelStaging, with CancelWatched's progress.
func (s *Store) cancel(ctx context.Context, c, shown string, a Actor, reason string, progress func(done, total int)) (Cancelled, *Control, error) {
	// The staging cancelled and swept is the one read here (the move is
	// made only while it is the campaign's: one staged again meanwhile is
	// not what the operator saw, and is left alone, PausedFor StagedAgain).
	// Only a campaign of this build's stored format (its ledger and
	// counters are that build's).
	stage, err := s.controlFormat(ctx, c, "cancel", a.Env)
	if err != nil {
		return Cancelled{}, nil, err
	}
	if shown != "" && stage != "" && stage != shown {
		p, perr := s.Probe(ctx, c)
		if perr != nil {
			return Cancelled{}, nil, fmt.Errorf("cancel %s: %w", c, perr)
		}
		return Cancelled{}, nil, fmt.Errorf("cancel %s: %w", c, &TransitionError{Campaign: c, Action: "cancel", State: p.State, PausedFor: StagedAgain})
	}
	metaLost := stage == ""
	if metaLost { // no definition: a first staging that never ended is dropped
		if dropped, kept, err := s.dropStaging(ctx, c, a, reason); dropped || err != nil {
			return Cancelled{Dropped: dropped, KeptLedger: kept}, nil, err
		}
		// Else Redis lost the meta of a campaign staged (the transition
		// checks that no staging is under way): its environment is its
		// audit log's.
		st, err := s.metaLostStatus(ctx, c, s.notFound(ctx, "cancel", c))
		if err == nil {
			err = checkEnv(c, st.Env, a.Env)
		}
		if err != nil {
			return Cancelled{}, nil, fmt.Errorf("cancel %s: %w", c, err)
		}
	}
	moved, ok, err := s.act(ctx, c, TransitionParams{From: []State{StateRunning, StateAwaitingApproval, StatePaused, StateStaged},
		To: StateCancelled, Actor: a, Action: "cancel", Reason: reason, Stage: stage, MetaLost: metaLost})
	if !ok {
		return Cancelled{}, nil, err
	}
	if metaLost { // its chunks are unknown: nothing to sweep
		if moved || err != nil {
			return Cancelled{MetaLost: true}, nil, wrapf(err, "cancel %s", c)
		}
		ctl, err := s.inForce(ctx, c, "cancel", StateCancelled, reason)
		return Cancelled{}, ctl, err
	}
	// Cancelled but not acknowledged by the replicas (it holds on the
	// master), or not listed among the active campaigns: record the
	// recipients all the same, and say so at the end.
	total, inFlight, _, cerr := s.sweep(ctx, c, "cancel", stage, RetryScope{}, progress)
	cerr = errors.Join(cerr, s.noteDoubted(ctx, c)) // after the sweep: see Doubted
	done := Cancelled{Recipients: total, InFlight: inFlight, Total: total, TotalInFlight: inFlight}
	// Every chunk is swept now (by this sweep, or by another cancel's
	// run at the same time): the sums of them all are the final count.
	if v, serr := s.rdb.HMGet(ctx, keysFor(c).control, "cancel_swept", "cancel_sending").Result(); serr == nil {
		done.Total, done.TotalInFlight = max(atoi(strOr(v[0], "")), total), max(atoi(strOr(v[1], "")), inFlight)
	}
	if err = wrapf(errors.Join(cerr, err), "cancel %s", c); moved || err != nil {
		return done, nil, err
	}
	// Found cancelled: by whom, when, why (and what this one swept that
	// the sweep of that cancel had not reached: Answer), with what is
	// being sent now.
	if done.StillInFlight, err = s.stillInFlight(ctx, c); err != nil {
		return done, nil, fmt.Errorf("cancel %s: %w", c, err)
	}
	ctl, err := s.inForce(ctx, c, "cancel", StateCancelled, reason)
	return done, ctl, err
}

// sweep runs lua/sweep_chunk.lua for action (cancel or retry, of the
// failures of scope) on every chunk of c and returns the sums of its
// answers: n, the recipients cancelled (a cancel) or re-queued (a retry);
// inFlight, those a cancel found being sent and recorded in doubt until
// their senders record the real outcome (not in n; a retry finds none);
// batch0, of n, batch 0's (the canary's, when staged with one). A chunk
// whose write the replicas did not acknowledge does not stop the others
// (the write was made on the master), nor does a chunk Redis lost: the
// first *AckError and the *LostChunksError are returned at the end.
// progress, when not nil, is called after each chunk with the recipients
// of the chunks swept so far and the campaign's staged total
// (CancelWatched).
func (s *Store) sweep(ctx context.Context, c, action, stage string, scope RetryScope, progress func(done, total int)) (n, inFlight, batch0 int, err error) {
	k := keysFor(c)
	staged, swept := 0, 0
	if progress != nil {
		m, err := s.Meta(ctx, c, false)
		if err != nil {
			return 0, 0, 0, err
		}
		staged = m.Staged
	}
	var ackErr error
	if action == "retry" && scope.Permanent {
		action = "retry-permanent"
	}
	// Only stage's chunks are swept: a staging begun since is left alone.
	err = s.eachChunk(ctx, c, func(batch, chunk int, recs []Recipient) error {
		args := []any{action, ms(time.Now()), batch, chunk, stage, scope.Code}
		for _, r := range recs {
			args = append(args, r.ID, r.Lang)
		}
		v, ack, err := s.eval(ctx, sweepScript, []string{k.ledger, k.counts, k.bstats, k.finished, k.control, k.gate1, k.requeued, k.fresh, k.doubted}, args...)
		if r, _ := v.([]any); len(r) == 2 {
			swept, _ := r[0].(int64)
			sending, _ := r[1].(int64) // a retry's is 0
			n, inFlight = n+int(swept), inFlight+int(sending)
			if batch == 0 {
				batch0 += int(swept)
			}
		}
		ackErr = cmp.Or(ackErr, ack)
		if swept += len(recs); progress != nil && err == nil {
			progress(swept, staged)
		}
		return err
	})
	if lost := (*LostChunksError)(nil); err != nil && !errors.As(err, &lost) {
		return n, inFlight, batch0, err
	}
	return n, inFlight, batch0, errors.Join(err, ackErr) // both: a lost chunk must not hide a write a failover could undo
}

// RetryScope says which failed recipients Requeue re-queues: those whose
// temporary failures ran out of attempts and, with Permanent, also those
// failed for good by a definite SMTP 5xx reply (a relay that refused to
// relay until it was fixed): a definite refusal means not delivered, so
// another attempt cannot send anyone twice. Code, when set, keeps only the
// failures whose last reply has it, as a basic (554) or an enhanced status
// code (5.7.1). Nobody sent, in doubt, refused, skipped or failed without
// an SMTP reply is ever re-queued.
type RetryScope struct {
	Permanent bool
	Code      string
}

// String words the failures s re-queues, e.g. "temporary and permanent
// failures with reply code 5.7.1".
func (s RetryScope) String() string {
	w := "temporary failures"
	if s.Permanent {
		w = "temporary and permanent failures"
	}
	if s.Code != "" {
		w += " with reply code " + s.Code
	}
	return w
}

// replyCode is what a RetryScope's Code may be: a reply code of a failure
// (4xx, 5xx) or an enhanced status code (RFC 3463) of one.
var replyCode = regexp.MustCompile(`^[45](\d\d|\.\d{1,3}\.\d{1,3})$`)

// ReplyCodeError is a RetryScope's Code that is not an SMTP reply code of
// a failure, or that holds both codes of one ("500 5.3.0", as the report's
// code column shows them) where one is matched.
type ReplyCodeError struct{ Code string }

func (e *ReplyCodeError) Error() string {
	if f := strings.Fields(e.Code); len(f) == 2 && replyCode.MatchString(f[0]) && !strings.Contains(f[0], ".") && replyCode.MatchString(f[1]) && strings.Contains(f[1], ".") {
		return fmt.Sprintf("reply code %q holds two codes, the report's basic and enhanced one: give one of them, %s (or %s, which also matches other enhanced codes)", e.Code, f[1], f[0])
	}
	return fmt.Sprintf("reply code %q is not the code of an SMTP failure: give a reply code (554) or an enhanced status code (5.7.1), as the report's code column shows them", e.Code)
}

// Retried is what a Requeue did.
type Retried struct {
	N      int // recipients re-queued
	Canary int // of them, the canary's (batch 0 of a campaign staged with one)
	// State is the campaign's state after the retry, as its move found
	// or left it ("" when nothing was re-queued, or it was not read).
	State State
	// Rerun: the campaign awaited approval and, its canary's recipients
	// re-queued, is back to running its canary; it awaits approval again
	// by itself once none of them waits, and approve is refused until then.
	Rerun bool
	// Approved: the canary was approved before the retry (approve, or
	// approve --in-advance): that approval stands, and the canary's
	// re-queued recipients go out without a new one.
	Approved bool
	// Paused: the campaign is paused by a pause that Resume lifts: what
	// was re-queued goes out after a resume.
	Paused bool
}

// Requeue gives every recipient of c that failed, within scope, one more
// attempt (never one sent or in doubt). A done campaign runs again, and
// so does one awaiting approval whose canary's recipients it re-queued
// (nothing is claimed while it awaits approval; the tick awaits approval
// again once none of them waits, and approve is refused until then). A
// paused campaign stays paused. A write the replicas did not acknowledge
// (it holds on the master) or a chunk Redis lost does not stop it: the
// error is returned at the end. Errors: *ReplyCodeError for a scope's
// code that is none, *TransitionError, or Redis's.
func (s *Store) Requeue(ctx context.Context, c string, a Actor, scope RetryScope) (Retried, error) {
	var r Retried
	if scope.Code != "" && !replyCode.MatchString(scope.Code) {
		return r, &ReplyCodeError{Code: scope.Code}
	}
	ctl, err := s.Control(ctx, c)
	if err != nil {
		return r, err
	}
	if ctl.State == StateCancelled {
		return r, &TransitionError{Campaign: c, Action: "retry", State: ctl.State}
	}
	// Not another environment's, nor while it is being staged (see
	// lua/transition.lua): the sweep would write into the staging's fresh
	// counts.
	// Nor of another stored format (its ledger and counters are that
	// build's).
	stage, err := s.controlFormat(ctx, c, "retry", a.Env)
	if err != nil {
		return r, err
	}
	if stage != ctl.Stage {
		return r, &TransitionError{Campaign: c, Action: "retry", State: ctl.State, PausedFor: "staging", FirstStaging: stage == ""}
	}
	var partial error
	r.N, _, r.Canary, partial = s.sweep(ctx, c, "retry", stage, scope, nil)
	var lost *LostChunksError
	if partial != nil && !errors.As(partial, &lost) && !errors.As(partial, new(*AckError)) {
		return r, fmt.Errorf("retry %s: %w", c, partial)
	}
	if r.Canary > 0 { // batch 0's: the canary's, when staged with one
		if meta, err := s.Meta(ctx, c, false); err != nil || len(meta.Batches) == 0 || !meta.Batches[0].Canary {
			r.Canary = 0 // not known: the move (lua/transition.lua) reads it itself
		} else if camp, err := campaign.FromDefinition(meta.Definition); err == nil && !camp.Batches.ApproveAfterCanary {
			r.Canary = 0 // no approval waits for them: recipients like any other
		}
	}
	reason := fmt.Sprintf("%d %s re-queued", r.N, scope)
	if r.Canary > 0 {
		reason += fmt.Sprintf(", %d of them the canary's", r.Canary)
	}
	if r.N == 0 {
		// Nothing re-queued now; a retry that failed half-way may have
		// re-queued some and left the campaign done, or awaiting approval
		// with its canary's re-queued: run it.
		n, err := s.rdb.HGet(ctx, keysFor(c).counts, "deferred").Int()
		if err != nil && !errors.Is(err, redis.Nil) {
			return r, fmt.Errorf("retry %s: read counts: %w", c, err)
		}
		if ctl.State != StateDone && ctl.State != StateAwaitingApproval || n == 0 {
			// A write the replicas did not acknowledge changed nothing
			// here; a lost chunk is still named.
			if lost != nil {
				return r, fmt.Errorf("retry %s: %w", c, lost)
			}
			return r, nil
		}
		reason = fmt.Sprintf("%d %s re-queued by an earlier retry that did not finish", n, scope)
	}
	// A done campaign runs again, and one awaiting approval whose canary's
	// recipients wait (lua/transition.lua); the retry is audited in every
	// state.
	st, moved, err := s.Transition(ctx, c, TransitionParams{From: []State{StateDone}, Keep: []State{StateStaged, StateRunning, StateAwaitingApproval, StatePaused, StateCancelled},
		To: StateRunning, Actor: a, Action: "retry", Reason: reason, CanaryRetried: true})
	if err != nil && !errors.As(err, new(*AckError)) {
		return r, err
	}
	r.State, r.Rerun = st, moved && st == StateAwaitingApproval
	if moved {
		r.State = StateRunning
	}
	if r.N > 0 {
		now, cerr := s.Control(ctx, c) // what to say next; the retry itself went through
		r.Approved = cerr == nil && now.Approved
		r.Paused = cerr == nil && now.Next() == NextResume
	}
	// Not acknowledged by the replicas, the change holds on the master:
	// say so at the end.
	return r, wrapf(errors.Join(partial, err), "retry %s", c)
}

// Next is what an operator can do next with a campaign, by its control
// state; callers word it.
type Next int

// The values of Next.
const (
	NextNone    Next = iota // nothing to do but wait (staged)
	NextPause               // running: it can be paused
	NextResume              // paused: Resume continues it (or Cancel stops it)
	NextApprove             // awaiting approval: check the canary, then Approve
	// NextRecover: paused by a worker because Redis lost state (action
	// state-loss). Resume refuses it, as resuming would send again what
	// Redis forgot: cancel it and stage it again excluding the deliveries
	// in the workers' journals.
	NextRecover
	NextOutcomes // done or cancelled: every recipient has an outcome to read
	// NextRetry: done, and temporary failures whose retries ran out are
	// failed (a retry re-queues them). Given by the status's reader
	// (statusview), which sees the errors; Control.Next never returns it.
	NextRetry
	// NextInDoubt: done or cancelled, with recipients in doubt (the SMTP
	// server may have accepted them; they are never sent again): read who
	// they are. Given by the status's reader, as NextRetry.
	NextInDoubt
	// NextLostChunks: Redis lost chunks of the campaign (Status.LostChunks)
	// and no worker paused it for that yet: who was sent is in the workers'
	// journals, and those not sent yet are mailed by staging it again
	// excluding those deliveries. Given by the status's reader.
	NextLostChunks
	// NextStageAgain: the first staging of the campaign stopped before
	// its end (StateStagingInterrupted): no worker sends it until the
	// same send is run again, which stages it, or refuses if its run
	// may have started and says how to recover.
	NextStageAgain
	// NextRestageAgain: a staging again of the campaign stopped before
	// its end (StateRestagingInterrupted): no worker sends it until that
	// send is run again (as a re-staging of the campaign that exists).
	NextRestageAgain
	// NextCancelAgain: cancelled, with recipients still pending: the
	// cancel that stopped the campaign was interrupted (Ctrl-C, a kill, a
	// lost connection) before it recorded them all as cancelled, or still
	// runs. No worker sends them; the same cancel run again records them.
	// Given by the status's reader, as NextRetry.
	NextCancelAgain
	// NextControlLost: Redis lost the campaign's control while its
	// definition stayed (StateControlLost): no worker sends it and nothing
	// is left to resume or cancel; staging it again excluding the
	// deliveries in the workers' journals mails those not sent yet.
	NextControlLost
	// NextRestageLost: cancelled after Redis lost its meta (Cancelled's
	// MetaLost): the cancel could record none of its recipients, and no
	// worker sends it; staging it again excluding the deliveries in the
	// workers' journals mails those not sent yet. Given by the status's
	// reader, as NextRetry.
	NextRestageLost
)

// NextOr returns what can be done next under control c, or n when c is
// nil (a control action that moved the campaign to a state whose next is
// n returns no control in force: see AlreadyOr).
func (c *Control) NextOr(n Next) Next {
	if c == nil {
		return n
	}
	return c.Next()
}

// Next returns what can be done next with a campaign in c's state: the
// same rule as Resume's (a pause for state loss is not resumed).
func (c *Control) Next() Next {
	switch {
	case c.State == StatePaused && c.Action == "state-loss":
		return NextRecover
	case c.State == StatePaused:
		return NextResume
	case c.State == StateRunning, c.State == StateBeingStaged:
		return NextPause
	case c.State == StateStagingInterrupted:
		return NextStageAgain
	case c.State == StateRestagingInterrupted:
		return NextRestageAgain
	case c.State == StateControlLost:
		return NextControlLost
	case c.State == StateAwaitingApproval:
		return NextApprove
	case c.State.Finished():
		return NextOutcomes
	}
	return NextNone
}

// TickCode says what Tick did.
type TickCode int

// Tick codes; the values are the codes of lua/tick.lua.
const (
	TickNoop     TickCode = 0 // nothing to do now
	TickReleased TickCode = 1 // a batch was released: enqueue its chunks
	TickGated    TickCode = 2 // the batch gate paused the campaign
	TickAwaiting TickCode = 3 // the canary is done: waiting for approval
	TickDone     TickCode = 4 // every recipient has an outcome
	TickGone     TickCode = 5 // the campaign is gone, or was staged anew
	// TickStateLoss: Redis lost the campaign's counts or batch counters
	// (their field "_", written at staging, is gone): paused as state-loss.
	TickStateLoss TickCode = 6
)

// TickParams are the campaign settings Tick applies.
type TickParams struct {
	Stage              string
	Interval           time.Duration
	ApproveAfterCanary bool
	MaxFailureRate     float64
	MaxAttempts        int   // the campaign's, to say whether the gate's temporary failures are retried (0: not said)
	Actor              Actor // the worker, for the audit log
}

// TickResult is the answer of Tick.
type TickResult struct {
	Code   TickCode
	Batch  int    // the batch released, gated, done
	Reason string // of a pause, an approval wait or done; the state for TickNoop of a campaign not running
}

// Tick moves campaign c forward by one step (see lua/tick.lua): releases a
// batch, applies a batch's gate, waits for approval after the canary, marks
// the campaign done. Any worker may call it at any time.
func (s *Store) Tick(ctx context.Context, c string, p TickParams, now time.Time) (TickResult, error) {
	k := keysFor(c)
	// go-redis sends a bool as 1 or 0, a float64 as strconv's 'f', -1.
	v, ack, err := s.eval(ctx, tickScript, []string{k.control, k.batches, k.bstats, k.counts, k.errors, k.audit},
		p.Stage, ms(now), p.Interval.Milliseconds(), p.ApproveAfterCanary, p.MaxFailureRate,
		p.Actor.Host, p.Actor.Env, p.Actor.Who, p.MaxAttempts)
	if err != nil {
		return TickResult{}, fmt.Errorf("advance %s: %w", c, err)
	}
	res := v.([]any)
	r := TickResult{Code: TickCode(res[0].(int64)), Batch: int(res[1].(int64))}
	r.Reason, _ = res[2].(string)
	switch r.Code {
	case TickDone:
		s.announce(ctx, c)
		if err := s.markActive(ctx, c, StateDone); err != nil {
			return r, err
		}
	case TickGated, TickAwaiting, TickStateLoss:
		s.announce(ctx, c)
	case TickGone:
		return r, nil
	}
	return r, wrapf(ack, "advance %s", c)
}

// Active lists the campaigns workers look at (staged, running, awaiting
// approval, paused), as recorded in the global set.
func (s *Store) Active(ctx context.Context) ([]string, error) {
	v, err := s.rdb.SMembers(ctx, keyActive).Result()
	return v, wrapf(err, "list active campaigns")
}

// RebuildActive makes the global sets agree with the campaigns' own state:
// every campaign found (listed, or discovered by scanning for control keys
// on every master) is listed, and active exactly when its state is not
// final. It is what keeps the sets right without cross-slot atomicity.
func (s *Store) RebuildActive(ctx context.Context) error {
	names := map[string]bool{}
	for _, key := range []string{keyCampaigns, keyActive} {
		v, err := s.rdb.SMembers(ctx, key).Result()
		if err != nil {
			return fmt.Errorf("list campaigns: %w", err)
		}
		for _, c := range v {
			names[c] = true
		}
	}
	var mu sync.Mutex // ForEachMaster scans the masters at once
	scan := func(ctx context.Context, c redis.Cmdable) error {
		it := c.Scan(ctx, 0, "tidings:{*}:control", 1000).Iterator()
		for it.Next(ctx) {
			if name, ok := strings.CutSuffix(strings.TrimPrefix(it.Val(), "tidings:{"), "}:control"); ok {
				mu.Lock()
				names[name] = true
				mu.Unlock()
			}
		}
		return it.Err()
	}
	var err error
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return scan(ctx, m) })
	} else {
		err = scan(ctx, s.rdb)
	}
	if err != nil {
		return fmt.Errorf("scan for campaigns: %w", err)
	}
	for c := range names {
		st, err := s.rdb.HGet(ctx, keysFor(c).control, "state").Result()
		if errors.Is(err, redis.Nil) {
			st, err = string(StateDone), nil // listed, but its keys are gone (Redis lost it): not active
		} else if err == nil {
			err = s.rdb.SAdd(ctx, keyCampaigns, c).Err()
		}
		switch {
		case err != nil:
		case State(st).Finished():
			// A retry may have run it again between the read and the removal
			// (its own SADD came first): when this removed it, read it once
			// more after.
			var removed int64
			if removed, err = s.rdb.SRem(ctx, keyActive, c).Result(); err == nil && removed > 0 {
				if now, gerr := s.rdb.HGet(ctx, keysFor(c).control, "state").Result(); gerr == nil && !State(now).Finished() {
					err = s.markActive(ctx, c, State(now))
				}
			}
		default:
			err = s.markActive(ctx, c, State(st))
		}
		if err != nil {
			return fmt.Errorf("rebuild the campaign sets (%s): %w", c, err)
		}
	}
	return nil
}

// ChunkTasks returns, for the reconciler, the chunks of c whose every
// recipient has a final outcome, and the task generation of every chunk
// that has one.
func (s *Store) ChunkTasks(ctx context.Context, c string) (finished map[int]bool, gens map[int]int64, err error) {
	k := keysFor(c)
	p := s.rdb.Pipeline()
	fin := p.SMembers(ctx, k.finished)
	gen := p.HGetAll(ctx, k.gen)
	if _, err := p.Exec(ctx); err != nil {
		return nil, nil, fmt.Errorf("read the chunk tasks of %s: %w", c, err)
	}
	finished, gens = map[int]bool{}, map[int]int64{}
	for _, x := range fin.Val() {
		finished[atoi(x)] = true
	}
	for f, v := range gen.Val() {
		gens[atoi(f)] = atoi64(v)
	}
	return finished, gens, nil
}

// ChunkFinished reports whether chunk n of campaign c is finished (every
// recipient has a final outcome: EndChunk), as read now.
func (s *Store) ChunkFinished(ctx context.Context, c string, n int) (bool, error) {
	ok, err := s.rdb.SIsMember(ctx, keysFor(c).finished, n).Result()
	return ok, wrapf(err, "read whether chunk %d of %s is finished", n, c)
}

// ReconcileTurn reports whether owner reconciles campaign c's chunks now
// (lua/turn.lua): one worker at a time, so that what a pass costs does not
// grow with the number of workers. The owner keeps the turn by asking again
// within ttl; another worker gets it only once it ran out.
func (s *Store) ReconcileTurn(ctx context.Context, c, owner string, ttl time.Duration) (bool, error) {
	n, err := turnScript.Run(ctx, s.rdb, []string{keysFor(c).reconcile}, owner, max(ttl.Milliseconds(), 1)).Int()
	return n == 1, wrapf(err, "take the reconcile turn of %s", c)
}

// BumpGen moves chunk n to the generation after seen, when it is still at
// seen; it returns the new generation, or -1 when another caller moved it
// first or the campaign was staged anew.
func (s *Store) BumpGen(ctx context.Context, c, stage string, n int, seen int64) (int64, error) {
	k := keysFor(c)
	v, err := bumpGenScript.Run(ctx, s.rdb, []string{k.gen, k.control}, n, seen, stage).Int64()
	return v, wrapf(err, "move chunk %d of %s to a new task", n, c)
}

// EndChunk records the end of a pass over chunk n of batch: it passed
// (every recipient attempted at least once) and, if finished, every
// recipient has a final outcome (unless the ledger holds one of them
// deferred or being sent: re-queued by a retry since the pass read it,
// and claimed by another pass since). Recorded is false when the campaign
// is gone or was staged anew (nothing is written then); Advance says that
// Tick has something to do now: this pass completed its batch's first
// pass (a gate to apply, a next batch to release), or every recipient has
// an outcome (done).
func (s *Store) EndChunk(ctx context.Context, c, stage string, batch, n int, finished bool) (ChunkEnd, error) {
	k := keysFor(c)
	// go-redis sends a bool as 1 or 0.
	v, err := chunkEndScript.Run(ctx, s.rdb, []string{k.passed, k.finished, k.bstats, k.control, k.ledger, k.chunk(n), k.requeued, k.batches, k.counts}, n, batch, finished, stage).Int()
	return ChunkEnd{Recorded: v >= 1, Advance: v == 2}, wrapf(err, "end chunk %d of %s", n, c)
}

// ChunkEnd is what EndChunk recorded, and whether the campaign can move
// forward now.
type ChunkEnd struct{ Recorded, Advance bool }
