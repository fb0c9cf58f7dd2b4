// Package statusview draws a campaign's status (store.Status) for people:
// the state with who and why, progress bars per batch and per language,
// counts per outcome, temporary failures waiting for their retry, the rate
// and ETA, recent errors by SMTP response and the audit log. `tidings
// status` prints it, and a rehearsal writes it to summary.txt.
//
// What it shows is what is true at that moment:
//   - progress counts the recipients done: an outcome other than
//     cancelled (cancelled ones are not progress, so a cancelled campaign
//     never shows a full bar);
//   - a recipient whose first attempt failed temporarily and who waits for
//     a retry is shown as such (per batch and in total), never hidden
//     behind "failed 0"; one failed for good whose failure a retry
//     re-queued is shown as that, not as a temporary failure;
//   - there is no ETA unless the campaign is running; it counts the
//     intervals before the batches still to be released, and while a
//     canary's approval is awaited or ahead it is "after approval";
//   - every batch is accounted for: the current ones in full, finished and
//     waiting ones summarised when there are many.
//
// This package names no command: what to run next (the hint) is given by
// the caller.
package statusview

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/oneline"
	"github.com/tidings-mail/tidings/internal/store"
)

// Handled returns the recipients of counts that are done: that have an
// outcome other than cancelled (what progress means).
func Handled(counts map[string]int64) int64 {
	return store.Terminal(counts) - counts[store.OutcomeCancelled]
}

// Percent is n of total in percent (0 when total is 0).
func Percent(n, total int64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}

// PercentDone is n of total in percent, to a tenth, rounded down as the
// console's is: never "100.0%" while a recipient is left (199,950 of
// 200,000 is "99.9%"), and "<0.1%" rather than "0.0%" once one is done.
func PercentDone(n, total int64) string {
	tenths := int64(0)
	if total > 0 {
		tenths = 1000 * max(n, 0) / total
	}
	if tenths == 0 && n > 0 && total > 0 {
		return "<0.1%"
	}
	return fmt.Sprintf("%d.%d%%", tenths/10, tenths%10)
}

// Bar draws a progress bar of width w.
func Bar(done, total int64, w int) string {
	if total <= 0 {
		return "[" + strings.Repeat(" ", w) + "]"
	}
	n := int(min(int64(w)*max(done, 0)/total, int64(w)))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", w-n) + "]"
}

// Reason returns st's reason without the name of who set it when the
// reason starts with it ("auto-pause: error rate ..." by auto-pause,
// "batch gate: ..." by batch-gate), so that "by X: X: ..." is never shown;
// on one line (oneline.Of), as status writes every value Redis holds.
func Reason(st *store.Status) string {
	r := st.Reason
	for _, p := range []string{st.By, strings.ReplaceAll(st.By, "-", " ")} {
		if p != "" && len(r) > len(p)+1 && strings.EqualFold(r[:len(p)], p) && r[len(p)] == ':' {
			return oneline.Of(r[len(p)+1:])
		}
	}
	return oneline.Of(r)
}

// Lister reads campaigns, their status and their control (a
// *store.Store).
type Lister interface {
	List(ctx context.Context, env string) ([]string, error)
	Status(ctx context.Context, c string) (*store.Status, error)
	Control(ctx context.Context, c string) (*store.Control, error)
}

// All returns the status of every campaign of environment env l lists, in
// its order (empty, not nil, when there is none), each as One reads it.
// An error is l's, as it is: it names what failed.
func All(ctx context.Context, l Lister, env string) ([]*store.Status, error) {
	names, err := l.List(ctx, env)
	if err != nil {
		return nil, err
	}
	all := []*store.Status{}
	for _, n := range names {
		st, err := One(ctx, l, n, env)
		if err != nil {
			return nil, err
		}
		all = append(all, st)
	}
	return all, nil
}

// One returns the status of campaign c of environment env; one whose
// first staging runs as such (store.BeingStaged), with the pause made
// meanwhile, which its control holds (PausedWhileStaging; its control
// unread, none). An error is l's, as it is.
func One(ctx context.Context, l Lister, c, env string) (*store.Status, error) {
	st, err := l.Status(ctx, c)
	if be := (*store.BeingStagedError)(nil); errors.As(err, &be) {
		st, err = store.BeingStaged(c, env, be), nil
		if ctl, cerr := l.Control(ctx, c); cerr == nil && ctl.State == store.StatePaused {
			st.PausedWhileStaging = ctl // a pause made meanwhile: nothing more acts on it
		}
	}
	return st, err
}

// PausedForStateLoss reports whether st is paused because a worker found
// that Redis forgot deliveries its journal holds (the action of its last
// state change says so; for a campaign staged before that was recorded,
// the newest audit entry): resuming would send them again, and
// store.Resume refuses it.
func PausedForStateLoss(st *store.Status) bool {
	return st.State == store.StatePaused && lastAction(st) == "state-loss"
}

