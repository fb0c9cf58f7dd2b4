// Package plan reads every recipient of a campaign and decides, without
// touching any queue, what would happen to each: accepted (with the catalog
// language it is served in and its batch), refused (outside the
// environment's allowlist, or a locale the locale rule does not cover) or
// invalid (the row itself is wrong). It also lays out the batch plan and
// estimates the duration.
//
// Each row is checked in this order: row validation (package recipient),
// then the deliveries to exclude (Input.Exclude), then the suppression
// lists (Input.Suppress: skipped, code suppressed), then the environment's
// allowlist, then the locale rule (package render).
// The counts always reconcile: Rows == Accepted + Refused + Invalid + Skipped.
//
// Run streams: accepted recipients go to the emit callback in file order
// and are not kept; only the rejects and one line per distinct requested
// locale are kept.
//
// One person, one message: package recipient compares addresses by their
// normalised identity (NFC local part, IDNA domain, lower case), so a second
// spelling of an address already planned is an invalid row
// (duplicate-email) naming the first one's line. A file without any row
// (a header alone, or only blank lines) is not a plan of nothing: Run
// returns an error wrapping ErrNoRows.
package plan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidings-mail/tidings/internal/address"
	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/recipient"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/suppress"
)

// Outcomes of a rejected row.
const (
	OutcomeRefused = "refused"
	OutcomeInvalid = "invalid"
	// OutcomeSkipped is a row left out on purpose: Input.Exclude matched it
	// (delivered by an earlier run of the campaign), or Input.Suppress.
	OutcomeSkipped = "skipped"
)

// CodeRender is the code of a row the template cannot be rendered with.
const CodeRender = "render-error"

// ErrNoRows is wrapped by the error Run returns when the recipients file
// holds no row at all.
var ErrNoRows = errors.New("no recipient rows")

// CodeAlreadyDelivered is the code of rows skipped by Input.Exclude.
const CodeAlreadyDelivered = "already-delivered"

// CodeSuppressed is the code of rows skipped because their mailbox is on
// a suppression list (Input.Suppress); the reason names the list's file
// and line.
const CodeSuppressed = "suppressed"

// CodeIDDelivered is the code of rows whose id Input.Exclude knows as
// delivered to another address.
const CodeIDDelivered = "id-delivered-elsewhere"

// Input is what Run plans.
type Input struct {
	Campaign *campaign.Campaign
	Engine   *render.Engine
	// Env is the target environment; nil means no allowlist.
	Env *environment.Environment
	// Recipients is the recipients file's content.
	Recipients io.Reader
	// RecipientsName names the file in messages and picks the format.
	RecipientsName string
	// Format overrides the format chosen by RecipientsName's extension.
	Format recipient.Format
	// Exclude, when set, is asked about every valid row: a row it matches
	// is skipped (not sent, not in any batch), with its reason; a row it
	// has an error for is invalid (CodeIDDelivered: its id was delivered to
	// another address), with the error as its reason.
	Exclude func(id, email string) (reason string, ok bool, err error)
	// Suppress, when set, holds the mailboxes never to mail: a valid row
	// whose mailbox is on it (by address.Key) is skipped, code
	// CodeSuppressed, its reason naming the list's file and line.
	Suppress *suppress.List
	// Prior, when set, is the summary of an earlier run over the same bytes
	// (the caller checks they are the same): rows are not checked again,
	// and a row Prior found the template cannot render is invalid again
	// with the same reason. Staging uses it to check every row only once.
	Prior *Summary
}

// Accepted is a recipient that passed every check, with its matched catalog
// language and its batch.
type Accepted struct {
	recipient.Recipient
	Match render.Match
	// Batch is the batch the recipient is sent in. With a canary
	// (canary_per_locale > 0) batch 0 is the canary and regular batches are
	// 1..Count; without, regular batches are 0..Count-1. The canary holds the
	// first canary_per_locale accepted recipients of every language, in file
	// order; the rest fill regular batches of Size in file order.
	Batch int
	// Canary is true for recipients of the canary batch.
	Canary bool
}

