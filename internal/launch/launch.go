// Package launch is the use-case behind `tidings send`: plan a campaign's
// recipients, decide whether it may be sent, stage it in Redis in the
// plan's batches and start it, and keep a record of the start outside
// Redis.
//
// The record (StateDir/campaigns/<name>.json) and the workers' delivery
// journals are what lets tidings notice that Redis lost a campaign it had
// started: staging such a campaign as new is refused (*StateLostError)
// until the operator excludes who was already delivered (Options.Exclude).
//
//	p, err := launch.Plan(ctx, in)       // reads every row once
//	// show p.Summary, ask for confirmation ...
//	res, err := p.Stage(ctx, st, opts)   // reads the rows again, stages, starts
package launch

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/suppress"
	"github.com/tidings-mail/tidings/internal/userfile"
)

// Input is a campaign ready to be planned: its parsed file, its template
// engine and the files the engine was built from.
type Input struct {
	Campaign           *campaign.Campaign
	Engine             *render.Engine
	Templates, Locales fs.FS // the approved snapshot is taken from them
	// Env is the environment sent in; nil for a rehearsal (no allowlist).
	Env *environment.Environment
	// EnvName names the environment in Redis and records ("rehearsal" when
	// Env is nil).
	EnvName string
	// Recipients is the recipients file's path.
	Recipients string
	Who, Host  string // who launches it, for the audit log and the record
	// Exclude, when set, holds the deliveries of earlier runs (see
	// LoadDelivered): those recipients are skipped, and staging starts a
	// new run.
	Exclude *Delivered
	// Suppress names the command's own suppression lists (plan, send and
	// rehearse --suppress), read after Env's SuppressionFiles: Plan reads
	// them all, the one place that does, and their mailboxes are skipped
	// at every staging, code plan.CodeSuppressed.
	Suppress []string
	// suppressed is the lists Plan read.
	suppressed *suppress.List
}

// Planned is a campaign whose recipients were read and checked once.
type Planned struct {
	in      Input
	Summary *plan.Summary
	digest  []byte // sha256 of the recipients file as the plan read it
}

// ErrNoRecipient is returned by Check when no row was accepted.
var ErrNoRecipient = errors.New("no recipient to send to")

// ProseError refuses a template with literal prose: text written in a
// template goes to every recipient as it is, whatever their language (the
// incident tidings exists for). Problems name each text by the file the
// operator can open and its line.
type ProseError struct {
	Template string
	Problems []render.Problem
}