// PausedAutomatically reports whether st is paused by tidings itself (the
// error window, a batch gate, a worker that stopped it: state loss, its
// journal, templates it cannot render), not by a person (tidings pause,
// the console's Pause): nobody chose it, and someone must look
// (tidings_campaign_paused_automatically, the page TidingsCampaignPaused).
// A pause whose action is not known (neither its control nor its audit
// log records one) counts as automatic: it pages, as every pause did.
func PausedAutomatically(st *store.Status) bool {
	return st.State == store.StatePaused && lastAction(st) != "pause"
}

// lastAction is the audit action of st's last state change: its
// control's, or for a campaign staged before that was recorded, the
// newest audit entry's.
func lastAction(st *store.Status) string {
	if st.Action != "" {
		return st.Action
	}
	var last store.AuditEntry
	for _, e := range st.Audit {
		if !e.At.Before(last.At) {
			last = e
		}
	}
	return last.Action
}

// Next is what can be done next with the campaign of st
// (store.Control.Next), a pause for state loss found in the audit log
// too (PausedForStateLoss), for a campaign staged before its control
// recorded the action. A finished campaign with temporary failures whose
// retries ran out can have them re-queued (store.NextRetry, done only);
// one with recipients in doubt has them to look at (store.NextInDoubt); a
// cancelled one with recipients still pending, a cancel to run again
// (store.NextCancelAgain), unless Redis lost its meta: that cancel
// recorded none of them, and a staging again is what is left
// (store.NextRestageLost).
func Next(st *store.Status) store.Next {
	switch {
	case st.MetaLost && st.State == store.StateCancelled:
		return store.NextRestageLost
	case PausedForStateLoss(st), st.MetaLost:
		return store.NextRecover
	case len(st.LostChunks) > 0:
		return store.NextLostChunks
	case st.State == store.StateCancelled && st.Counts[store.OutcomePending] > 0:
		return store.NextCancelAgain
	case st.State == store.StateDone && Exhausted(st) > 0:
		return store.NextRetry
	case st.State.Finished() && st.Counts[store.OutcomeInDoubt] > 0:
		return store.NextInDoubt
	}
	return st.Control.Next()
}

// Lost says that Redis lost chunks of st's campaign (st.LostChunks), its
// meta (st.MetaLost), or its control (store.StateControlLost), and what
// that means, "" when it lost none of these:
// status's Lost line and the console's campaign page.
func Lost(st *store.Status) string {
	if st.State == store.StateControlLost {
		return store.ControlLost + ": " + store.ControlLostMeans
	}
	if st.MetaLost {
		return store.MetaLost + ": " + store.MetaLostMeans
	}
	if len(st.LostChunks) == 0 {
		return ""
	}
	return fmt.Sprintf("Redis lost chunk(s) %v of this campaign (part of its state): a report read from Redis lacks their recipients' rows, and no worker sends those of them not sent yet", st.LostChunks)
}

// ListNote is what a list of campaigns notes of st (tidings status --env
// ENV, the console's campaigns page): the chunks, the meta, or the
// control, Redis lost, and a stored format not this build's; empty when
// none of these.
func ListNote(st *store.Status) string {
	if st.MetaLost {
		return store.MetaLost
	}
	if st.State == store.StateControlLost {
		return store.ControlLost
	}
	var notes []string
	if len(st.LostChunks) > 0 {
		notes = append(notes, fmt.Sprintf("Redis lost chunk(s) %v (part of its state)", st.LostChunks))
	}
	if f := Format(st); f != "" {
		notes = append(notes, f)
	}
	return strings.Join(notes, "; ")
}

// Format says, of a campaign staged by a build of another stored format
// than this one's (store.StoredFormat), that workers of this build neither
// send it nor write into it, and what to do; "" for one of this build's
// format, or whose format was not read (its first staging has not ended).
func Format(st *store.Status) string {
	if st.Format == nil || *st.Format == store.StoredFormat || st.State == store.StateBeingStaged || st.State == store.StateStagingInterrupted {
		return ""
	}
	return fmt.Sprintf("staged by a build with stored format %s; this tidings has format %d: its workers neither send this campaign nor write into it; finish it with the workers of the build that staged it (run workers of one build per environment)",
		store.FormatName(*st.Format), store.StoredFormat)
}

// Exhausted is how many recipients of st's recent temporary failures are
// failed now, their retries run out (store.ErrorGroup.Exhausted).
func Exhausted(st *store.Status) int {
	n := 0
	for _, e := range st.Errors {
		n += e.Exhausted
	}
	return n
}