// Summary is the outcome of a plan.
type Summary struct {
	Campaign    string   `json:"campaign"`
	File        string   `json:"file"`
	Environment string   `json:"environment,omitempty"`
	Columns     []string `json:"columns"`

	Rows     int `json:"rows"`
	Accepted int `json:"accepted"`
	Refused  int `json:"refused"`
	Invalid  int `json:"invalid"`
	Skipped  int `json:"skipped"` // left out by Input.Exclude or Input.Suppress
	// Suppressed counts, per suppression list (Input.Suppress, in its
	// files' order), the rows it skipped (among Skipped).
	Suppressed []Suppressed `json:"suppressed,omitempty"`

	PerLocale []LocaleLine `json:"per_locale"`
	// Rejects holds every refused, invalid and skipped row, in file order.
	Rejects []Reject `json:"rejects"`
	// MissingColumns are the columns the template uses that the header of
	// a CSV file lacks, in the order first needed: one problem of the
	// header (line 1), not of each row. Every row that needs one is still
	// invalid and in Rejects (CodeRender, its Field the column).
	MissingColumns []MissingColumn `json:"missing_columns,omitempty"`
	// lacking holds, per line of a row in Rejects for columns the header
	// lacks, every such column the row needs, in the order the template
	// needs them (the reject's Field is the first), for a run with this
	// summary as Prior.
	lacking map[int][]string
	// kept says why WriteRejectsFile kept an earlier rejects file at its
	// path (KeptNote).
	kept string
	// Samples holds, per catalog language rows matched, its first
	// accepted row and the rows the template cannot be rendered with: the
	// recipient a preview of the language shows, and how many of the
	// language are not sent for their own row.
	Samples map[string]*Sample `json:"-"`
	Batches BatchPlan          `json:"batches"`
	// SMTPUTF8 counts the accepted rows whose address has a local part
	// that is not ASCII, delivered only through a relay that offers
	// SMTPUTF8.
	SMTPUTF8 SMTPUTF8Rows `json:"smtputf8,omitzero"`
	// NullNames counts the accepted rows whose name was a database
	// export's null (recipient.NullNames), sent with no name.
	NullNames NullNameRows `json:"null_names,omitzero"`

	Rate campaign.Rate `json:"rate"`
	// Estimate is the expected sending time (campaign.Batches.Duration):
	// every accepted recipient at the campaign rate, plus Interval before
	// each batch after the first. With an unlimited rate it counts only the
	// intervals. Waiting for approval is not included.
	Estimate time.Duration `json:"estimate_ns"`
}

// Suppressed is how many rows one suppression list skipped.
type Suppressed struct {
	File string `json:"file"`
	Size int    `json:"addresses"` // distinct mailboxes the list holds
	Rows int    `json:"rows"`
}

// SuppressedRows returns how many rows the suppression lists skipped.
func (s *Summary) SuppressedRows() int {
	n := 0
	for _, l := range s.Suppressed {
		n += l.Rows
	}
	return n
}

// AlreadyDelivered returns how many rows were skipped as already
// delivered (Input.Exclude): Skipped less SuppressedRows.
func (s *Summary) AlreadyDelivered() int { return s.Skipped - s.SuppressedRows() }

// SMTPUTF8Rows counts the accepted rows whose address needs SMTPUTF8 (its
// local part is not ASCII: address.Address.NeedsSMTPUTF8), and names the
// first of them.
type SMTPUTF8Rows struct {
	Count int    `json:"count"`
	Line  int    `json:"first_line"`
	Email string `json:"first_email"`
}

// NullNameRows counts the accepted rows whose name was a database
// export's null (recipient.Recipient.NullName): they are sent with no
// name. First holds the first NullNamesShown of them, in file order.
type NullNameRows struct {
	Count int           `json:"count"`
	First []NullNameRow `json:"first"`
}

// NullNameRow is a row whose name was Value, a database export's null.
type NullNameRow struct {
	Line  int    `json:"line"`
	Value string `json:"name"`
}

// NullNamesShown is how many rows NullNameRows names.
const NullNamesShown = 3