func (e *ProseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "template %s has %d text(s) outside message keys, which would reach every language untranslated; nothing was planned or staged:", e.Template, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// PinnedError refuses a campaign file pinned ('environment:') to another
// environment than the one it is planned or sent in: plan says what send
// would do, and send refuses it.
type PinnedError struct {
	File   string // the campaign file
	Line   int    // of its 'environment:'
	Pinned string // the environment the file names
	Env    string // the environment asked for
}

func (e *PinnedError) Error() string {
	return fmt.Sprintf("%s:%d: environment: pinned to environment %q but --env is %q: use --env %s (plan and send alike), or change 'environment:' in the campaign file after review",
		e.File, e.Line, e.Pinned, e.Env, e.Pinned)
}

// Pinned returns a *PinnedError when env (nil: a rehearsal, none) is not
// the environment campaign c is pinned to.
func Pinned(c *campaign.Campaign, env *environment.Environment) error {
	if env != nil && env.Name != c.Environment {
		return &PinnedError{File: c.File, Line: c.Line("environment"), Pinned: c.Environment, Env: env.Name}
	}
	return nil
}

// RejectedError says that rows were refused or invalid and the options do
// not allow sending to the others.
type RejectedError struct {
	Refused, Invalid int // rows of each kind that block the send
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("not sending: %d refused, %d invalid rows", e.Refused, e.Invalid)
}

// ChangedError says that files the plan read changed before they were
// staged: the recipients file (read again to stage it), or the templates
// and catalogs (read again to store the approved snapshot, which must be
// what the plan checked). Nothing was started.
type ChangedError struct {
	File string // the recipients file, when it changed
	// Templates names each template or catalog file that differs from what
	// the plan read, as a path with how it differs ("changed", "missing",
	// "extra"); Planned and Now are the content hashes of both readings.
	Templates    []string
	Planned, Now string
}

func (e *ChangedError) Error() string {
	if len(e.Templates) == 0 {
		return e.File + " changed while it was being staged: nothing was started"
	}
	return fmt.Sprintf("the templates and catalogs changed after the plan checked them: %s; their content hash is now %.12s, not the planned %.12s: nothing was staged or started",
		strings.Join(e.Templates, ", "), e.Now, e.Planned)
}

// Plan reads and checks every recipient row (plan.Run) without touching
// Redis. A campaign pinned to another environment than in.Env is refused
// (PinnedError) before any row is read, and so are exclusions read from
// another environment's journal (*EnvError, Delivered.CheckEnv), and an
// list_unsubscribe the workers could not send as meant (UnsubscribeRefusal:
// an https URL that names no recipient, or a {token} in an environment
// without an unsubscribe secret). The suppression lists of in.Env
// (its SuppressionFiles), then in.Suppress, are read here (a list named
// twice once); one that cannot be read, or a bad line, is an error.
func Plan(ctx context.Context, in Input) (*Planned, error) {
	if err := Pinned(in.Campaign, in.Env); err != nil {
		return nil, err
	}
	if err := checkUnsubscribe(in.Campaign, in.Env); err != nil {
		return nil, err
	}
	c := in.Campaign
	if in.EnvName == "" {
		in.EnvName = "rehearsal"
		if in.Env != nil {
			in.EnvName = in.Env.Name
		}
	}
	if err := in.Exclude.CheckEnv(in.EnvName); err != nil {
		return nil, err
	}
	var lists []string
	if in.Env != nil {
		lists = in.Env.SuppressionFiles
	}
	if lists = append(slices.Clip(lists), in.Suppress...); len(lists) > 0 {
		// Fail closed: a list that cannot be read stops the plan, and
		// with it the send.
		l, err := suppress.Load(lists)
		if ours := commandsList(err, in.Env); ours != nil {
			return nil, ours
		}
		if err != nil && in.Env != nil {
			return nil, fmt.Errorf("environment %s: %w", in.Env.Name, err)
		}
		if err != nil {
			return nil, fmt.Errorf("suppression lists: %w", err)
		}
		in.suppressed = l
	}
	if ps := in.Engine.Prose(func(name string) string {
		return render.ResolvePath(name, c.Path(c.TemplatesDir), c.Path(c.LocalesDir))
	}); len(ps) > 0 {
		return nil, &ProseError{Template: in.Engine.Template(), Problems: ps}
	}
	h := sha256.New()
	sum, err := in.run(ctx, h, nil, nil)
	if err != nil {
		return nil, err
	}
	return &Planned{in: in, Summary: sum, digest: h.Sum(nil)}, nil
}

// SuppressListError is a suppression list the command itself gave
// (Input.Suppress), not one of its environment's, that cannot be read or
// holds lines without an address. Err names the file first and says what
// to do (a *userfile.Error, or a *suppress.ManyError).
type SuppressListError struct{ Err error }

func (e *SuppressListError) Error() string { return "suppression list " + e.Err.Error() }

// Unwrap returns the list's error.
func (e *SuppressListError) Unwrap() error { return e.Err }

// commandsList is err, an error of suppress.Load, as a
// *SuppressListError when it is of the command's own lists alone: none of
// env's SuppressionFiles (nil env: a rehearsal, whose lists are all its
// own) is the file that cannot be read, or holds one of the bad lines.
// Else nil.
func commandsList(err error, env *environment.Environment) error {
	var envs []string
	if env != nil {
		envs = env.SuppressionFiles
	}
	var fe *userfile.Error
	var many *suppress.ManyError
	switch {
	case errors.As(err, &fe) && !slices.Contains(envs, fe.Path):
		return &SuppressListError{Err: fe}
	case errors.As(err, &many) && !slices.ContainsFunc(many.Lines, func(l *suppress.LineError) bool { return slices.Contains(envs, l.File) }):
		return &SuppressListError{Err: many}
	}
	return nil
}

// run streams the recipients file through plan.Run, hashing what it reads.
// With prior (the plan of the same bytes) rows are not rendered again.
func (in Input) run(ctx context.Context, h hash.Hash, prior *plan.Summary, emit func(plan.Accepted) error) (*plan.Summary, error) {
	f, err := userfile.Open(in.Recipients) // a named pipe, a device: refused, never waited on (it is read twice)
	if userfile.NotAFile(err) {
		return nil, fmt.Errorf("recipients file %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("open recipients file: %w", err)
	}
	defer f.Close()
	if emit == nil {
		emit = func(plan.Accepted) error { return nil }
	}
	pin := plan.Input{Campaign: in.Campaign, Engine: in.Engine, Env: in.Env, Recipients: io.TeeReader(f, h), RecipientsName: in.Recipients, Prior: prior, Suppress: in.suppressed}
	if in.Exclude != nil {
		pin.Exclude = in.Exclude.Exclude
	}
	return plan.Run(ctx, pin, emit)
}

// Options say how to stage a planned campaign.
type Options struct {
	SkipRefused, SkipInvalid bool // send to the others when rows are refused / invalid
	// Rejects is the rejects file the send writes, as given ("" for the
	// default): recorded, with the skips, for a recovery to repeat.
	Rejects        string
	ResumeExisting bool // stage a campaign that exists (never re-sends anyone sent)
	// NewUnsubscribeSecret lets ResumeExisting stage a {token} campaign
	// with another unsubscribe secret than the one it was staged with
	// (store.StageConfig.NewUnsubscribeKey).
	NewUnsubscribeSecret bool
	// NoneDelivered (--none-delivered) stages again a campaign Redis lost
	// that no worker ever sent: no worker host has a journal of it. It is
	// refused when this host's journal holds any of it, or earlier
	// recoveries here excluded anyone (checkState), and with exclusions.
	NoneDelivered bool
	Start         bool // start it (else it stays staged)
	AllowEmpty    bool // stage even when no row is accepted (the rejects, for the report)
	ChunkSize     int  // recipients per worker task (default 200)
	// StateDir keeps the record of campaigns started from this machine; ""
	// keeps none. JournalDir is this machine's delivery journal, looked at
	// for traces of a campaign Redis does not know.
	StateDir, JournalDir string
	// Progress, when set, is called for every row staged.
	Progress func()
}

// Check returns why the plan cannot be sent with o, or nil: refused or
// invalid rows not skipped, deliveries to exclude none of which is a
// recipient (*UnmatchedExclusionError), no recipient at all (unless a
// recovery's exclusions leave nobody to send to: staging then closes the
// campaign, closes).
func (p *Planned) Check(o Options) error {
	s := p.Summary
	var e RejectedError
	if !o.SkipRefused {
		e.Refused = s.Refused
	}
	if !o.SkipInvalid {
		e.Invalid = s.Invalid
	}
	if e.Refused+e.Invalid > 0 {
		return &e
	}
	if o.NoneDelivered && p.in.Exclude != nil {
		return errors.New("--none-delivered says no worker ever sent the campaign, --exclude-delivered gives what was sent: give one of them")
	}
	if d := p.in.Exclude; d != nil && d.Len() > 0 && s.AlreadyDelivered() == 0 {
		return &UnmatchedExclusionError{Campaign: p.in.Campaign.Name, Delivered: d.Len(), Sources: d.Sources}
	}
	if s.Accepted == 0 && !o.AllowEmpty && !p.closes() {
		// Every row left out: say which kinds (refused and invalid ones were
		// allowed to be left out by o). None was skipped as already
		// delivered: that is a recovery, which closes the campaign.
		var why []string
		for _, k := range []struct {
			n    int
			what string
		}{{s.Refused, "refused"}, {s.Invalid, "invalid"}, {s.SuppressedRows(), "suppressed"}} {
			if k.n > 0 {
				why = append(why, fmt.Sprintf("%d %s", k.n, k.what))
			}
		}
		if len(why) > 0 {
			return fmt.Errorf("%w: every row was left out: %s", ErrNoRecipient, strings.Join(why, ", "))
		}
		return ErrNoRecipient
	}
	return nil
}

// closes says whether staging the plan closes the campaign: a recovery
// whose exclusions leave nobody to send to (every row skipped as already
// delivered, or left out as the options allow). Refused, it would leave a
// campaign Redis lost that had finished lost for ever: status, doctor and
// the workers would name it, with that recovery as the only next step.
// Staged, every row is recorded with its outcome and the campaign is done
// (Stage): nothing is sent. Rows all refused or invalid are no recovery
// (Check refuses them: ErrNoRecipient).
func (p *Planned) closes() bool {
	return p.in.Exclude != nil && p.Summary.Accepted == 0 && p.Summary.AlreadyDelivered() > 0
}

// closedWords says, for Result.Closed (a sentence without its full stop), what staging the plan did when it
// closed the campaign, in state (done, or kept paused).
func (p *Planned) closedWords(state store.State) string {
	s, src := p.Summary, p.in.Exclude.Sources
	from := strings.Join(src, ", ")
	if len(src) > 3 {
		from = fmt.Sprintf("the %d files read (%s and %d more)", len(src), strings.Join(src[:3], ", "), len(src)-3)
	}
	d, sup := s.AlreadyDelivered(), s.SuppressedRows()
	words := fmt.Sprintf("Every one of the %d recipients was already delivered according to %s", d, from)
	switch n := s.Refused + s.Invalid + sup; {
	case sup > 0:
		words = fmt.Sprintf("Nobody is left to send to: %d recipients were already delivered according to %s, and %d left out (%d refused, %d invalid, %d suppressed)", d, from, n, s.Refused, s.Invalid, sup)
	case n > 0:
		words = fmt.Sprintf("Nobody is left to send to: %d recipients were already delivered according to %s, and %d left out (%d refused, %d invalid)", d, from, n, s.Refused, s.Invalid)
	}
	if state != store.StateDone {
		return fmt.Sprintf("%s; campaign recorded with every row's outcome, and %s: it is recorded as done once resumed; nothing sent", words, state)
	}
	return words + "; campaign recorded as done; nothing sent"
}

// close marks done the campaign just staged by a recovery that closes it
// (closes), as a worker's tick would on its own (every row has its
// outcome): the recovery says what it did, without waiting for a worker.
// A campaign kept paused (paused before or while it was staged) stays so.
func (p *Planned) close(ctx context.Context, st *store.Store, res *Result) error {
	in := p.in
	r, err := st.Tick(ctx, in.Campaign.Name, store.TickParams{Stage: res.Stage, Actor: store.Actor{Who: in.Who, Host: in.Host, Env: in.EnvName}}, time.Now())
	if r.Code == store.TickDone || r.Code == store.TickNoop && r.Reason == string(store.StateDone) { // a worker's tick may have come first
		res.State = store.StateDone
	}
	res.Closed = p.closedWords(res.State)
	return err
}

// Result is what Stage did.
type Result struct {
	store.StageSummary
	Record string // the record file written ("" without a state dir)
	// Closed, set when a recovery closed the campaign (Planned.closes),
	// says so in words: nobody was left to send to.
	Closed string
}

// Preflight returns why the plan cannot be staged with o (Check); a
// *store.ExistsError for a campaign that exists, unless o.ResumeExisting,
// and with it a *store.TransitionError for one running or awaiting
// approval, or a *store.UnsubscribeKeyError for one staged with another
// unsubscribe secret (store.CheckExisting); unless the
// deliveries of the campaign are excluded, a *StateLostError when this
// machine started the campaign before but Redis has no trace of it.
func (p *Planned) Preflight(ctx context.Context, st *store.Store, o Options) error {
	if err := p.Check(o); err != nil {
		return err
	}
	// Redis lost its meta alone (its control, ledger and chunks stay): a
	// recovery or not, it is cancelled first. Without this, a send with
	// no deliveries to exclude said Redis had no trace of it and named a
	// send without the cancel.
	if err := st.CheckMetaLost(ctx, p.in.Campaign.Name, p.in.EnvName); err != nil {
		return err
	}
	// The store checks these again under the staging lease; asked here, a
	// send refuses before it asks for confirmation.
	c := p.in.Campaign
	if err := st.CheckExisting(ctx, store.StageConfig{Campaign: c.Name, Env: p.in.EnvName, ResumeExisting: o.ResumeExisting,
		UnsubscribeKey: unsubscribeKey(c, p.in.Env), NewUnsubscribeKey: o.NewUnsubscribeSecret}); err != nil {
		return err
	}
	if o.ResumeExisting {
		if err := p.checkExclusionsHere(ctx, st, o); err != nil {
			return err
		}
	}
	if d := p.in.Exclude; d != nil && (d.Len() > 0 || d.Records > 0) {
		// A recovery: the state loss is known. Files that hold nothing of
		// the campaign (no delivery, no line of it) do not make one: they
		// would exclude nobody.
		return nil
	}
	return p.checkState(ctx, st, o)
}

// ExclusionsElsewhereError refuses to stage again a campaign whose run
// (Run, ending in store.RunExcludedMark) a recovery staged with recipients
// excluded that no journal records, from a machine whose state directory
// lacks the list of them (Here, ExclusionsPath) and with no full report
// given: its record would name no exclusions, and a later recovery there
// would miss them. StagedBy is who staged the campaign last (who@host),
// whose state directory holds the file. Others is set when Here exists but
// lists the exclusions of other runs' recoveries made here (the record
// here does not name Run); HereRuns are the marked runs whose exclusions
// it lists.
type ExclusionsElsewhereError struct {
	Campaign, Run, StagedBy, Here string
	Others                        bool
	HereRuns                      []string
	// Stale says why each full report given does not stand for Run
	// (written before it was staged).
	Stale []string
}

func (e *ExclusionsElsewhereError) Error() string {
	file := filepath.Base(ExclusionsPath("", e.Campaign))
	fix := "copy that file to " + cmp.Or(e.Here, "<state dir>/campaigns/"+file+" here (this environment keeps no state directory)") + ", then stage again"
	if e.Others {
		copied := filepath.Join(filepath.Dir(e.Here), e.Campaign+".excluded."+e.Run+".csv")
		fix = fmt.Sprintf("this machine's %s lists the exclusions of the recoveries of run(s) %s only (made here, or copied here), not those of run %s: copy %s of the machine that staged run %s to this machine under another name, say %s (never over %s, whose rows those runs need), then stage again giving that copy and the delivery journals of every worker host as deliveries to exclude",
			e.Here, cmp.Or(strings.Join(e.HereRuns, ", "), "(none named)"), e.Run, file, e.Run, copied, e.Here)
	}
	stale := ""
	if len(e.Stale) > 0 {
		stale = " (" + strings.Join(e.Stale, "; ") + ": it cannot stand for them)"
	}
	return fmt.Sprintf("campaign %q is in run %s, which a recovery staged excluding recipients recorded outside the journals (in a report); their list, %s, is in <state dir>/campaigns/ of the machine that staged it (the campaign was last staged by %s), not on this one%s: staged again from here, the record here would not name them, and a later recovery here would mail them again; nothing was staged: %s; or, if that file is lost (that machine is gone), stage again giving as deliveries to exclude a full report of %s written from Redis now (by tidings report, with no outcome filter), which lists them, with the delivery journals of every worker host",
		e.Campaign, e.Run, file, e.StagedBy, stale, fix, e.Campaign)
}

// checkExclusionsHere refuses (*ExclusionsElsewhereError) to stage again
// a campaign whose run is marked (store.RunExcludedMark) when this
// machine's state directory lacks its exclusions and no full report is
// given.
func (p *Planned) checkExclusionsHere(ctx context.Context, st *store.Store, o Options) error {
	c := p.in.Campaign.Name
	m, err := st.Meta(ctx, c, false)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil // nothing to stage again (or a staging to finish: Stage's)
	case err != nil:
		return err
	case !strings.HasSuffix(m.Run, store.RunExcludedMark):
		return nil // no exclusions beyond the journals
	case p.in.Exclude.covers(m.Run, ""):
		return nil // given: this staging excludes them again
	}
	e := &ExclusionsElsewhereError{Campaign: c, Run: m.Run, StagedBy: m.CreatedBy}
	_, e.Stale = p.in.Exclude.uncovered([]string{m.Run}, "")
	if o.StateDir != "" {
		if e.Here = ExclusionsPath(o.StateDir, c); fileExists(e.Here) {
			if e.HereRuns, err = runsHere(o.StateDir, p.in.EnvName, c); err != nil {
				return err // another environment's file
			} else if slices.Contains(e.HereRuns, m.Run) {
				return nil
			}
			e.Others = true // other runs' exclusions, without Run's
		}
	}
	return e
}

// UnmatchedExclusionError says that files of deliveries to exclude record
// deliveries, but none of them is a recipient of the campaign: they are of
// another campaign (a CSV report written before its campaign column, or a
// JSON one without campaign) or of another recipients file. Staging on would exclude nobody, so everyone they record
// as delivered in the campaign's own earlier run would be mailed again.
type UnmatchedExclusionError struct {
	Campaign  string
	Delivered int
	Sources   []string
}

func (e *UnmatchedExclusionError) Error() string {
	return fmt.Sprintf("none of the %d recipients that %s record as delivered is a recipient of campaign %q: they are of another campaign or another recipients file, and excluding them would exclude nobody (so the campaign's own deliveries would be sent again); nothing was staged: give the delivery journals or the report of campaign %q",
		e.Delivered, strings.Join(e.Sources, ", "), e.Campaign, e.Campaign)
}

// InterruptedError says that the staging of Campaign was interrupted
// (Ctrl-C: Err is context.Canceled) after it began: the staging did not
// end, so no worker sends the campaign, and only a pause acts on it until
// the same staging is run again.
type InterruptedError struct {
	Campaign string
	Err      error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted while staging campaign %q: its staging did not end, so no worker sends it and only a pause acts on it", e.Campaign)
}

// Unwrap returns the context's error.
func (e *InterruptedError) Unwrap() error { return e.Err }

// Stage checks the plan against o, refuses a campaign whose state Redis
// lost (unless its deliveries are excluded), reads the recipients again,
// stages them in the plan's batches (refused, invalid and excluded rows are
// recorded for the report), starts the campaign when o.Start, and writes the
// record of the start. A recovery that leaves nobody to send to (closes)
// is marked done at once, and Result.Closed says so. Interrupted once its
// staging began, it returns an *InterruptedError.
func (p *Planned) Stage(ctx context.Context, st *store.Store, o Options) (_ *Result, err error) {
	if err := p.Preflight(ctx, st, o); err != nil {
		return nil, err
	}
	in := p.in
	c := in.Campaign
	excl := in.Exclude
	rec := Record{Campaign: c.Name, Env: in.EnvName, By: in.Who, Host: in.Host, JournalDir: o.JournalDir,
		CampaignFile: Abs(c.File), Send: &SendOptions{SkipRefused: o.SkipRefused, SkipInvalid: o.SkipInvalid, Rejects: Abs(o.Rejects)}}
	prev, _ := ReadRecord(o.StateDir, c.Name)
	if prev != nil && prev.Env != "" && in.EnvName != "" && prev.Env != in.EnvName {
		// Another environment's (a state_dir both share): its runs,
		// exclusions and files are not this one's to keep or vouch for
		// (runsHere reads a record alike).
		prev = nil
	}
	if prev != nil {
		rec.MarkedRuns = prev.MarkedRuns // whose exclusions the file here lists
	}
	snap, err := p.snapshot()
	if err != nil {
		return nil, err
	}
	def, err := c.Definition()
	if err != nil {
		return nil, fmt.Errorf("encode the campaign: %w", err)
	}
	cfg := store.StageConfig{
		Campaign: c.Name, Definition: def, Hash: in.Engine.Hash(), Snapshot: snap, Env: in.EnvName,
		Who: in.Who, Host: in.Host, Columns: p.Summary.Columns, ChunkSize: o.ChunkSize,
		Canary: p.Summary.Batches.Canary > 0, ResumeExisting: o.ResumeExisting,
		UnsubscribeKey: unsubscribeKey(c, in.Env), NewUnsubscribeKey: o.NewUnsubscribeSecret,
	}
	if excl != nil {
		// Only the journal files read are excluded: a worker whose journal
		// holds deliveries of an earlier run in a file nobody read (a
		// report was given instead, or that worker's journal was not
		// collected) refuses to send, since the exclusions may miss them.
		cfg.ExcludedRuns = excl.Journals
		if len(cfg.ExcludedRuns) == 0 {
			cfg.ExcludedRuns = []string{"none"} // still a new run
		}
		// What a report alone recorded is in no journal: when it skipped
		// someone, say so in the run's id; keep the rows excluded beside
		// the record, before any worker can send in the new run.
		cfg.ExcludedElsewhere = excl.ElsewhereOnly(p.Summary.Rejects)
		cfg.Continues = excl.continued()
	} else if prev != nil {
		rec.Excluded, rec.ExcludedFrom = prev.Excluded, prev.ExcludedFrom // a re-staging keeps them
	}
	sg, err := st.NewStager(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer sg.Abort(ctx) // a staging that fails lets go of the campaign at once
	// Both before Finish can start the run: the exclusions name it, and a
	// marked run is in this machine's journal (markInJournal). A staging
	// that fails before the run may have started takes both back.
	var early earlyWrites
	defer func() {
		if err != nil {
			err = early.undo(err, sg)
		}
	}()
	// Registered after undo, so it runs first: undo's words on what became
	// of the early writes stay in an interrupted staging's error.
	defer func() {
		if errors.Is(err, context.Canceled) {
			err = &InterruptedError{Campaign: c.Name, Err: err}
		}
	}()
	if excl != nil && o.StateDir != "" {
		var legacy []string
		if prev != nil {
			legacy = append(slices.Clip(prev.MarkedRuns), prev.Run)
		}
		if err = early.readBefore(ExclusionsPath(o.StateDir, c.Name)); err != nil {
			return nil, err
		}
		if rec.Excluded, err = writeExclusions(o.StateDir, c.Name, in.EnvName, p.Summary.Rejects, append(slices.Clip(excl.markedRuns()), sg.Run()), legacy); err != nil {
			return nil, err
		}
		rec.ExcludedFrom = excl.Sources
	}
	if path := ExclusionsPath(o.StateDir, c.Name); rec.Excluded == "" && o.StateDir != "" && fileExists(path) {
		rec.Excluded = path // copied here from the machine that made them
	}
	if early.journal, err = markInJournal(o.JournalDir, c.Name, sg.Run(), in.Host); err != nil {
		return nil, err
	}
	if o.ResumeExisting {
		if err := p.checkIDs(ctx, sg); err != nil {
			return nil, err // the campaign is as it was
		}
	}

	// The second read renders nothing: the plan rendered every row, and the
	// bytes are checked to be the same below.
	h := sha256.New()
	staged, err := in.run(ctx, h, p.Summary, func(a plan.Accepted) error {
		if o.Progress != nil {
			o.Progress()
		}
		return sg.Add(ctx, recipientOf(a), a.Batch, a.Canary)
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &ChangedError{File: in.Recipients} // removed or renamed since the plan read it
	}
	if err != nil {
		return nil, err
	}
	// The file was read again to stage it. If it changed since the plan
	// that was shown and decided on, start nothing: the campaign is not
	// recorded as staged until Finish, so send can simply run again.
	if string(h.Sum(nil)) != string(p.digest) {
		return nil, &ChangedError{File: in.Recipients}
	}
	for _, r := range staged.Rejects {
		// A row suppressed since an earlier staging keeps what that
		// staging's send did (sent stays sent); one still pending is
		// skipped. Suppression is decided here, at staging only: the
		// claim step reads nothing of it (the row is in no chunk).
		if err := sg.Reject(ctx, store.Reject{Line: r.Line, ID: r.ID, Email: r.Email, Locale: r.Locale, Outcome: r.Outcome, Code: r.Code, Field: r.Field, Reason: r.Reason,
			KeepEarlier: r.Code == plan.CodeSuppressed}); err != nil {
			return nil, err
		}
	}
	sum, err := sg.Finish(ctx, o.Start)
	var conflict *store.IDConflictError
	if errors.As(err, &conflict) {
		return nil, &IDReusedError{File: in.Recipients, IDConflictError: *conflict}
	}
	if sum == nil {
		return nil, err
	}
	res := &Result{StageSummary: *sum}
	if err == nil && p.closes() && o.Start {
		err = p.close(ctx, st, res)
	}
	if o.StateDir != "" {
		rec.Run, rec.Stage = sum.Run, sum.Stage
		// The file here now lists the exclusions of this run, if marked, and
		// of every marked run the exclusions read were given for (they
		// are this staging's skipped rows).
		for _, run := range append(slices.Clip(excl.markedRuns()), sum.Run) {
			if strings.HasSuffix(run, store.RunExcludedMark) && !slices.Contains(rec.MarkedRuns, run) {
				rec.MarkedRuns = append(rec.MarkedRuns, run)
			}
		}
		path, rerr := WriteRecord(o.StateDir, rec)
		if rerr != nil && err == nil {
			err = rerr
		}
		res.Record = path
	}
	return res, err
}

// Abs is path made absolute, so that a command printed with it works
// from any directory; "" stays "", and a path that cannot be made
// absolute stays as it is.
func Abs(path string) string {
	if path == "" {
		return ""
	}
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}

// markInJournal leaves an empty journal file of run in journalDir when a
// recovery marked it (store.RunExcludedMark): a later recovery from the
// journals must see the run to ask for its exclusions, and a run Redis
// lost before any worker picked it up has no worker's file
// (journal.Touch). The file is named after this machine, host. It
// returns the file's path when this call created it (not when an earlier
// staging of the run did), for a staging that fails to take back.
func markInJournal(journalDir, campaign, run, host string) (string, error) {
	if journalDir == "" || !strings.HasSuffix(run, store.RunExcludedMark) {
		return "", nil
	}
	writer := "send-" + strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == '@' || unicode.IsSpace(r) {
			return '-'
		}
		return r
	}, host)
	existed := fileExists(journal.FileName(journalDir, campaign, run, writer)) // a re-staging of the run
	path, err := journal.Touch(journalDir, campaign, run, writer)
	if existed {
		path = "" // the run's, not this staging's to take back
	}
	if err != nil {
		return "", fmt.Errorf("stage %s: could not leave run %s in this machine's delivery journal, where a later recovery from the journals must see it before any worker claims in it: %w; nothing was started: make %s writable by this user (journal.dir; its path and permission), then stage again", campaign, run, err, filepath.Join(journalDir, campaign))
	}
	return path, nil
}

// earlyWrites are what a staging writes outside Redis before its run can
// start: the exclusions file (exclusions, whose content was before, nil
// when there was none) and the marked run's empty journal file (journal).
type earlyWrites struct {
	exclusions, journal string
	before              []byte
	mode                fs.FileMode            // the exclusions file's permission, when there was one
	syncDir             func(dir string) error // journal.SyncDir when nil (tests count its calls)
}

// readBefore notes path, the exclusions file, as it is before the
// staging writes it: its content (nil when it does not exist) and
// permission.
func (e *earlyWrites) readBefore(path string) error {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read the exclusions before adding to them: %w", err)
	}
	if b != nil {
		fi, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("read the exclusions before adding to them: %w", err)
		}
		e.mode = fi.Mode().Perm()
	}
	e.exclusions, e.before = path, b
	return nil
}