// permanentAdvice says, of a campaign not cancelled whose recipients
// failed for good by an SMTP 5xx reply (still failed: not re-queued by a
// retry --permanent), that nothing sends them again by itself, where
// their replies are, and the retry that re-queues them once what refused
// them is fixed, with the code of the largest such group; "" when none.
func permanentAdvice(st *store.Status) string {
	var n int64
	var top store.ErrorGroup
	for _, e := range st.Errors {
		if e.Temporary || e.InDoubt {
			continue
		}
		n += int64(e.Count)
		if e.Count > top.Count {
			top = e
		}
	}
	// A group counts replies, not recipients: one re-queued by a retry
	// --permanent and refused again is two. The failed recipients whose
	// temporary failures ran out of retries are not failed by a 5xx.
	n = min(n, st.Counts[store.OutcomeFailed]-int64(Exhausted(st)))
	if n <= 0 || st.State == store.StateCancelled {
		return ""
	}
	code := "" // the reply code alone: a group's code may hold the enhanced one after it
	if f := strings.Fields(top.Code); len(f) > 0 {
		code = f[0]
	}
	return fmt.Sprintf("%d failed for good (a 5xx reply): neither resume nor a plain retry sends them again. %s", n, nextstep.RetryPermanent(st.Campaign, st.Env, code))
}

// errorKind words whether the failures of group e, in a campaign in state
// s, come back by themselves: permanent ones never; temporary ones are
// retried while retries remain, and those whose retries ran out are
// failed. A cancelled campaign retries nothing: the recipients that waited
// for a retry were cancelled (a group does not say how many did; some may
// have been retried and sent before the cancel).
func errorKind(e store.ErrorGroup, s store.State) string {
	cancelled := s == store.StateCancelled
	switch {
	case e.InDoubt:
		return "in doubt: may have been delivered, never sent again"
	case !e.Temporary:
		return "permanent"
	case e.Exhausted > 0 && cancelled:
		return fmt.Sprintf("temporary, retries exhausted: %d failed; any still waiting for a retry were cancelled", e.Exhausted)
	case e.Exhausted > 0:
		return fmt.Sprintf("temporary, retries exhausted: %d failed", e.Exhausted)
	case cancelled:
		return "temporary; any still waiting for a retry were cancelled"
	}
	return "temporary, retried"
}

// unfinished names the staging that never finished of a campaign in each
// state that says one did not.
var unfinished = map[store.State]string{store.StateStagingInterrupted: "first staging", store.StateRestagingInterrupted: "staging again"}

// Names are the campaigns of all.
func Names(all []*store.Status) []string {
	out := make([]string, len(all))
	for i, st := range all {
		out[i] = st.Campaign
	}
	return out
}

// Missing are the campaigns of an environment that Redis has no trace of
// although this host holds traces of them: Started, those it started
// (launch.Gone: its start records), and Journaled, those only its
// delivery journal in JournalDir holds (launch.Journaled: a worker host,
// which keeps no start record).
type Missing struct {
	Started, Journaled []string
	// Freed are the campaigns this host started that `tidings free` freed,
	// here or on another host, while Redis keeps their ledgers
	// (StartedMissing): not lost.
	Freed      []string
	JournalDir string
	// StateDir holds the start records of Started (for what to run).
	StateDir string
	// notFound is what Redis keeps of each of Started and Freed (its
	// ledger, the audit entry of a free), for what to run.
	notFound map[string]*store.NotFoundError
}

// MissingOf is Missing of the campaigns of environment env that the
// start records in stateDir and the delivery journal in journalDir name
// and all (the campaigns Redis has) lacks, those started sorted by what
// Redis st keeps of them (StartedMissing).
func MissingOf(ctx context.Context, st *store.Store, stateDir, journalDir, env string, all []*store.Status) Missing {
	names := Names(all)
	m := Missing{Journaled: launch.Journaled(journalDir, stateDir, names), JournalDir: journalDir, StateDir: stateDir}
	m.Started, m.Freed, m.notFound = StartedMissing(ctx, st, stateDir, env, names)
	return m
}

// StartedMissing sorts the campaigns of environment env that this host
// started (its start records in stateDir) and Redis st does not list
// (listed) into those Redis lost and those `tidings free` freed, as
// `tidings status CAMPAIGN` says of each (nextstep.LostKept): freed while
// Redis keeps its ledger and either the audit entry of its free (the
// free ran on any host: store.NotFoundError.Freed) or this host's record
// of the free; lost otherwise, its record's free notwithstanding. A
// campaign Redis cannot be asked about is sorted by its record alone.
// notFound is what Redis said of each.
func StartedMissing(ctx context.Context, st *store.Store, stateDir, env string, listed []string) (lost, freed []string, notFound map[string]*store.NotFoundError) {
	notFound = map[string]*store.NotFoundError{}
	freedHere := launch.FreedHere(stateDir, env, listed)
	for _, c := range append(launch.Gone(stateDir, env, listed), freedHere...) {
		here := slices.Contains(freedHere, c)
		var nf *store.NotFoundError
		if _, err := st.Status(ctx, c); !errors.As(err, &nf) {
			if here { // not asked (or staged again since): its record
				freed = append(freed, c)
			} else {
				lost = append(lost, c)
			}
			continue
		}
		notFound[c] = nf
		if nf.Ledger > 0 && (here || nf.Freed != nil) {
			freed = append(freed, c)
		} else {
			lost = append(lost, c)
		}
	}
	slices.Sort(lost)
	slices.Sort(freed)
	return lost, freed, notFound
}