// LocaleLine summarises the rows of one requested locale (as written).
type LocaleLine struct {
	Requested string `json:"requested"`
	Lang      string `json:"lang"` // matched catalog language, "" when refused
	Via       string `json:"via"`  // exact, equivalent, match, alias, missing_locale; "" when refused
	Accepted  int    `json:"accepted"`
	// Refused counts every refused row of this locale: locale refusals and
	// NotAllowed.
	Refused int `json:"refused"`
	// NotAllowed counts rows refused by the environment's allowlist.
	NotAllowed int    `json:"not_allowed"`
	Code       string `json:"code,omitempty"`   // the locale rule's refusal code
	Reason     string `json:"reason,omitempty"` // the locale rule's refusal reason
	// Fix is the end of Reason that says what to do (render.Refusal.Fix):
	// the table leaves it to the rows' lines below it.
	Fix string `json:"-"`
}

// Reject is one refused or invalid row.
type Reject struct {
	Line    int    `json:"line"`
	ID      string `json:"id"`
	Email   string `json:"email"`
	Locale  string `json:"locale"`
	Outcome string `json:"outcome"` // refused or invalid
	Code    string `json:"code"`    // recipient.Code*, render.Code*, or not-allowed-in-<env>
	Field   string `json:"field"`
	Reason  string `json:"reason"`
}

// Sample is what a plan found of one catalog language.
type Sample struct {
	// First is the first accepted row of the language, in file order; nil
	// when no row of it is accepted.
	First *Accepted
	// Invalid counts the rows of the language (allowed, their locale
	// matched) that the template cannot be rendered with (CodeRender);
	// FirstInvalid is the first of them.
	Invalid      int
	FirstInvalid Reject
}

// sample returns the Sample of lang, created when new.
func (s *Summary) sample(lang string) *Sample {
	if s.Samples == nil {
		s.Samples = map[string]*Sample{}
	}
	if s.Samples[lang] == nil {
		s.Samples[lang] = &Sample{}
	}
	return s.Samples[lang]
}

// MissingColumn is a column the template uses that the header lacks.
type MissingColumn struct {
	Column string `json:"column"`
	// UsedAt is where the first row that needed it failed:
	// templates/welcome/html.tmpl:19, with "(message KEY)" when a catalog
	// message uses it.
	UsedAt string `json:"used_at"`
	Rows   int    `json:"rows"` // the rows invalid for its lack
}

// BatchPlan is the batch layout of the accepted recipients.
type BatchPlan struct {
	// Canary is the size of the canary batch: over every covered language,
	// min(canary_per_locale, accepted recipients of that language).
	Canary        int            `json:"canary"`
	CanaryPerLang map[string]int `json:"canary_per_lang"`
	// Regular is the number of recipients in regular batches.
	Regular int `json:"regular"`
	// Size is the regular batch size; Count the number of regular batches.
	Size               int           `json:"size"`
	Count              int           `json:"count"`
	Interval           time.Duration `json:"interval_ns"`
	ApproveAfterCanary bool          `json:"approve_after_canary"`
}

// WaitsForApproval says whether the campaign waits for approval after
// its canary: approve_after_canary, and a batch after the canary to
// approve (a canary that holds every recipient leaves nothing to wait
// for: lua/tick.lua).
func (b BatchPlan) WaitsForApproval() bool {
	return b.ApproveAfterCanary && b.Canary > 0 && b.Count > 0
}

// Total returns the number of batches, the canary included.
func (b BatchPlan) Total() int {
	if b.Canary > 0 {
		return b.Count + 1
	}
	return b.Count
}

type resolution struct {
	match   render.Match
	refusal *render.Refusal
}

// GCPercent is the Go GC target percentage while Run runs, when the
// runtime's is its default (100; a GOGC set by the operator is kept). What
// a run holds live grows with the file: the reader's index of the
// addresses and ids seen (package recipient: 24 to 48 bytes a row, no
// pointers, so a collection marks it at almost no cost). At the default,
// the heap grows to twice that before each collection: 130-136 MB of peak
// RSS for a million rows; at 50, 113 MB in the same staging time; at 25,
// 103-108 MB but up to a fifth more CPU, which the 10 s target of a
// million rows' staging cannot spare (docs/benchmarks.md, "Staging's
// memory").
const GCPercent = 50

