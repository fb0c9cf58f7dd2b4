// Package nextstep words what to run next with a campaign: the commands
// `tidings status` hints and the refusals of its controls advise, which the
// console says too, so that both say the same.
package nextstep

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/store"
)

// hints is what to run next ({c} is the campaign, {env} its environment):
// `tidings status` hints them, and the console's campaign page says them
// (Advice).
// A worker paused the campaign of NextRecover because Redis forgot
// deliveries its journal holds: resuming would send them again.
var hints = map[store.Next]string{
	store.NextResume:       "resume with: tidings resume {c} --env {env} (or cancel: tidings cancel {c} --env {env} --reason ...)",
	store.NextRecover:      "do not resume: Redis forgot deliveries, and resuming would send them again. Cancel it (tidings cancel {c} --env {env} --reason \"state loss\"), copy every worker's journal directory to one place, then stage it again without them{from}: {send} --env {env} --resume-existing --exclude-delivered JOURNAL_DIR{flags} (one --exclude-delivered per directory)",
	store.NextApprove:      "check the canary, then approve it: tidings approve {c} --env {env}",
	store.NextPause:        "pause with: tidings pause {c} --env {env} --reason ...",
	store.NextOutcomes:     "every recipient's outcome: tidings report {c} --env {env}",
	store.NextRetry:        "temporary failures whose retries ran out are failed: tidings retry {c} --env {env} re-queues them; who failed or is in doubt: tidings report {c} --env {env} --outcome failed,in-doubt",
	store.NextLostChunks:   "who was sent is in the workers' delivery journals: tidings report {c} --journal JOURNAL_DIR; to mail those not sent yet and nobody twice, cancel it (tidings cancel {c} --env {env} --reason \"state loss\"), copy every worker's journal directory to one place, then stage it again without them{from}: {send} --env {env} --resume-existing --exclude-delivered JOURNAL_DIR{flags}",
	store.NextStageAgain:   "run the same send again (its campaign file, --env {env}, and any --exclude-delivered it had) on the host that started it: it stages the campaign, or, if its run may have started, refuses and says how to recover; or give it up (nothing was sent): tidings cancel {c} --env {env} --reason ... removes what the staging left" + meanwhilePauseOrCancel,
	store.NextRestageAgain: "run the same send again as a re-staging{from}: {send} --env {env} --resume-existing{flags} (with any --exclude-delivered it had)" + meanwhilePause,
	store.NextCancelAgain:  "the recipients still pending are not recorded as cancelled yet: the cancel was interrupted before it recorded them all (or it runs now); no worker sends them: run the cancel again to record them: tidings cancel {c} --env {env} --reason ...",
	store.NextControlLost:  "Redis lost this campaign's control, and its ledger may have lost deliveries too: nothing is left to resume or cancel, and a staging again without the journals could mail someone twice. Copy every worker's journal directory to one place, then stage it again without them{from}: {send} --env {env} --resume-existing --exclude-delivered JOURNAL_DIR{flags} (one --exclude-delivered per directory)",
	store.NextRestageLost:  "it is cancelled, and who was sent is in the workers' delivery journals (tidings report {c} --journal JOURNAL_DIR): to mail those not sent yet and nobody twice, copy every worker's journal directory to one place, then stage it again without them{from}: {send} --env {env} --resume-existing --exclude-delivered JOURNAL_DIR{flags} (one --exclude-delivered per directory)",
	store.NextInDoubt:      "recipients in doubt (the SMTP server may have accepted them; never sent again): " + inDoubtReport,
}

// meanwhilePause ends the hints of a staging that did not end: what acts
// on it until it does. HintPaused leaves it out.
const meanwhilePause = "; meanwhile only a pause acts on it (tidings pause {c} --env {env} --reason ...)"

// meanwhilePauseOrCancel is meanwhilePause of a first staging, which
// cancel gives up.
const meanwhilePauseOrCancel = "; meanwhile only a pause or that cancel acts on it"