// next is what to run for campaign c of m, started here (Started or
// Freed), as `tidings status CAMPAIGN` says it.
func (m Missing) next(c, env string) string {
	if nf := m.notFound[c]; nf != nil {
		return nextstep.LostKept(m.StateDir, env, nf)
	}
	return nextstep.LostIn(m.StateDir, c, env)
}

// LostCampaign is a campaign of m as `status --format json` lists it
// after the campaigns Redis has: its State is "lost", or "freed" for one
// `tidings free` freed (Missing.Freed).
type LostCampaign struct {
	Campaign string `json:"campaign"`
	Env      string `json:"env"`
	State    string `json:"state"`
	// StartedHere: this host's state_dir records its start (m.Started);
	// else only its delivery journal holds it (m.Journaled).
	StartedHere bool   `json:"started_here"`
	JournalDir  string `json:"journal_dir,omitempty"`
	// Next is what to run, in the words the text says it: with the
	// campaign file the start record names, when there is one.
	Next string `json:"next"`
}

// JSON is all, then a LostCampaign for each campaign of m, Started
// first: what `status --format json` without a campaign prints.
func (m Missing) JSON(all []*store.Status, env string) []any {
	out := make([]any, 0, len(all)+len(m.Started)+len(m.Journaled))
	for _, st := range all {
		out = append(out, st)
	}
	for _, c := range m.Started {
		out = append(out, LostCampaign{Campaign: c, Env: env, State: "lost", StartedHere: true, Next: m.next(c, env)})
	}
	for _, c := range m.Freed {
		out = append(out, LostCampaign{Campaign: c, Env: env, State: "freed", StartedHere: true, Next: m.next(c, env)})
	}
	for _, c := range m.Journaled {
		out = append(out, LostCampaign{Campaign: c, Env: env, State: "lost", JournalDir: m.JournalDir, Next: Journaled([]string{c}, env, m.JournalDir)})
	}
	return out
}

// WriteGone says, below the list of environment env's campaigns (listed
// of them), the campaigns Redis lost (m) and what to run for them (Gone,
// Journaled); when Redis has no campaign and lost none, that there is
// none.
func WriteGone(w io.Writer, listed int, m Missing, env string) {
	if listed == 0 && len(m.Started)+len(m.Journaled)+len(m.Freed) == 0 {
		fmt.Fprintf(w, "No campaigns in environment %s. Stage one with: tidings send CAMPAIGN.yaml --env %s\n", env, env)
		return
	}
	for _, s := range []string{Gone(m.Started, env), FreedList(m.Freed, env), Journaled(m.Journaled, env, m.JournalDir)} {
		if s == "" {
			continue
		}
		if listed > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, s)
		listed++
	}
}

// Journaled says that Redis has no trace of the campaigns lost, whose
// deliveries this host's delivery journal in journalDir holds, though no
// start record here names them (launch.Journaled): Redis lost their
// state; and the recovery to run for each, the command send's refusal
// gives (nextstep.Recovery). "" when lost is empty. WriteGone and doctor
// say it.
func Journaled(lost []string, env, journalDir string) string {
	if len(lost) == 0 {
		return ""
	}
	return fmt.Sprintf("Redis has no trace of %d campaign(s) of environment %s whose deliveries this host's delivery journal (%s) holds: %s. Redis lost their state (flushed, evicted, a new empty instance, or restored from a backup older than them); no worker sends them until they are staged again. To send to everyone not yet delivered, and to nobody twice, for each: stop its workers, copy the journal files of every other worker host (<journal dir>/CAMPAIGN/ on each) into %s/CAMPAIGN/, then run, with the campaign's file: %s",
		len(lost), env, journalDir, strings.Join(lost, ", "), journalDir, nextstep.Recovery("", env, journalDir, nil))
}

// Gone says that Redis has no trace of the campaigns gone that this host
// started in environment env (launch.Gone), and what says how to recover
// them; "" when gone is empty. WriteGone and the console's campaigns page
// say it in these words.
func Gone(gone []string, env string) string {
	if len(gone) == 0 {
		return ""
	}
	return fmt.Sprintf("Redis has no trace of %d campaign(s) this host started in environment %s: %s. Redis lost them (flushed, evicted, a new empty instance): tidings status %s --env %s (and so for each) says what to run; nothing of them is sent until then.",
		len(gone), env, strings.Join(gone, ", "), gone[0], env)
}

// FreedList says that the campaigns freed, which this host started in
// environment env, were freed by `tidings free` (launch.FreedHere): not
// lost, Redis keeps their ledgers; "" when freed is empty. WriteGone and
// the console's campaigns page say it in these words.
func FreedList(freed []string, env string) string {
	if len(freed) == 0 {
		return ""
	}
	return fmt.Sprintf("Freed by 'tidings free' (%d campaign(s) this host started in environment %s): %s. Redis keeps their ledgers and audit logs only, which keep a send of them again from mailing anyone recorded as sent: tidings status %s --env %s (and so for each) says what it keeps and how to send it again.",
		len(freed), env, strings.Join(freed, ", "), freed[0], env)
}