// Run reads every row of in.Recipients, calls emit for each accepted one (in
// file order) and returns the summary. An error from emit stops the run and
// is returned. Invalid and refused rows are not errors: they are counted and
// kept in Summary.Rejects. A header problem, an I/O error or a file without
// any row (ErrNoRows) is returned as an error.
func Run(ctx context.Context, in Input, emit func(Accepted) error) (*Summary, error) {
	if in.Campaign == nil || in.Engine == nil {
		return nil, errors.New("plan: campaign and engine are required")
	}
	// A GOGC the operator set is kept, even GOGC=100 (which the runtime's
	// percent alone cannot tell from its default). Two runs at once (not
	// done by any command) may restore the default before the second ends:
	// only memory, never a result, depends on it.
	if _, set := os.LookupEnv("GOGC"); !set {
		if prev := debug.SetGCPercent(GCPercent); prev != 100 {
			debug.SetGCPercent(prev) // another run's, or set by the program
		} else {
			defer debug.SetGCPercent(prev)
		}
	}
	name := in.RecipientsName
	if name == "" {
		name = in.Campaign.Recipients
	}
	rd, err := recipient.NewReader(in.Recipients, recipient.ReaderConfig{Name: name, Format: in.Format})
	if err != nil {
		var he *recipient.HeaderError
		if errors.As(err, &he) {
			err = templateLacks(in, he)
		}
		return nil, fmt.Errorf("read recipients: %w", err)
	}
	c := in.Campaign
	s := &Summary{Campaign: c.Name, File: name, Rate: c.Rate}
	for i, f := range in.Suppress.Files() {
		s.Suppressed = append(s.Suppressed, Suppressed{File: f, Size: in.Suppress.Size(i)})
	}
	if in.Env != nil {
		s.Environment = in.Env.Name
	}
	var (
		lines     = map[string]*LocaleLine{}
		perLang   = map[string]int{}
		canaryN   = c.Batches.CanaryPerLocale
		size      = max(c.Batches.Size, 1)
		firstReg  = 0
		regular   = 0
		canaryLng = map[string]int{}
	)
	if canaryN > 0 {
		firstReg = 1
	}
	resolve := func(loc string) resolution {
		// Engine.Resolve caches by locale itself.
		var r resolution
		m, err := in.Engine.Resolve(loc)
		if err != nil {
			var ref *render.Refusal
			if !errors.As(err, &ref) {
				ref = &render.Refusal{Requested: loc, Code: render.CodeNotCovered, Reason: err.Error()}
			}
			r.refusal = ref
		} else {
			r.match = m
		}
		return r
	}
	lineFor := func(loc string, r resolution) *LocaleLine {
		l, ok := lines[loc]
		if !ok {
			l = &LocaleLine{Requested: loc, Lang: r.match.Lang, Via: r.match.Via}
			if r.refusal != nil {
				l.Code, l.Reason, l.Fix = r.refusal.Code, r.refusal.Reason, r.refusal.Fix
			}
			lines[loc] = l
		}
		return l
	}

	ahead := readAhead{in: in, rd: rd, file: name, resolve: resolve, allowed: in.Env.Allowlist(), usedAt: map[string]string{}}
	var prior map[int]Reject // line -> render refusal of the earlier run
	if in.Prior != nil {
		ahead.priorLacking = in.Prior.lacking
		prior = map[int]Reject{}
		for _, r := range in.Prior.Rejects {
			if r.Code == CodeRender {
				prior[r.Line] = r
			}
		}
		for _, mc := range in.Prior.MissingColumns {
			ahead.usedAt[mc.Column] = mc.UsedAt
		}
	}
	ahead.prior = prior
	missing := map[string]int{} // column -> index in s.MissingColumns
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("plan %s: %w", name, err)
			}
		}
		r := ahead.next()
		if r == nil {
			break
		}
		rcp, err := r.rcp, r.err
		var rowErr *recipient.RowError
		if errors.As(err, &rowErr) {
			s.Rows++
			s.Invalid++
			s.Rejects = append(s.Rejects, Reject{Line: rowErr.Line, ID: rcp.ID, Email: rcp.Email, Locale: rcp.Locale,
				Outcome: OutcomeInvalid, Code: rowErr.Code, Field: rowErr.Field, Reason: rowErr.Reason})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read recipients: %w", err)
		}
		s.Rows++
		if r.excludeErr != nil {
			s.Invalid++
			s.Rejects = append(s.Rejects, Reject{Line: rcp.Line, ID: rcp.ID, Email: rcp.Email, Locale: rcp.Locale,
				Outcome: OutcomeInvalid, Code: CodeIDDelivered, Field: "id", Reason: r.excludeErr.Error()})
			continue
		}
		if r.excluded {
			s.Skipped++
			s.Rejects = append(s.Rejects, Reject{Line: rcp.Line, ID: rcp.ID, Email: rcp.Email, Locale: rcp.Locale,
				Outcome: OutcomeSkipped, Code: CodeAlreadyDelivered, Field: "email", Reason: r.why})
			continue
		}
		if r.suppressed {
			s.Skipped++
			for i := range s.Suppressed {
				if s.Suppressed[i].File == r.on.File {
					s.Suppressed[i].Rows++
				}
			}
			s.Rejects = append(s.Rejects, Reject{Line: rcp.Line, ID: rcp.ID, Email: rcp.Email, Locale: rcp.Locale,
				Outcome: OutcomeSkipped, Code: CodeSuppressed, Field: "email", Reason: SuppressedReason(r.on)})
			continue
		}
		res := r.res
		line := lineFor(rcp.Locale, res)
		if !r.allowed {
			s.Refused++
			line.Refused++
			line.NotAllowed++
			s.Rejects = append(s.Rejects, Reject{Line: rcp.Line, ID: rcp.ID, Email: rcp.Email, Locale: rcp.Locale,
				Outcome: OutcomeRefused, Code: in.Env.RefusalCode(), Field: "email",
				Reason: fmt.Sprintf("%s: %s is not on the allowlist of environment %s: it mails only the addresses and domains of its allow: (TIDINGS_ALLOW); "+
					"add this one there to mail it in %s, or send the campaign in the environment it is meant for; until then the row is refused, not sent",
					in.Env.RefusalCode(), rcp.Email, in.Env.Name, in.Env.Name)})
			continue
		}
		if res.refusal != nil {
			s.Refused++
			line.Refused++
			s.Rejects = append(s.Rejects, Reject{Line: rcp.Line, ID: rcp.ID, Email: rcp.Email, Locale: rcp.Locale,
				Outcome: OutcomeRefused, Code: res.refusal.Code, Field: "locale", Reason: res.refusal.Reason})
			continue
		}
		// Render the row as the worker will: a row the template cannot be
		// rendered with (a column it uses is missing, a count is not a
		// number) would otherwise be refused at send time, after the plan
		// said it would be sent.
		if reason, bad := r.reason, r.bad; bad {
			s.Invalid++
			rej := Reject{Line: rcp.Line, ID: rcp.ID, Email: rcp.Email, Locale: rcp.Locale,
				Outcome: OutcomeInvalid, Code: CodeRender, Reason: reason}
			if len(r.columns) > 0 {
				rej.Field = r.columns[0]
				if s.lacking == nil {
					s.lacking = map[int][]string{}
				}
				s.lacking[rcp.Line] = r.columns
			}
			s.Rejects = append(s.Rejects, rej)
			if sm := s.sample(res.match.Lang); sm.Invalid == 0 {
				sm.FirstInvalid = rej
			}
			s.sample(res.match.Lang).Invalid++
			for _, col := range r.columns {
				i, ok := missing[col]
				if !ok {
					i, missing[col] = len(s.MissingColumns), len(s.MissingColumns)
					s.MissingColumns = append(s.MissingColumns, MissingColumn{Column: col, UsedAt: ahead.usedAt[col]})
				}
				s.MissingColumns[i].Rows++
			}
			continue
		}
		s.Accepted++
		line.Accepted++
		if rcp.Address.NeedsSMTPUTF8() {
			if s.SMTPUTF8.Count == 0 {
				s.SMTPUTF8.Line, s.SMTPUTF8.Email = rcp.Line, rcp.Email
			}
			s.SMTPUTF8.Count++
		}
		if rcp.NullName != "" {
			if s.NullNames.Count < NullNamesShown {
				s.NullNames.First = append(s.NullNames.First, NullNameRow{Line: rcp.Line, Value: rcp.NullName})
			}
			s.NullNames.Count++
		}
		a := Accepted{Recipient: rcp, Match: res.match}
		lang := res.match.Lang
		perLang[lang]++
		if canaryLng[lang] < canaryN {
			canaryLng[lang]++
			a.Canary = true
			a.Batch = 0
		} else {
			a.Batch = firstReg + regular/size
			regular++
		}
		if sm := s.sample(lang); sm.First == nil {
			first := a
			sm.First = &first
		}
		if emit != nil {
			if err := emit(a); err != nil {
				return nil, fmt.Errorf("plan %s line %d: %w", name, rcp.Line, err)
			}
		}
	}
	if s.Rows == 0 {
		what := "the file has a header row but no row below it"
		if rd.Format() == recipient.FormatJSONL {
			what = "the file has no line with a recipient"
		}
		return nil, fmt.Errorf("%s: %w: %s: add one row per recipient", name, ErrNoRows, what)
	}
	s.Columns = rd.Columns()

	s.PerLocale = make([]LocaleLine, 0, len(lines))
	for _, l := range lines {
		s.PerLocale = append(s.PerLocale, *l)
	}
	sort.Slice(s.PerLocale, func(i, j int) bool {
		a, b := s.PerLocale[i], s.PerLocale[j]
		if (a.Lang == "") != (b.Lang == "") {
			return a.Lang != ""
		}
		if a.Lang != b.Lang {
			return a.Lang < b.Lang
		}
		return a.Requested < b.Requested
	})

	bp := BatchPlan{
		CanaryPerLang:      canaryLng,
		Regular:            regular,
		Size:               size,
		Count:              (regular + size - 1) / size,
		Interval:           c.Batches.Interval,
		ApproveAfterCanary: c.Batches.ApproveAfterCanary,
	}
	for _, n := range canaryLng {
		bp.Canary += n
	}
	s.Batches = bp
	s.Estimate = c.Batches.Duration(int64(bp.Canary+bp.Regular), c.Rate.PerSecond(), max(bp.Total()-1, 0))
	return s, nil
}