// undo takes back the early writes of staging sg, which failed with err,
// when its run cannot have started (store.Stager.MayHaveStarted): left,
// the exclusions file would list the rows a run that never started
// skipped, read by every later recovery here, and the empty journal file
// would have a recovery elsewhere ask for that run's exclusions. It
// returns err saying what became of them (err as it is when the staging
// wrote neither).
func (e earlyWrites) undo(err error, sg *store.Stager) error {
	var what []string
	if e.exclusions != "" {
		what = append(what, "the exclusions file "+e.exclusions)
	}
	if e.journal != "" {
		what = append(what, "the journal file "+e.journal)
	}
	if len(what) == 0 {
		return err
	}
	if sg.MayHaveStarted() {
		return fmt.Errorf("%w (run %s may have started: %s, which name it, are kept; see whether Redis has the campaign in that run, by tidings status, before anything else: if it does not, stage again)", err, sg.Run(), strings.Join(what, " and "))
	}
	failed := e.takeBack(sg.Run())
	if len(failed) > 0 {
		return fmt.Errorf("%w (run %s was not started, but not everything it wrote could be put back: %s)", err, sg.Run(), strings.Join(failed, "; "))
	}
	return fmt.Errorf("%w (run %s was not started: %s are as they were before it)", err, sg.Run(), strings.Join(what, " and "))
}