// WriteList writes one line per campaign; a campaign whose chunks Redis
// lost (st.LostChunks) has a note naming them, and what more(st) says
// (where to read more: the caller's words); one whose first staging, or
// staging again, was interrupted (store.StateStagingInterrupted,
// store.StateRestagingInterrupted), a note saying so, and what next(st)
// says (what to run: the caller's words); a running one that has
// recorded no outcome at now for a minute although recipients are due (as
// WithStall says it under its state), a note saying so, and more(st); one
// being staged, by whom and what acts on it (nextstep.BeingStaged).
func WriteList(w io.Writer, all []*store.Status, now time.Time, more, next func(*store.Status) string) {
	fmt.Fprintf(w, "%-32s %-19s %10s %10s %8s  %s\n", "CAMPAIGN", "STATE", "SENT", "TOTAL", "DONE", "NOTE")
	for _, st := range all {
		fmt.Fprintf(w, "%-32s %-19s %10d %10d %8s", st.Campaign, st.State, st.Counts[store.OutcomeSent], st.Total, PercentDone(Handled(st.Counts), st.Total))
		if note := ListNote(st); note != "" {
			fmt.Fprintf(w, "  %s: %s", note, more(st))
		} else if what, ok := unfinished[st.State]; ok {
			then := ": "
			if p := nextstep.PausedWhileStaging(st); p != "" {
				then = "; " + p + ". Next: "
			}
			fmt.Fprintf(w, "  its %s never finished, so no worker sends it%s%s", what, then, next(st))
		} else if st.State == store.StateBeingStaged { // as the console says it
			fmt.Fprintf(w, "  %s", nextstep.BeingStaged(st))
		} else if since, now := st.Stalled(), ReadAt(st, now); !since.IsZero() && now.Sub(since) >= stallAfter {
			fmt.Fprintf(w, "  NO PROGRESS for %s although recipients wait: %s", now.Sub(since).Round(time.Second), more(st))
		} else if n := st.Counts[store.OutcomeInDoubt]; n > 0 { // as the console's list says it
			fmt.Fprintf(w, "  %s", nextstep.InDoubt(n, st.Campaign, st.Env))
		}
		fmt.Fprintln(w)
	}
}

// Line is the one-line form of st at now (for a log or a watch that is
// not a terminal). A running campaign that records no outcome although
// recipients wait has, at its end, stall="NO PROGRESS for ...", as
// WithStall says it in the full view.
func Line(st *store.Status, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s state=%s", now.UTC().Format(time.RFC3339), st.Campaign, st.State)
	for _, o := range store.Outcomes {
		fmt.Fprintf(&b, " %s=%d", o, st.Counts[o])
	}
	rate, ok := Rate(st)
	if ok {
		rate += "/s"
	}
	fmt.Fprintf(&b, " retries_waiting=%d rate=%s", st.Retries, rate)
	if st.Reason != "" {
		fmt.Fprintf(&b, " reason=%q", Reason(st))
	}
	if p := nextstep.PausedWhileStaging(st); p != "" { // not in the reason: Write says it on its own line
		fmt.Fprintf(&b, " pause=%q", p)
	}
	if st.RequeuedPermanent > 0 {
		fmt.Fprintf(&b, " retries_requeued_permanent=%d", st.RequeuedPermanent)
	}
	if st.GateWaitsForRetried > 0 {
		fmt.Fprintf(&b, " gate_waits_for_retried=%d", st.GateWaitsForRetried)
	}
	if Format(st) != "" {
		fmt.Fprintf(&b, " stored_format=%d", *st.Format)
	}
	if s := stall(st, now); s != "" {
		fmt.Fprintf(&b, " stall=%q", s)
	}
	return b.String()
}

// Rate words st's current rate in messages a second over the last 10 s,
// one decimal ("12.5"), and ok; "—" and false when st has none: a campaign
// that has ended (done, cancelled) sends nothing more, whatever its last
// seconds counted. It decides for status's Rate line, its one-line form
// and the console, which add their unit when ok.
func Rate(st *store.Status) (rate string, ok bool) {
	if st.State.Finished() {
		return "—", false
	}
	return strconv.FormatFloat(st.Rate, 'f', 1, 64), true
}

// GateWait words what the batch gate of st waits for, "" when it waits
// for nothing (store.Status.GateWaitsForRetried).
func GateWait(st *store.Status) string {
	n := st.GateWaitsForRetried
	switch n {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("batch gate: waiting for 1 retried recipient of batch %d", st.CurBatch)
	}
	return fmt.Sprintf("batch gate: waiting for %d retried recipients of batch %d", n, st.CurBatch)
}

// stallAfter is how long a running campaign with recipients waiting to be
// sent may go without an outcome before WithStall says so: longer than a
// slow SMTP transaction, shorter than an on-call engineer waits.
const stallAfter = time.Minute