// SuppressedReason is the reason of a row skipped because its mailbox is
// on a suppression list, at on.
func SuppressedReason(on suppress.Source) string {
	return fmt.Sprintf("on the suppression list %s (line %d): its mailbox opted out or bounced, so it is never mailed (this campaign keeps it skipped even if the line is removed later); remove the line only if this person asked to be mailed again, before a campaign is staged", on.File, on.Line)
}

// readAhead reads recipient rows a block at a time and checks the block's
// rows that will be accepted in parallel, one goroutine per core: checking
// a row may mean rendering it, the costliest part of a plan. Rows come out in file order
// with what the plan needs to decide about each.
type readAhead struct {
	in    Input
	rd    *recipient.Reader
	file  string // the recipients file's name
	prior map[int]Reject
	// priorLacking is Prior's Summary.lacking.
	priorLacking map[int][]string
	resolve      func(string) resolution
	allowed      func(address.Address) bool // the environment's allowlist
	// usedAt holds, per column the header lacks, where the template uses
	// it (the first row that needed it says); written in file order.
	usedAt map[string]string
	buf    []aheadRow
	pos    int
	done   bool
}

type aheadRow struct {
	rcp        recipient.Recipient
	err        error // from the reader: a *recipient.RowError, or fatal (last row)
	excluded   bool  // Input.Exclude matched it, because of why
	excludeErr error // Input.Exclude's error for it
	why        string
	suppressed bool // Input.Suppress holds its mailbox, at on
	on         suppress.Source
	res        resolution
	allowed    bool   // by the environment's allowlist
	reason     string // why the template cannot be rendered with it
	bad        bool
	columns    []string // the columns the header lacks that it needs, if that is why
	usedAt     []string // where the template uses each of columns
}