// takeBack puts back the early writes of a staging of run that cannot
// have started, and returns, for each file it could not put back, the
// error and what to do.
func (e earlyWrites) takeBack(run string) []string {
	var failed []string // what to do with each file not put back
	undo := func(uerr error, fix string) {
		if uerr != nil && !errors.Is(uerr, fs.ErrNotExist) {
			failed = append(failed, fmt.Sprintf("%v: %s", uerr, fix))
		}
	}
	if e.exclusions != "" {
		fix := "it lists the rows this staging excluded, naming run " + run + ", which a later recovery here would exclude by themselves: before any other recovery on this machine, stage again with the same deliveries to exclude, or remove from " + e.exclusions + " the rows whose run column names that run alone"
		if e.before != nil {
			uerr := writeFile(e.exclusions, e.before)
			if uerr == nil {
				uerr = os.Chmod(e.exclusions, e.mode)
			}
			undo(uerr, fix)
		} else {
			undo(e.remove(e.exclusions), fix)
		}
	}
	if e.journal != "" {
		undo(e.remove(e.journal), "it is the empty journal file of run "+run+", whose exclusions a recovery that reads it would ask for: remove "+e.journal+" by hand before any other recovery reads that journal directory")
	}
	return failed
}

// remove removes path, and syncs its directory so that the removal
// survives a crash of the host (a removed exclusions file that came back
// would list the rows of a run that never started).
func (e earlyWrites) remove(path string) error {
	if err := os.Remove(path); err != nil {
		return err
	}
	if e.syncDir != nil {
		return e.syncDir(filepath.Dir(path))
	}
	return journal.SyncDir(filepath.Dir(path))
}