// WithStall returns hint with, before it, a line saying that running
// campaign st has recorded no outcome for a while although recipients
// have been due to be sent (store.Status.DueSince: not between batches,
// nor while an approval, a retry's time or the campaign's rate is
// awaited), so that "RUNNING" does
// not hide that no worker sends it; hint as it is otherwise.
func WithStall(st *store.Status, now time.Time, hint string) string {
	return Above(stall(st, now), hint)
}

// Above returns hint with line before it, indented as WriteAt shows a
// hint under the state; hint or line alone when the other is "".
func Above(line, hint string) string {
	switch {
	case line == "":
		return hint
	case hint == "":
		return line
	}
	return line + "\n          " + hint
}

// ReadAt is the now st's times are to be compared with: Redis's when it
// was read (store.Status.Now; its times are Redis's), else now (a status
// not read from Redis).
func ReadAt(st *store.Status, now time.Time) time.Time {
	if st.Now.IsZero() {
		return now
	}
	return st.Now
}

// stall is the line WithStall adds (Line's stall="..."), "" when running
// campaign st is not stalled at now.
func stall(st *store.Status, now time.Time) string {
	since := st.Stalled()
	d := ReadAt(st, now).Sub(since)
	if since.IsZero() || d < stallAfter {
		return ""
	}
	what := "no outcome since " + since.UTC().Format("15:04:05 UTC")
	if !since.Equal(st.LastProgress) {
		what = "recipients due since " + since.UTC().Format("15:04:05 UTC") + ", no outcome since"
	}
	return fmt.Sprintf("NO PROGRESS for %s (%s) although recipients wait: %s", d.Round(time.Second), what, StallAdvice(st))
}

// StallAdvice is what to check when running campaign st records no
// outcome although recipients wait (WithStall's advice, which the console
// gives too): the workers whose journal check the chunks wait for, if any.
func StallAdvice(st *store.Status) string {
	if len(st.Awaited) > 0 {
		return "no chunk claims until " + strings.Join(st.Awaited, ", ") + " (running) check their delivery journals against the campaign's current state: " + otherBuilds(st) + "check their logs and that they reach Redis and read their journal directory; and " + generic(st.Env)
	}
	return generic(st.Env)
}

// otherBuilds is StallAdvice's clause on the workers awaited that run a
// build of another stored format than campaign st's, which never check
// it in: an upgrade under way (or a rollback) with workers of two builds
// at once; "" when none does.
func otherBuilds(st *store.Status) string {
	if st.Format == nil || len(st.AwaitedOtherFormat) == 0 {
		return ""
	}
	return store.SayOtherBuilds(st.AwaitedOtherFormat, *st.Format) + "; "
}

// generic is StallAdvice's advice when no worker's check is awaited.
func generic(env string) string {
	return "check that a worker of environment " + cmp.Or(env, "ENV") + " runs and reaches Redis and SMTP (its log says why not)"
}

// maxBatches is how many batches Write shows one line each before it
// summarises the rest.
const maxBatches = 8

// inUTC writes t in layout, in UTC and saying so ("09:40:00 UTC"), as
// the console's pages and the stall line do: status read on a laptop in
// another zone gives the same times as the console.
func inUTC(t time.Time, layout string) string { return t.UTC().Format(layout) + " UTC" }

// RetriesDue says when the recipients of st waiting for a retry go, read
// at now, as a clause after their count: ", all due by 09:40:00 UTC", or
// ", due now" once that time has passed (never a time already past); of a
// paused campaign, that they go once it is resumed. "" when their time is
// not recorded.
func RetriesDue(st *store.Status, now time.Time) string {
	if st.RetriesDue.IsZero() {
		return ""
	}
	due := ", due now"
	if st.RetriesDue.After(now) {
		due = ", all due by " + inUTC(st.RetriesDue, time.TimeOnly)
	}
	if st.State == store.StatePaused {
		due += ": they go once the campaign is resumed"
	}
	return due
}

// Write writes the full status as read now (WriteAt). hint, when not
// empty, is shown under the state: what to run next.
func Write(w io.Writer, st *store.Status, hint string) {
	WriteAt(w, st, time.Now(), hint)
}