// aheadBlock is how many rows readAhead reads and renders at a time, and
// aheadBytes the most bytes of rows it holds at once (rowBytes): rows of up
// to recipient.MaxRowBytes each would otherwise make a block of a GiB.
const (
	aheadBlock = 1024
	aheadBytes = 16 << 20
)

// rowBytes is about how many bytes rcp holds: its strings' lengths.
func rowBytes(rcp *recipient.Recipient) int {
	n := len(rcp.ID) + len(rcp.Email) + len(rcp.Name) + len(rcp.Locale)
	for k, v := range rcp.Fields {
		n += len(k) + len(v)
	}
	return n
}

// next returns the next row, nil at the end of the file.
func (a *readAhead) next() *aheadRow {
	if a.pos == len(a.buf) {
		if a.done {
			return nil
		}
		a.fill()
		if len(a.buf) == 0 {
			return nil
		}
	}
	a.pos++
	return &a.buf[a.pos-1]
}

func (a *readAhead) fill() {
	a.buf, a.pos = a.buf[:0], 0
	var todo []int // rows to render
	for held := 0; len(a.buf) < aheadBlock && held < aheadBytes; {
		rcp, err := a.rd.Next()
		held += rowBytes(&rcp)
		if errors.Is(err, io.EOF) {
			a.done = true
			break
		}
		r := aheadRow{rcp: rcp, err: err}
		var rowErr *recipient.RowError
		if err != nil && !errors.As(err, &rowErr) {
			a.buf, a.done = append(a.buf, r), true
			break
		}
		if err == nil {
			if a.in.Exclude != nil {
				r.why, r.excluded, r.excludeErr = a.in.Exclude(rcp.ID, rcp.Email)
			}
			if !r.excluded && r.excludeErr == nil {
				r.on, r.suppressed = a.in.Suppress.Match(rcp.Address)
			}
			r.res, r.allowed = a.resolve(rcp.Locale), a.allowed(rcp.Address)
			if !r.excluded && r.excludeErr == nil && !r.suppressed && r.allowed && r.res.refusal == nil {
				todo = append(todo, len(a.buf))
			}
		}
		a.buf = append(a.buf, r)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(todo)) {
		wg.Go(func() {
			for k := int(next.Add(1) - 1); k < len(todo); k = int(next.Add(1) - 1) {
				r := &a.buf[todo[k]]
				r.reason, r.columns, r.usedAt, r.bad = a.renderCheck(r.rcp, r.res.match)
			}
		})
	}
	wg.Wait()
	for _, k := range todo {
		r := &a.buf[k]
		for i, col := range r.columns {
			if a.usedAt[col] == "" && i < len(r.usedAt) {
				a.usedAt[col] = r.usedAt[i]
			}
		}
	}
}