// StateLostError says that this machine started campaign Campaign in this
// environment before, but Redis has no trace of it: Redis lost its state.
type StateLostError struct {
	Campaign string
	Record   *Record // what this machine recorded when it started it (nil: only journals)
	// NotFound is what Redis keeps of it (its ledger, the audit entry of a
	// `tidings free`, on any host: store.NotFoundError.Freed); nil when
	// Redis did not say.
	NotFound *store.NotFoundError
	// Journals is the number of delivery journal files of the campaign
	// found in JournalDir.
	Journals   int
	JournalDir string
	// Excluded is the file of the recipients earlier recoveries made here
	// excluded (ExclusionsPath), "" when there is none; ExcludedN counts
	// them.
	Excluded  string
	ExcludedN int
	// JournalMissing says that the campaign's directory in JournalDir does
	// not exist (yet) on this machine (a host that ran no worker, a new
	// one): the journal files to copy there need it made first.
	JournalMissing bool
	// NoneDelivered says the send said --none-delivered, refused: this
	// machine's journal or earlier recoveries record deliveries of it.
	NoneDelivered bool
}

func (e *StateLostError) Error() string {
	return fmt.Sprintf("campaign %q was started in this environment before, but Redis has no trace of it: Redis lost its state", e.Campaign)
}