// HintPaused is Hint for a campaign whose staging did not end and that
// is paused already: without the advice to pause it.
func HintPaused(next store.Next, c, env string) string { return Files(nil).HintPaused(next, c, env) }

// HintPaused is Hint for a campaign whose staging did not end and that
// is paused already, with the campaign file f knows.
func (f Files) HintPaused(next store.Next, c, env string) string {
	return f.fill(withoutMeanwhile(hints[next]), c, env)
}

// withoutMeanwhile is hint h without what acts on the campaign meanwhile
// (meanwhilePause, meanwhilePauseOrCancel): of one paused already.
func withoutMeanwhile(h string) string {
	return strings.TrimSuffix(strings.TrimSuffix(h, meanwhilePause), meanwhilePauseOrCancel)
}

// PausedWhileStaging words the pause made on the campaign of st while its
// staging had not ended (st.PausedWhileStaging): who, when (UTC, when
// known), why, that it stays
// once the campaign is staged, and what else acts on it until then (only
// cancel, which gives it up, of a first staging that never finished;
// nothing else, of one being staged or staged again); "" when none was
// made. `tidings status` and the console's pages say it.
func PausedWhileStaging(st *store.Status) string {
	p := st.PausedWhileStaging
	if p == nil {
		return ""
	}
	rest := "nothing else acts on it until then"
	if st.State == store.StateStagingInterrupted {
		rest = "only cancel, which gives it up, acts on it until then"
	}
	when := ""
	if !p.At.IsZero() {
		when = " at " + p.At.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return fmt.Sprintf("paused meanwhile by %s%s (%s): the pause stays once it is staged, and %s", p.By, when, p.Reason, rest)
}

// BeingStaged says that the campaign of st is being staged (its first
// staging runs: store.StateBeingStaged), by whom, that no worker sends it
// until then, and what acts on it meanwhile: a pause, or, once paused,
// nothing else (PausedWhileStaging). The list of `tidings status` and
// the console's campaigns say it.
func BeingStaged(st *store.Status) string {
	rest := "only a pause acts on it meanwhile"
	if p := PausedWhileStaging(st); p != "" {
		rest = p
	}
	return fmt.Sprintf("being staged by %s: no worker sends it until that staging ends; %s", st.By, rest)
}

// ReportError is err, what reading campaign c's report from the Redis of
// environment env returned, worded for the operator when the campaign has
// no report yet: its first staging runs (a *store.BeingStagedError), by
// whom and since when, and to report it once its send ends. That error is
// said, not wrapped: asked too early, the operator has nothing to fix and
// nothing failed, and it is no second send's refusal (an infrastructure
// failure to retry). Any other err is returned as it is.
func ReportError(err error, c, env string) error {
	var be *store.BeingStagedError
	if !errors.As(err, &be) {
		return err
	}
	return fmt.Errorf("%s; report it once its send ends: tidings report %s --env %s", NoReportYet(be), c, env)
}

// NoReportYet says why the campaign of be has no report (nor recipients
// to list) yet: its first staging runs, by whom and since when (when
// known). ReportError and the console's recipients page and download say
// it, each followed by when to ask again.
func NoReportYet(be *store.BeingStagedError) string {
	since := ""
	if !be.Since.IsZero() {
		since = " since " + be.Since.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return fmt.Sprintf("campaign %q is being staged by %s%s: it has no report until that staging ends (its recipients are being written)", be.Campaign, be.By, since)
}

// HintOf is Hint of next for the campaign of st, HintPaused when it was
// paused while its staging had not ended (st.PausedWhileStaging): not
// told to pause what is paused (of one being staged, nothing: only its
// send, which ends that staging, acts on it then). Of a paused campaign
// staged by a build of another stored format (st.Format), it is what
// pause says of it (Paused): its resume, and what else it names, with a
// tidings of that build, which this one refuses.
func HintOf(next store.Next, st *store.Status) string { return Files(nil).HintOf(next, st) }

// HintOf is HintOf with the campaign file f knows.
func (f Files) HintOf(next store.Next, st *store.Status) string {
	if st.PausedWhileStaging != nil && next == store.NextPause {
		return ""
	}
	h := hints[next]
	if st.PausedWhileStaging != nil {
		h = withoutMeanwhile(h)
	}
	h = f.fillBy(h, st.Campaign, st.Env, stagingBy(st))
	if st.State == store.StatePaused && st.Format != nil && *st.Format != store.StoredFormat {
		h = otherFormat(h, next, st.Campaign, cmp.Or(st.Env, "ENV"), &store.FormatError{Campaign: st.Campaign, Format: *st.Format, Want: store.StoredFormat})
	}
	return h
}

// stagingBy is who began the staging of the campaign of st that has not
// ended ("who@host": By, in these states), "" when none or not known.
func stagingBy(st *store.Status) string {
	switch st.State {
	case store.StateRestagingInterrupted, store.StateStagingInterrupted, store.StateBeingStaged:
		return st.By
	}
	return ""
}

// inDoubtReport lists the recipients in doubt of campaign {c}.
const inDoubtReport = "tidings report {c} --env {env} --outcome in-doubt"

// InDoubt says that n recipients of campaign c of environment env are in
// doubt and what to do about them: the console's campaign page and list
// say it, with the command status's hint names (store.NextInDoubt).
func InDoubt(n int64, c, env string) string {
	cmd := strings.NewReplacer("{c}", c, "{env}", env).Replace(inDoubtReport)
	return fmt.Sprintf("%d in doubt: the SMTP server may have accepted their message, and they are never sent again. Ask the relay's logs which it delivered, and tell those it did not (%s lists them).", n, cmd)
}

// Advice is Hint as a sentence of its own (its first letter upper case,
// a full stop after it), as the console's campaign page says it.
func Advice(next store.Next, c, env string) string { return Files(nil).Advice(next, c, env) }

// Advice is Advice with the campaign file f knows.
func (f Files) Advice(next store.Next, c, env string) string {
	h := f.Hint(next, c, env)
	if h == "" {
		return ""
	}
	return strings.ToUpper(h[:1]) + h[1:] + "."
}

// Hint says what to run next with campaign c of environment env, "" when
// nothing. An env not known ("": a record of an older version) is
// ENV, for the operator to fill in, never an empty --env.
func Hint(next store.Next, c, env string) string { return Files(nil).Hint(next, c, env) }

// Hint is Hint with the campaign file f knows: the send it advises names
// that file, ready to paste.
func (f Files) Hint(next store.Next, c, env string) string { return f.fill(hints[next], c, env) }

// Staging says why action is refused on campaign c of environment env
// while it is being staged (a store.TransitionError paused for "staging")
// and what works instead: for a first staging (first: the campaign has
// no definition yet), the same send run again as it was, or a cancel,
// which removes a first staging whose send was interrupted (a cancel is
// refused only while a send writes it: then, the cancel again once that
// staging ends); for a
// re-staging, send --resume-existing, and for its cancel, why it cannot
// act (the staging's recipients are only partly written: there is no
// staging to record them cancelled against) and what stops it for good:
// a pause, which holds once it is staged, the send run again, then the
// cancel. An empty env names no --env (a console of a campaign file alone
// has none).
func Staging(action, c, env string, first bool) string {
	return Files(nil).Staging(action, c, env, first)
}

// Staging is Staging with the campaign file f knows.
func (f Files) Staging(action, c, env string, first bool) string {
	return f.fill(staging(action, c, env, first), c, env)
}

// staging is Staging's words, with the send to run as {from}, {send},
// {flags} and {had} for Files.fill.
func staging(action, c, env string, first bool) string {
	flag := ""
	if env != "" {
		flag = " --env " + env
	}
	switch {
	case first && action == "cancel": // a send holds its staging lease
		return fmt.Sprintf("cannot cancel %s: its first staging has not ended and a send is writing it now, so no worker sends it: only pause works until that staging ends; run the cancel again then (a first staging whose send was interrupted is removed by cancel, with nothing sent)", c)
	case action == "cancel": // a re-staging: its recipients half written
		return fmt.Sprintf("cannot cancel %s: its staging again has not ended (a send is writing it, or one was interrupted): a cancel records each recipient of the campaign's staging not yet sent as cancelled, and this staging's recipients are only partly written (it cleared the counts of the staging before); no worker sends it meanwhile. To keep it from sending, pause it, if it is not paused already: tidings pause %s%s --reason ... (the pause stays when it is staged, so the send run again stages it paused and starts nothing); to stop it for good, once it is paused, let the send writing it end or, if it was interrupted, run it again as a re-staging{from}: {send}%s --resume-existing{flags} (with any --exclude-delivered it had); then cancel it (tidings cancel %s%s --reason ...)", c, c, flag, flag, c, flag)
	case first:
		return fmt.Sprintf("cannot %s %s: its first staging has not ended (a send is writing it, or one was interrupted), so no worker sends it: only pause works until that ends; if the send was interrupted, run it again as it was{from}: {send}%s{flags}{had}, or give it up (nothing was sent): tidings cancel %s%s --reason ... removes what the staging left", action, c, flag, c, flag)
	}
	return fmt.Sprintf("cannot %s %s: it is being staged (a send is writing it, or one was interrupted): only pause works until that ends; if the send was interrupted, run it again{from}: {send}%s --resume-existing{flags} (with any --exclude-delivered it had)", action, c, flag)
}

// StillFailed says, after a retry of temporary failures of campaign c of
// environment env, that n of its recipients are still failed, why a retry
// of temporary failures leaves them (an SMTP 5xx reply is permanent), and
// RetryPermanent; "" when n is 0.
func StillFailed(n int64, c, env string) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf("%d recipient(s) of %s are still failed: a retry of temporary failures leaves those failed for good (an SMTP 5xx reply, or a message the server could not take). %s (--code CODE: only those with that reply)", n, c, RetryPermanent(c, env, ""))
}

// AfterRetry is StillFailed of campaign c as the store s counts it now,
// after a retry of temporary failures ("" when none is failed, or when
// its status cannot be read: the retry itself went through): what
// `tidings retry` and the console's Retry add to their answer.
func AfterRetry(ctx context.Context, s *store.Store, c, env string) string {
	st, err := s.Status(ctx, c)
	if err != nil {
		return ""
	}
	return StillFailed(st.Counts[store.OutcomeFailed], c, env)
}

// AfterResume says, after a resume of campaign c of environment env, that
// it still waits for its canary's approval, which a resume does not give
// (or will wait, its canary not sent yet), and what to run; "" when no
// approval is ahead, or when its status cannot be read (the resume
// itself went through): what `tidings resume` and the console's Resume
// add to their answer.
func AfterResume(ctx context.Context, s *store.Store, c, env string) string {
	st, err := s.Status(ctx, c)
	if err != nil {
		return ""
	}
	return ApprovalAhead(st)
}

// ApprovalAhead is AfterResume of the campaign of st.
func ApprovalAhead(st *store.Status) string {
	if st.ETAWaitsFor != store.ETAWaitsForApproval {
		return ""
	}
	waits := "waits for approval once its canary is sent"
	if cur := st.CurBatch; st.State == store.StateAwaitingApproval || cur >= 0 && cur < len(st.Batches) && st.Batches[cur].Done {
		waits = "still waits for approval after its canary"
	}
	return "It " + waits + ", which a resume does not give: " + Hint(store.NextApprove, st.Campaign, st.Env)
}

// Requeued is what `tidings retry` of campaign c of environment env
// answers after re-queuing r (of scope): how many, and what happens to
// them: a paused campaign sends them once resumed; the canary's of a
// campaign awaiting approval are sent now, the campaign back to running
// its canary (CanaryRequeued).
func Requeued(r store.Retried, scope store.RetryScope, c, env string) string {
	msg := fmt.Sprintf("Re-queued %d %s of %s.", r.N, scope, c)
	if r.Paused {
		msg = fmt.Sprintf("Re-queued %d %s of %s; it is paused: they go out after 'tidings resume %s --env %s'.", r.N, scope, c, c, env)
	}
	if more := CanaryRequeued(r, c, env); more != "" {
		msg += " " + more
	}
	return msg
}

// CanaryRequeued says, after a retry of campaign c of environment env
// that re-queued recipients of its canary (r.Canary), what becomes of
// them and of the approval: the campaign awaiting approval is back to
// running its canary and awaits approval again once they are sent; a
// paused one sends them once resumed; an approval given before the retry
// (approve, or approve --in-advance) stands, and they go out without a
// new one. "" when none of the canary's was re-queued. `tidings retry`
// and the console's Retry add it to their answer.
func CanaryRequeued(r store.Retried, c, env string) string {
	switch {
	case r.Canary == 0:
		return ""
	case r.Rerun:
		return fmt.Sprintf("%d of them are its canary's: the campaign is back to running its canary; it will await approval again once they are sent, and approve is refused until then.", r.Canary)
	case r.Approved:
		return fmt.Sprintf("%d of them are its canary's, which was approved before this retry (tidings status %s --env %s shows by whom): that approval stands, so they go out with the batches after the canary, without a new approval.", r.Canary, c, env)
	case r.Paused:
		return fmt.Sprintf("%d of them are its canary's: once resumed, it sends them before it awaits approval; approve is refused until they are sent.", r.Canary)
	case r.State == store.StateRunning || r.State == store.StateAwaitingApproval:
		return fmt.Sprintf("%d of them are its canary's: approve is refused until they are sent.", r.Canary)
	}
	return ""
}

// RetryPermanent says where the replies of campaign c's recipients failed
// for good are, and that retry --permanent (with --code code, when given)
// re-queues them once what refused them is fixed, never for a reply
// about the recipient: what `retry` and `status` advise.
func RetryPermanent(c, env, code string) string {
	if code != "" {
		code = " --code " + code
	}
	env = cmp.Or(env, "ENV") // not known: for the operator to fill in
	return fmt.Sprintf("Their replies: tidings report %s --env %s --outcome failed. If the relay or the sender was refused (554 5.7.1 relay access denied), not the recipient (550 5.1.1 mailbox unknown), fix that, then: tidings retry %s --env %s --permanent%s", c, env, c, env, code)
}

// CanaryRunning says why an approval of campaign c of environment env is
// refused while its canary is still being sent, or not yet released (a
// store.TransitionError paused for store.CanaryRunning): nobody has
// checked it, nothing changed; approve once it awaits approval, or in
// advance. `tidings approve` and the console's Approve say it. An empty
// env names no --env.
func CanaryRunning(c, env string) string {
	if env != "" {
		env = " --env " + env
	}
	return fmt.Sprintf("cannot approve %s: its canary (the first batch) is still being sent, or not yet released, so nobody has checked it; nothing changed. Approve once 'tidings status %s%s' shows awaiting-approval (the console's page says it too), or approve now in advance, which lets the batches after the canary go without waiting: tidings approve %s%s --in-advance", c, c, env, c, env)
}

// CanaryNotDone says why an approval is refused with e, a
// store.TransitionError paused for store.CanaryRunning, of a campaign of
// environment env: its canary's first pass is not complete
// (CanaryRunning), or some of its recipients wait for a retry after a
// temporary failure (e.Waiting; e.LastError, the last error, when at
// hand): then how many, and what to do: let the retries run (resume it
// when it is paused), fix what refused them, approve in advance, or
// cancel. `tidings approve` and the console's Approve say it.
func CanaryNotDone(e *store.TransitionError, env string) string {
	c := e.Campaign
	if e.Waiting == 0 {
		return CanaryRunning(c, env)
	}
	if env != "" {
		env = " --env " + env
	}
	whom := fmt.Sprintf("%d of its canary's recipients wait", e.Waiting)
	if e.Waiting == 1 {
		whom = "1 of its canary's recipients waits"
	}
	if e.LastError != "" {
		whom += " (last error: " + e.LastError + ")"
	}
	run := "let their retries run"
	switch e.State {
	case store.StatePaused:
		run = fmt.Sprintf("resume it so that their retries run (tidings resume %s%s)", c, env)
	case store.StateAwaitingApproval: // a retry re-queued them and did not move it back to running
		run = fmt.Sprintf("run the retry again (tidings retry %s%s), which runs its canary so that they are sent", c, env)
	}
	return fmt.Sprintf("cannot approve %s: %s for a retry (after a temporary failure, or re-queued by tidings retry), so its canary (the first batch) is still being sent and nobody has checked it; nothing changed. Fix what refused them (the relay, the SMTP server) and %s; approve once 'tidings status %s%s' shows awaiting-approval (the console's page says it too). Or approve now in advance, which lets the batches after the canary go without waiting: tidings approve %s%s --in-advance; or stop the campaign: tidings cancel %s%s --reason ...", c, whom, run, c, env, c, env, c, env)
}

// NoCanary says why an approval of campaign c is refused when c was staged
// without a canary (a store.TransitionError paused for store.NoCanary):
// there is nothing to approve, and nothing changed.
func NoCanary(c string) string {
	return fmt.Sprintf("cannot approve %s: it has no canary (its campaign file's batches.canary_per_locale is 0), so there is nothing to approve: its batches go as planned; nothing changed", c)
}

// NotFound says that the campaign of nf does not exist in environment env
// and what to do: when this host records starting it, Lost; else (a typo, most likely) the names it may have
// meant, or the environment's campaigns when they are few; and the ledger
// Redis keeps of it, if any (NotFoundError.Kept).
func NotFound(nf *store.NotFoundError, env string) string {
	c := nf.Campaign
	if nf.Started || (nf.Freed != nil && nf.Ledger > 0) { // the record, when at hand: LostKept
		return Lost(c, env, FreedRecord(nil, nf))
	}
	list := fmt.Sprintf("list its campaigns with 'tidings status --env %s'", env)
	if n := len(nf.Names); len(nf.Similar) == 0 && n > 0 && n <= 5 {
		list = fmt.Sprintf("its campaigns are %s; list them with 'tidings status --env %s'", strings.Join(nf.Names, ", "), env)
	}
	return fmt.Sprintf("campaign %q does not exist in environment %s%s%s: %s, or stage it with 'tidings send CAMPAIGN-FILE --env %s'", c, env, nf.DidYouMean(), nf.Kept(), list, env)
}

// NotFoundErr is nf worded by NotFound, wrapping nf: a command's
// wrapper (the CLI's withStore) words it again with the start record of
// a campaign this host started (LostIn).
func NotFoundErr(nf *store.NotFoundError, env string) error {
	return &notFoundError{nf, NotFound(nf, env)}
}

type notFoundError struct {
	nf   *store.NotFoundError
	text string
}

func (e *notFoundError) Error() string { return e.text }
func (e *notFoundError) Unwrap() error { return e.nf }

// Lost says that Redis has no trace of campaign c of environment env
// though this host records starting it (launch.Started: its state_dir
// holds the record rec), so that Redis lost it, and the recovery to run:
// the send that started it, run again on this host (with the campaign
// file and flags rec keeps; nil, or a record of an older version: which
// part to fill in), refuses to stage it as new and says how to stage it
// again without those already sent. `tidings status` (and every command
// naming c: NotFound) and the console's pages of c say it, in these
// words.
func Lost(c, env string, rec *launch.Record) string {
	if rec != nil && rec.Freed != nil { // not lost: freed (tidings free)
		return Freed(c, env, rec)
	}
	env = cmp.Or(env, "ENV") // not known: for the operator to fill in
	again, journal := SendRun{Env: env}, "JOURNAL_DIR"
	var fill string // which part to fill in, if any
	if rec != nil {
		again.File, again.Options = rec.CampaignFile, rec.Send
		journal = shellQuote(cmp.Or(rec.JournalDir, journal))
	}
	switch {
	case again.File == "" && again.Options == nil:
		fill = ": put its campaign file in place of CAMPAIGN-FILE, with the flags it had"
	case again.File == "":
		fill = ": put its campaign file in place of CAMPAIGN-FILE"
	case again.Options == nil:
		fill = ", adding the flags it had, among --skip-refused, --skip-invalid and --rejects FILE: this host did not record them"
	}
	return fmt.Sprintf("Redis has no trace of campaign %q in environment %s, and this host started it (its state_dir records the start): Redis lost it (flushed, evicted, a new empty instance); no worker sends it until it is staged again. Run the send that started it again on this host (%s%s): it refuses to stage it as new and says how to stage it again without those already sent. To list who was sent: tidings report %s --journal %s", c, env, again.Command(), fill, c, journal)
}

// LostIn is Lost with the start record of c that stateDir keeps (none
// when it cannot be read: the placeholders then).
func LostIn(stateDir, c, env string) string {
	rec, _ := launch.ReadRecord(stateDir, c)
	return Lost(c, env, rec)
}

// LostKept is LostIn knowing what Redis keeps of the campaign of nf
// (store.NotFoundError: its ledger, and the audit entry of a free):
// a campaign `tidings free` freed, on this host or another (whose start
// record here does not note it), is freed while Redis keeps its ledger
// and the free's audit entry; one whose ledger Redis lost since (a
// flush, a new empty instance, an old backup) is lost, not freed, though
// its start record notes the free.
func LostKept(stateDir, env string, nf *store.NotFoundError) string {
	rec, _ := launch.ReadRecord(stateDir, nf.Campaign)
	if rec != nil && rec.Freed != nil && nf.Ledger == 0 {
		return FreedLost(nf.Campaign, env, rec)
	}
	return Lost(nf.Campaign, env, FreedRecord(rec, nf))
}

// FreedRecord is rec (nil: none), noting the free that nf's audit entry
// records (store.NotFoundError.Freed) when rec does not, as when
// `tidings free` ran on another host than the one that started the
// campaign: its time, who and on which host, and the ledger Redis keeps.
// rec itself when Redis keeps no ledger or no free of the campaign.
func FreedRecord(rec *launch.Record, nf *store.NotFoundError) *launch.Record {
	if nf == nil || nf.Freed == nil || nf.Ledger == 0 || (rec != nil && rec.Freed != nil) {
		return rec
	}
	r := launch.Record{Campaign: nf.Campaign}
	if rec != nil {
		r = *rec
	}
	a := store.Actor{Who: nf.Freed.Who, Host: nf.Freed.Host}
	r.Freed = &launch.Freed{At: nf.Freed.At, By: a.String(), Ledger: nf.Ledger}
	return &r
}

// FreedLost says that campaign c, freed by `tidings free` (rec.Freed),
// was lost since by Redis, its ledger with it, and the recovery (Lost's),
// naming the report saved before the free, which lists who was
// delivered.
func FreedLost(c, env string, rec *launch.Record) string {
	unfreed := *rec
	unfreed.Freed = nil
	return fmt.Sprintf("campaign %q was freed by 'tidings free' at %s, and Redis has since lost its ledger (%d recipients then) too: nothing in Redis stops a send of it from mailing them again; the report saved before the free, %s, lists who was delivered (--exclude-delivered takes it). %s",
		c, rec.Freed.At.UTC().Format(time.RFC3339), rec.Freed.Ledger, cmp.Or(rec.Freed.Report, "(none saved)"), Lost(c, env, &unfreed))
}

// NotStaged says that a send of campaign c in environment env was
// interrupted before its staging began (its plan, its checks, its
// confirmation): nothing of c was written to Redis, so running the same
// send again (again) is safe. `tidings send` says it, exit 130.
func NotStaged(c, env string, again SendRun) string {
	return fmt.Sprintf("interrupted before staging: nothing of campaign %q was staged in environment %s (Redis was not written); running the same send again is safe: %s", c, env, again.Command())
}