// renderCheck returns why rcp cannot be rendered as the worker will render
// it (render.Engine.Check: what Render would return, without executing the
// templates where they cannot fail), or, with prior results, what the
// earlier run over the same bytes found. When the reason is columns the
// header of a CSV file lacks, it returns every such column the row needs
// (see lacking) and where the template uses each, and the reason points at
// the header: every row lacks them.
func (a *readAhead) renderCheck(rcp recipient.Recipient, m render.Match) (reason string, columns, usedAt []string, bad bool) {
	if a.prior != nil {
		r, bad := a.prior[rcp.Line]
		return r.Reason, a.priorLacking[rcp.Line], nil, bad
	}
	c := a.in.Campaign
	d := render.Data{ID: rcp.ID, Email: rcp.Email, Name: rcp.Name, Campaign: c.Name, Fields: rcp.Fields, Data: c.Data}
	err := a.in.Engine.Check(m, d)
	re := (*render.RenderError)(nil)
	switch {
	case err == nil:
		return "", nil, nil, false
	case errors.As(err, &re) && re.Cause == render.CauseMissingColumn && a.rd.Format() == recipient.FormatCSV:
		columns, usedAt = lacking(a.in.Engine, m, d, re)
		return headerLacks(a.file, a.rd.Columns(), columns, usedAt), columns, usedAt, true
	case re != nil && re.Cause == render.CauseMissingData:
		// Not the row's fault: every row fails alike, and the fix is the
		// campaign file's data: (or the template line it names).
		return "no row can be rendered, whatever its values: " + re.Error() + " (" + c.File + ")", nil, nil, true
	case re != nil:
		return "the template cannot be rendered with this row: " + re.Error(), nil, nil, true // it says where and what to do
	}
	return "the template cannot be rendered with this row: " + err.Error() + "; add the missing column or fix the value", nil, nil, true
}

// stand is the value lacking gives a column the header lacks, to look past
// it for the next: a whole number, so that a count reads it too.
const stand = "1"