// CampaignJournal is the directory of this machine's delivery journal
// files of the campaign, or "" when none was found.
func (e *StateLostError) CampaignJournal() string {
	if e.Journals == 0 {
		return ""
	}
	return filepath.Join(e.JournalDir, e.Campaign)
}

// checkState refuses to stage as new a campaign that this machine started
// (its record) or delivered (its journal) but that Redis does not know.
func (p *Planned) checkState(ctx context.Context, st *store.Store, o Options) error {
	c := p.in.Campaign.Name
	_, err := st.Meta(ctx, c, false)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return err // Redis knows it (or cannot be asked)
	}
	var nf *store.NotFoundError
	errors.As(err, &nf)
	rec, err := ReadRecord(o.StateDir, c)
	if err != nil {
		return err
	}
	journals := 0
	if o.JournalDir != "" {
		// Only a campaign with no directory in the journal was never
		// delivered from here; a journal that cannot be read (a copy of
		// another host's beside it, a stray file, no permission) refuses:
		// counted as none, it let a lost campaign be staged as new.
		files, err := journalFiles(o.JournalDir, c)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("campaign %q: Redis has no trace of it and its delivery journal in %s cannot be read to tell whether it was delivered before (fix the journal, then send again): %w", c, o.JournalDir, err)
		}
		journals = len(files)
	}
	if rec == nil && journals == 0 {
		return nil
	}
	e := &StateLostError{Campaign: c, Record: rec, NotFound: nf, Journals: journals, JournalDir: o.JournalDir}
	if _, err := os.Stat(filepath.Join(o.JournalDir, c)); o.JournalDir != "" && errors.Is(err, fs.ErrNotExist) {
		e.JournalMissing = true
	}
	if d, err := LoadDelivered(c, []string{ExclusionsPath(o.StateDir, c)}); o.StateDir != "" && err == nil {
		e.Excluded, e.ExcludedN = ExclusionsPath(o.StateDir, c), d.Len()
	}
	// A recovery here that excluded anyone is a delivery on record, even
	// when its list cannot be read any more (the record names it, or the
	// file is there): never "none delivered".
	excludedHere := e.ExcludedN > 0 || (rec != nil && rec.Excluded != "")
	if _, err := os.Stat(ExclusionsPath(o.StateDir, c)); o.StateDir != "" && err == nil {
		excludedHere = excludedHere || e.Excluded == ""
	}
	if o.NoneDelivered && journals == 0 && !excludedHere {
		return nil // the operator says no worker host has a journal of it
	}
	e.NoneDelivered = o.NoneDelivered
	return e
}