// WriteAt writes the full status as read at now (what is due is said
// against it). hint, when not empty, is shown under the state: what to
// run next.
func WriteAt(w io.Writer, st *store.Status, now time.Time, hint string) {
	fmt.Fprintf(w, "Campaign %s (environment %s)\n", st.Campaign, cmp.Or(st.Env, "not recorded"))
	state := strings.ToUpper(string(st.State))
	switch {
	case st.State == store.StateAwaitingApproval && st.Reason != "":
		fmt.Fprintf(w, "State:    %s: %s\n", state, Reason(st))
	case st.Reason != "" && st.State != store.StateRunning && st.At.IsZero(): // a staging whose start is not recorded yet
		fmt.Fprintf(w, "State:    %s by %s: %s\n", state, oneline.Of(st.By), Reason(st))
	case st.Reason != "" && st.State != store.StateRunning:
		fmt.Fprintf(w, "State:    %s by %s at %s: %s\n", state, oneline.Of(st.By), inUTC(st.At, time.DateTime), Reason(st))
	default:
		fmt.Fprintf(w, "State:    %s\n", state)
	}
	if p := nextstep.PausedWhileStaging(st); p != "" {
		fmt.Fprintf(w, "Pause:    %s\n", p)
	}
	if lost := Lost(st); lost != "" {
		fmt.Fprintf(w, "Lost:     %s\n", lost)
	}
	if f := Format(st); f != "" {
		fmt.Fprintf(w, "Format:   %s\n", f)
	}
	if hint != "" {
		fmt.Fprintf(w, "          %s\n", hint)
	}
	if handled := Handled(st.Counts); st.State == store.StateBeingStaged { // no total yet: how far its staging is
		fmt.Fprintf(w, "Progress: %s\n", BeingStagedProgress(st))
	} else {
		fmt.Fprintf(w, "Progress: %s %d/%d recipients done (%s), %d sent", Bar(handled, st.Total, 30), handled, st.Total, PercentDone(handled, st.Total), st.Counts[store.OutcomeSent])
		if n := st.Counts[store.OutcomeCancelled]; n > 0 {
			fmt.Fprintf(w, ", %d cancelled", n)
		}
		fmt.Fprintln(w)
	}
	eta := "-"
	switch {
	case st.ETAWaitsFor != "":
		eta = "after " + st.ETAWaitsFor
	case st.State.Finished(): // nothing more is sent: no time to give
		eta = "—"
	case st.State != store.StateRunning:
		eta = "- (not while " + string(st.State) + ")"
	case st.ETASeconds > 0:
		eta = (time.Duration(st.ETASeconds) * time.Second).String()
	}
	rate, ok := Rate(st)
	if ok {
		rate += " msg/s over the last 10 s"
	}
	fmt.Fprintf(w, "Rate:     %s   ETA %s\n", rate, eta)
	var parts []string
	for _, o := range store.Outcomes {
		parts = append(parts, fmt.Sprintf("%s %d", o, st.Counts[o]))
	}
	fmt.Fprintf(w, "Outcomes: %s\n", strings.Join(parts, " · "))
	if n := st.Retries - st.RequeuedPermanent; n > 0 {
		fmt.Fprintf(w, "          %d of the pending failed temporarily and wait for their retry (not failed)%s\n", n, RetriesDue(st, now))
	}
	if n := st.RequeuedPermanent; n > 0 {
		fmt.Fprintf(w, "          %d of the pending failed for good and were re-queued by retry: they wait to be sent again (not failed)\n", n)
	}
	if n := st.GateWaitsForRetried; n > 0 {
		fmt.Fprintf(w, "          %s: their first attempts failed; the next batch is released only if their retries leave the batch's failures within max_failure_rate\n", GateWait(st))
	}
	writeBatches(w, st)
	writeLanguages(w, st)
	if len(st.Errors) > 0 {
		fmt.Fprintln(w, "\nRecent errors (by SMTP response):")
		for _, e := range st.Errors {
			fmt.Fprintf(w, "  %4dx %s (%s, last %s)\n", e.Count, oneline.Of(e.Code+" "+e.Response), errorKind(e, st.State), inUTC(e.Last, time.TimeOnly))
		}
		if s := permanentAdvice(st); s != "" {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	if len(st.Audit) > 0 {
		fmt.Fprintln(w, "\nAudit log:")
		for _, e := range st.Audit {
			reason := ""
			if e.Reason != "" {
				reason = ": " + oneline.Of(e.Reason)
			}
			fmt.Fprintf(w, "  %s  %-8s by %s@%s (%s)%s\n", inUTC(e.At, time.DateTime), oneline.Of(e.Action), oneline.Of(e.Who), oneline.Of(e.Host), oneline.Of(e.Env), reason)
		}
	}
}

// writeBatches shows the canary and the batches around the current one in
// full; finished batches before them and waiting ones after them are
// summarised in one line each, so that none disappears.
func writeBatches(w io.Writer, st *store.Status) {
	if len(st.Batches) == 0 {
		return
	}
	fmt.Fprintln(w, "\nBatches:")
	var rest []store.BatchStatus
	for _, b := range st.Batches {
		if b.Canary {
			writeBatch(w, "canary", b, st.State)
		} else {
			rest = append(rest, b)
		}
	}
	// The window of batches shown in full: the current batch, two before it,
	// and as many after it as fit.
	first := 0
	for i, b := range rest {
		if b.Batch >= st.CurBatch-2 {
			first = i
			break
		}
		first = i + 1
	}
	first = max(min(first, len(rest)-maxBatches), 0)
	last := min(first+maxBatches, len(rest))
	// A run of one batch is shown as itself, not as "batches 1-1".
	if first == 1 {
		first = 0
	}
	if last == len(rest)-1 {
		last = len(rest)
	}
	if first > 0 {
		writeSummary(w, rest[:first], st.State)
	}
	for _, b := range rest[first:last] {
		writeBatch(w, fmt.Sprintf("batch %d", b.Batch), b, st.State)
	}
	if last < len(rest) {
		writeSummary(w, rest[last:], st.State)
	}
}

// BeingStagedProgress says how far the first staging of campaign st
// (store.StateBeingStaged) is: the recipients it has written so far
// (st.Staged, counted per batch of chunks written), and what comes next.
// `tidings status` and the console's campaign page say it.
func BeingStagedProgress(st *store.Status) string {
	return fmt.Sprintf("being staged: %d recipients written to Redis so far; none is sent before its staging ends, then it starts (or stays paused, if paused meanwhile)", st.Staged)
}

// BatchState names where batch b of campaign st is (done, retrying,
// sending, paused, waiting, cancelled), as the batch table of status and of
// the console's campaign page say it.
func BatchState(b store.BatchStatus, st *store.Status) string {
	return batchState(b, st.State)
}

// batchState names where batch b of a campaign in state s is; in a
// cancelled campaign, a batch not done is cancelled, not waiting or
// sending; in a paused one, a released batch not through is paused, not
// sending (no worker sends it).
func batchState(b store.BatchStatus, s store.State) string {
	switch {
	case s == store.StateCancelled && (!b.Done || b.Waiting() > 0):
		return "cancelled"
	case b.Done && b.Waiting() > 0:
		return "retrying"
	case b.Done:
		return "done"
	case b.Released && s == store.StatePaused:
		return "paused"
	case b.Released:
		return "sending"
	}
	return "waiting"
}

func writeBatch(w io.Writer, name string, b store.BatchStatus, s store.State) {
	writeBatchLine(w, name, batchState(b, s), b)
}

// writeSummary writes one line for a run of batches.
func writeSummary(w io.Writer, bs []store.BatchStatus, s store.State) {
	var sum store.BatchStatus
	states := map[string]int{}
	for _, b := range bs {
		sum.Size += b.Size
		sum.Attempted += b.Attempted
		sum.Sent += b.Sent
		sum.Failed += b.Failed
		sum.Refused += b.Refused
		sum.Invalid += b.Invalid
		sum.InDoubt += b.InDoubt
		sum.Skipped += b.Skipped
		sum.Cancelled += b.Cancelled
		states[batchState(b, s)]++
	}
	var st []string
	for _, s := range []string{"done", "retrying", "sending", "paused", "waiting", "cancelled"} {
		if states[s] > 0 {
			st = append(st, fmt.Sprintf("%d %s", states[s], s))
		}
	}
	writeBatchLine(w, fmt.Sprintf("batches %d-%d", bs[0].Batch, bs[len(bs)-1].Batch), strings.Join(st, ", ")+":", sum)
}

// writeBatchLine writes one line of the batch table.
func writeBatchLine(w io.Writer, name, state string, b store.BatchStatus) {
	// Done: an outcome other than cancelled, as the Progress line counts; a
	// recipient waiting for a retry is attempted, not done.
	done := b.Outcomes() - b.Cancelled
	fmt.Fprintf(w, "  %-13s %s %5d/%-5d %-8s sent %d", name, Bar(int64(done), int64(b.Size), 20), done, b.Size, state, b.Sent)
	if n := b.Waiting() - b.RequeuedPerm; n > 0 {
		fmt.Fprintf(w, ", %d failed temporarily and wait for their retry", n)
	}
	if b.RequeuedPerm > 0 {
		fmt.Fprintf(w, ", %d failed for good and re-queued by retry", b.RequeuedPerm)
	}
	fmt.Fprintf(w, ", failed %d, refused %d, in-doubt %d", b.Failed, b.Refused, b.InDoubt)
	if b.Invalid > 0 {
		fmt.Fprintf(w, ", invalid %d", b.Invalid)
	}
	if b.Cancelled > 0 {
		fmt.Fprintf(w, ", cancelled %d", b.Cancelled)
	}
	fmt.Fprintln(w)
}

func writeLanguages(w io.Writer, st *store.Status) {
	if len(st.Languages) == 0 {
		return
	}
	fmt.Fprintln(w, "\nLanguages:")
	for _, l := range st.Languages { // sorted by the store
		done := Handled(l.Counts)
		fmt.Fprintf(w, "  %-8s %s %6d/%-6d sent %d, failed %d", l.Lang, Bar(done, l.Staged, 20), done, l.Staged, l.Counts[store.OutcomeSent], l.Counts[store.OutcomeFailed])
		// Every other outcome the done figure counts, so the row adds up
		// (in doubt after a crash, refused or invalid by a worker).
		for _, o := range []string{store.OutcomeInDoubt, store.OutcomeRefused, store.OutcomeInvalid, store.OutcomeSkipped, store.OutcomeCancelled} {
			if n := l.Counts[o]; n > 0 {
				fmt.Fprintf(w, ", %s %d", o, n)
			}
		}
		fmt.Fprintln(w)
	}
}