// lacking returns every column the header lacks that the template needs for
// d, starting with re's (a render.CauseMissingColumn), and where the
// template uses each: a render stops at the first column it lacks, so each
// is given a stand-in value in turn and d is checked again, until it renders
// or fails for another reason. An operator then adds them all at once,
// instead of one per run.
func lacking(e *render.Engine, m render.Match, d render.Data, re *render.RenderError) (columns, usedAt []string) {
	fields := make(map[string]string, len(d.Fields)+1)
	maps.Copy(fields, d.Fields)
	d.Fields = fields
	for re != nil && re.Cause == render.CauseMissingColumn {
		if _, ok := fields[re.Column]; ok {
			break // given already: never loop
		}
		at := fmt.Sprintf("%s:%d", re.File, re.Line)
		if re.Key != "" {
			at += " (message " + re.Key + ")" // the same in every language
		}
		columns, usedAt = append(columns, re.Column), append(usedAt, at)
		fields[re.Column] = stand
		if err := e.Check(m, d); !errors.As(err, &re) {
			break
		}
	}
	return columns, usedAt
}

// HeaderError is a CSV header that lacks required columns (Err) and columns
// the template uses (Columns, used at UsedAt): every column to add, in one
// error, so that one fix of the header is enough.
type HeaderError struct {
	Err     *recipient.HeaderError
	Columns []string
	UsedAt  []string // where the template uses each of Columns
}

// Error returns the required columns' error, followed by the template's.
func (e *HeaderError) Error() string {
	each := make([]string, len(e.Columns))
	for i, col := range e.Columns {
		each[i] = fmt.Sprintf("%q (used at %s)", col, e.UsedAt[i])
	}
	them := "them"
	if len(e.Columns) == 1 {
		them = "it"
	}
	return fmt.Sprintf("%s; the template also uses %s, which the header lacks too: add %s as well, with a value in every row",
		e.Err.Error(), strings.Join(each, ", "), them)
}

// Unwrap returns the required columns' error.
func (e *HeaderError) Unwrap() error { return e.Err }

// templateLacks returns he, a header without the required columns, as a
// *HeaderError when the template uses further columns that header lacks
// (for a recipient of the campaign's default language), else he itself.
func templateLacks(in Input, he *recipient.HeaderError) error {
	c := in.Campaign
	m, err := in.Engine.Resolve(c.DefaultLocale)
	if err != nil {
		return he
	}
	fields := map[string]string{}
	for _, h := range he.Has {
		switch h {
		case "email", "locale", "id", "name":
		default:
			fields[h] = stand
		}
	}
	d := render.Data{Campaign: c.Name, Fields: fields, Data: c.Data}
	var re *render.RenderError
	if err := in.Engine.Check(m, d); !errors.As(err, &re) || re.Cause != render.CauseMissingColumn {
		return he
	}
	columns, usedAt := lacking(in.Engine, m, d, re)
	return &HeaderError{Err: he, Columns: columns, UsedAt: usedAt}
}

// sameButCase returns the column of columns that is column in another
// case: a template reads .Fields.posts, not a column "Posts".
func sameButCase(columns []string, column string) (string, bool) {
	for _, c := range columns {
		if strings.EqualFold(c, column) {
			return c, true
		}
	}
	return "", false
}

// headerLacks is the reason of a row the template cannot be rendered with
// because the header of file, with columns, lacks each of missing, which
// the template uses at the same index of usedAt.
func headerLacks(file string, columns, missing, usedAt []string) string {
	caseOf := func(column string) string {
		if c, ok := sameButCase(columns, column); ok {
			return fmt.Sprintf(" (the header has %q: column names are case-sensitive)", c)
		}
		return ""
	}
	if len(missing) == 1 {
		return fmt.Sprintf("the header of %s (line 1) has no column %q, which the template uses at %s: add it to the header, with a value in every row", file, missing[0], usedAt[0]) + caseOf(missing[0])
	}
	each := make([]string, len(missing))
	for i, col := range missing {
		each[i] = fmt.Sprintf("%q, used at %s%s", col, usedAt[i], caseOf(col))
	}
	return fmt.Sprintf("the header of %s (line 1) lacks %d columns the template uses: %s: add all of them to the header, with a value in every row", file, len(missing), strings.Join(each, "; "))
}