// snapshot reads the templates and catalogs to store with the campaign and
// refuses them (a *ChangedError) when they are not the files the plan's
// engine read and checked (a translator saved a catalog while the operator
// confirmed): the snapshot stored must have the hash stored with it, and
// only the files checked may be staged.
func (p *Planned) snapshot() (map[string][]byte, error) {
	in, c := p.in, p.in.Campaign
	snap, err := render.Snapshot(in.Templates, in.Locales, c.Template)
	if err != nil {
		return nil, fmt.Errorf("snapshot the templates: %w", err)
	}
	now := render.SnapshotHash(snap)
	if now == in.Engine.Hash() {
		return snap, nil
	}
	e := &ChangedError{Planned: in.Engine.Hash(), Now: now}
	for _, d := range render.DiffSnapshots(in.Engine.Snapshot(), snap) {
		e.Templates = append(e.Templates, fmt.Sprintf("%s (%s)", render.ResolvePath(d.File, c.Path(c.TemplatesDir), c.Path(c.LocalesDir)), d.Change))
	}
	return nil, e
}

func recipientOf(a plan.Accepted) store.Recipient {
	return store.Recipient{
		Line: a.Line, ID: a.ID, Email: a.Email, Name: a.Name, Locale: a.Locale,
		Lang: a.Match.Lang, Via: a.Match.Via, Fields: a.Fields, Key: a.Address.Key(),
	}
}

// checkIDs reads the recipients once more before a re-staging writes
// anything, and refuses (*IDReusedError) when ids of the file hold the
// earlier outcome of another mailbox. A done campaign stays done: when its
// ids hold, it refuses rows it never had (*NewToDoneError), or says that
// nothing is left to send (store.ErrNothingToSend).
func (p *Planned) checkIDs(ctx context.Context, sg *store.Stager) error {
	e := &IDReusedError{File: p.in.Recipients, IDConflictError: store.IDConflictError{Campaign: p.in.Campaign.Name}}
	fresh := &NewToDoneError{File: p.in.Recipients, Campaign: p.in.Campaign.Name}
	var batch []store.Recipient
	accepted := true // the rows to send; then those skipped as delivered
	check := func() error {
		found, err := sg.Check(ctx, batch)
		for _, c := range found.Conflicts {
			if e.Total++; len(e.Conflicts) < store.MaxConflicts {
				e.Conflicts = append(e.Conflicts, c)
			}
		}
		for _, r := range found.New {
			if !accepted {
				break
			}
			if fresh.Total++; len(fresh.Rows) < maxNewShown {
				fresh.Rows = append(fresh.Rows, r)
			}
		}
		batch = batch[:0]
		return err
	}
	sum, err := p.in.run(ctx, sha256.New(), p.Summary, func(a plan.Accepted) error {
		if batch = append(batch, recipientOf(a)); len(batch) == 1000 {
			return check()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := check(); err != nil {
		return err
	}
	accepted = false
	// Rows skipped as delivered by their mailbox record their id too
	// (Stager.Reject): an id that holds another mailbox's outcome would be
	// overwritten.
	for _, r := range sum.Rejects {
		if r.Outcome != plan.OutcomeSkipped || r.ID == "" {
			continue
		}
		if batch = append(batch, store.Recipient{Line: r.Line, ID: r.ID, Email: r.Email}); len(batch) == 1000 {
			if err := check(); err != nil {
				return err
			}
		}
	}
	if err := check(); err != nil {
		return err
	}
	switch {
	case e.Total > 0:
		return e
	case !sg.Done():
		return nil
	case fresh.Total > 0:
		return fresh
	}
	return fmt.Errorf("stage %s: the campaign is done: %w", p.in.Campaign.Name, store.ErrNothingToSend)
}

// maxNewShown is how many rows a NewToDoneError names.
const maxNewShown = 10

// ErrNewToDone is what a *NewToDoneError is: rows new to a done campaign,
// not sent.
var ErrNewToDone = errors.New("rows new to a done campaign")

// NewToDoneError refuses to stage again a done campaign (a done campaign
// stays done) whose recipients File holds rows it never had: staging it
// again would send them nothing, nor report them. Rows are the first of
// them, Total counts them all.
type NewToDoneError struct {
	File, Campaign string
	Rows           []store.Recipient
	Total          int
}

func (e *NewToDoneError) Error() string {
	var b strings.Builder
	for _, r := range e.Rows {
		fmt.Fprintf(&b, "%s:%d: email: %s (id %q) is new to campaign %s, which is done\n", e.File, r.Line, r.Email, r.ID, e.Campaign)
	}
	if more := e.Total - len(e.Rows); more > 0 {
		fmt.Fprintf(&b, "... and %d more such rows\n", more)
	}
	fmt.Fprintf(&b, "Nothing was staged: %d row(s) are new to campaign %s (it never had their mailboxes), and a done campaign stays done, so staging it again would send them nothing. "+
		"Send them as a campaign of their own: a copy of the campaign file with another name, whose recipients file holds only these rows "+
		"(with the whole file, it would send again to everyone campaign %s dealt with); or, if they should not get it, remove them from %s.", e.Total, e.Campaign, e.Campaign, e.File)
	return b.String()
}

// Unwrap makes it ErrNewToDone.
func (e *NewToDoneError) Unwrap() error { return ErrNewToDone }

// IDReusedError refuses a re-staging in which rows of File have ids that
// hold the earlier outcome of another mailbox (Owner): the ledger, the
// report and the journals name a recipient by id, so the row's address
// would be reported with an outcome its mailbox never had.
type IDReusedError struct {
	File string
	store.IDConflictError
}

func (e *IDReusedError) Error() string {
	var b strings.Builder
	for _, c := range e.Conflicts {
		owner := "another address"
		if c.Owner != c.ID {
			owner = c.Owner
		}
		fmt.Fprintf(&b, "%s:%d: id: %q was staged before for %s, whose outcome is %s; this row is %s\n", e.File, c.Line, c.ID, owner, c.Outcome, c.Email)
	}
	if more := e.Total - len(e.Conflicts); more > 0 {
		fmt.Fprintf(&b, "... and %d more such rows\n", more)
	}
	fmt.Fprintf(&b, "Nothing was started. An id names one recipient for the whole campaign (its ledger, its report, the workers' delivery journals): staged again for another address, that address would be reported with the earlier address's outcome, without a message of its own. "+
		"Give each of these rows an id campaign %s has not used for another address (or put back the address the id was staged for), then stage it again; a recipient whose address is unchanged keeps its earlier outcome under a new id.", e.Campaign)
	return b.String()
}
