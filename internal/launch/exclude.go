package launch

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/tidings-mail/tidings/internal/address"
	"github.com/tidings-mail/tidings/internal/csvcell"
	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/report"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/userfile"
)

// Delivered is the set of recipients of a campaign that may already have
// received its message (sent or in doubt), gathered from delivery journals
// and reports, matched by id and by mailbox identity (address.Key).
type Delivered struct {
	Campaign string
	Sources  []string // the files read
	// Reports are the files read that are not journals: reports, and the
	// exclusions of earlier recoveries (ExclusionsPath).
	Reports []string
	// Complete are those of Reports that list every recipient an earlier
	// recovery excluded beyond the journals: a report written from Redis
	// (whole: a filtered one is refused), or the exclusions of earlier
	// recoveries. Only they may stand for what the journals of a run
	// such a recovery staged lack (*ExclusionsMissingError); Partial says
	// what each other one is.
	Complete []string
	Partial  []string
	// written says, of each file of Complete, which marked runs it stands
	// for (standsFor).
	written []written
	// Earlier counts the recipients the exclusions of earlier recoveries
	// made on this machine list, EarlierFile, when LoadDeliveredFor read
	// them by itself.
	Earlier     int
	EarlierFile string
	Runs        []string // the runs whose deliveries they record (journals only)
	// Journals names each journal file read, and up to what size, as
	// "<run>.<worker>@<bytes>": a worker whose journal holds deliveries of
	// a run in a file not read here, or grown since, refuses the new
	// staging (journal.UnknownRuns).
	Journals []string
	Sent     int // distinct recipients sent
	InDoubt  int // distinct recipients in doubt (and not sent)
	// Records counts the journal lines and report rows read that are the
	// campaign's, whatever their outcome (a report's rows only when it
	// names its campaign): with no delivery, they are what shows that the
	// files are the campaign's and that it delivered nobody.
	Records int
	// Truncated lists journal files whose last line was incomplete (their
	// writer died mid-line); every complete line was read.
	Truncated []string
	// Again lists the paths given (or found in a directory given) that
	// name a file already read (the same device and inode: the same
	// directory given twice, a directory and a file in it, a symbolic
	// link), each with the path it was read as: read and counted once.
	Again []string
	read  []readFile // the files read, for Again
	// envs are the environments the journal lines and report rows read
	// name (their field or column env), each where it is first named
	// (CheckEnv); NoEnv the files with lines or rows that name none
	// (written before tidings recorded it), which cannot be checked.
	envs  map[string]envAt
	NoEnv []string

	byID, byKey map[string]string // -> how it was delivered, for the report
	// jID, jKey are the ids and mailboxes the journals read record as
	// delivered (InJournals).
	jID, jKey map[string]bool
	// boxes are the mailboxes (address.KeyOf) each id was delivered to,
	// as recorded (none when its lines named none).
	boxes map[string][]string
	// marked are the runs read whose ids end in store.RunExcludedMark, in
	// journal files or in reports written from them (markRun).
	marked []string
}

// written is a file of Complete: the exclusions of recoveries (stand for
// the marked runs they name, Runs), or a report written from Redis in Run
// ("" when it does not say: one written before reports did), Where naming
// where it says so (the file, and a CSV's line), whose run's staging
// continued the runs Continues (store.Meta.ContinuedRuns; Says is false
// for a report written before reports said).
type written struct {
	Path, Where, Run string
	Exclusions       bool
	Continues        []string
	Says             bool
	// Runs are the runs whose recoveries' exclusions the file lists (its
	// run column); Unnamed, a file written before it had one.
	Runs    []string
	Unnamed bool
}

// standsFor reports whether w lists every recipient the recovery that
// staged marked run excluded: the exclusions of recoveries that name it,
// or a report written from Redis in that run or in one whose staging
// continued it (read its journals, and so had its exclusions given: it
// excluded them again). A report written before it lacks the deliveries
// that recovery excluded from other reports, made after it was written;
// the exclusions of other runs' recoveries (another machine's) lack what
// it excluded. Which run came first is never read from their ids: they
// say the clocks of the machines that staged them, which may be off.
func (w written) standsFor(run string) bool {
	if w.Exclusions {
		return slices.Contains(w.Runs, run)
	}
	return w.Run != "" && (w.Run == run || slices.Contains(w.Continues, run))
}

// stale says why w does not stand for run (standsFor).
func (w written) stale(run string) string {
	switch {
	case w.Exclusions && w.Unnamed:
		return w.Path + " is an exclusions file written by a version of tidings that did not say which runs' recoveries it lists (no run column), so it may lack what the recovery that staged run " + run + " excluded (another machine's); on the machine that wrote it, it is read by itself for the runs staged there"
	case w.Exclusions:
		return w.Path + " lists the exclusions of the recoveries of run(s) " + strings.Join(w.Runs, ", ") + " only, not of run " + run + " (another machine's)"
	case w.Run == "":
		return w.Where + " is a report written from Redis by a version of tidings that did not say in which run, so it may predate run " + run
	case !w.Says:
		return w.Where + " is a report written from Redis in run " + w.Run + " by a version of tidings that did not say which runs its run continued, so it may predate run " + run + " and lack what the recovery that staged it excluded"
	}
	return w.Where + " is a report written from Redis in run " + w.Run + ", whose staging did not continue run " + run + " (it read none of its journal files: it was staged before that run, or from other journals), so it lacks what the recovery that staged run " + run + " excluded"
}

// covers reports whether a file of Complete other than except stands for
// marked run (written.standsFor).
func (d *Delivered) covers(run, except string) bool {
	return d != nil && slices.ContainsFunc(d.written, func(w written) bool { return w.Path != except && w.standsFor(run) })
}

// uncovered returns the marked runs read that no file of Complete other
// than except stands for, and why each report given does not.
func (d *Delivered) uncovered(runs []string, except string) (missing, why []string) {
	if d == nil {
		return runs, nil
	}
	for _, run := range runs {
		if d.covers(run, except) {
			continue
		}
		missing = append(missing, run)
		for _, w := range d.written {
			if s := w.stale(run); w.Path != except && !slices.Contains(why, s) {
				why = append(why, s)
			}
		}
	}
	return missing, why
}

// continued returns the runs that the files of Complete read stand for
// (written.standsFor): a report written from Redis in a run, that run and
// the runs its run continued; the exclusions of recoveries, the runs they
// name. A staging excluding d excludes what those runs' recoveries
// excluded beyond the journals, so its run continues them
// (store.StageConfig.Continues): a full report written in it stands for
// them too.
func (d *Delivered) continued() []string {
	var runs []string
	for _, w := range d.written {
		rs := w.Runs
		if !w.Exclusions {
			rs = append([]string{w.Run}, w.Continues...)
		}
		for _, r := range rs {
			if r != "" && !slices.Contains(runs, r) {
				runs = append(runs, r)
			}
		}
	}
	return runs
}

// markedRuns returns the marked runs read (markRun); none of a nil
// Delivered.
func (d *Delivered) markedRuns() []string {
	if d == nil {
		return nil
	}
	return d.marked
}

// markRun notes run as read from the journals (a journal file's, or a
// report's written from them) when a recovery marked it
// (store.RunExcludedMark): its exclusions beyond the journals must be
// given too (*ExclusionsMissingError).
func (d *Delivered) markRun(run string) {
	if strings.HasSuffix(run, store.RunExcludedMark) && !slices.Contains(d.marked, run) {
		d.marked = append(d.marked, run)
	}
}

// Match reports whether the recipient with id and email is among the
// deliveries, and how (for the report). A nil Delivered matches nothing.
func (d *Delivered) Match(id, email string) (string, bool) {
	if d == nil {
		return "", false
	}
	if how, ok := d.byID[id]; ok {
		return how, true
	}
	if how, ok := d.byKey[address.KeyOf(email)]; ok && email != "" {
		return how, true
	}
	return "", false
}

// Exclude is plan.Input.Exclude: Match, except that a row whose id was
// delivered to another mailbox (and not to its own) is an error, an
// *IDDeliveredError: skipped as delivered, its address would never be
// mailed, and staged, the journals and report would name it with the
// other mailbox's delivery.
func (d *Delivered) Exclude(id, email string) (string, bool, error) {
	if d == nil {
		return "", false, nil
	}
	box := address.KeyOf(email) // once per row: this runs for every row staged
	byBox, delivered := d.byKey[box]
	delivered = delivered && email != ""
	if !delivered && id != "" && email != "" {
		if boxes := d.boxes[id]; len(boxes) > 0 && !slices.Contains(boxes, box) {
			return "", false, &IDDeliveredError{ID: id, Email: email, To: strings.Join(boxes, ", "), How: d.byID[id]}
		}
	}
	if how, ok := d.byID[id]; ok { // as Match: by id first
		return how, true, nil
	}
	return byBox, delivered, nil
}

// IDDeliveredError is a row whose id the deliveries record for other
// mailboxes (To) and not for the row's address.
type IDDeliveredError struct {
	ID, Email, To, How string
}

func (e *IDDeliveredError) Error() string {
	return fmt.Sprintf("id %q was delivered to %s (%s), not to %s: an id names one recipient, so this row would be skipped as delivered without a message of its own. "+
		"If %s is a new address of the same person, who has the message already, remove the row; otherwise give it an id of its own (or put back the address the id was delivered to)", e.ID, e.To, e.How, e.Email, e.Email)
}

// InJournals reports whether the journals read record the recipient with
// id and email as delivered, matched as Match does: a recovery from the
// journals alone would exclude them too.
func (d *Delivered) InJournals(id, email string) bool {
	return d != nil && (d.jID[id] && id != "" || email != "" && d.jKey[address.KeyOf(email)])
}

// ElsewhereOnly reports whether rejects (a plan's, excluding d) skip
// someone as already delivered on the strength of a report (or the
// exclusions of an earlier recovery) alone, whom no journal read records:
// a later recovery from the journals alone would mail them again.
func (d *Delivered) ElsewhereOnly(rejects []plan.Reject) bool {
	return slices.ContainsFunc(rejects, func(r plan.Reject) bool {
		return r.Outcome == plan.OutcomeSkipped && r.Code == plan.CodeAlreadyDelivered && !d.InJournals(r.ID, r.Email)
	})
}

// Len returns the number of distinct recipients delivered.
func (d *Delivered) Len() int { return d.Sent + d.InDoubt }

func (d *Delivered) add(id, email, outcome, source string) {
	how := outcome + " according to " + source
	key := address.KeyOf(email)
	if id != "" && email != "" && !slices.Contains(d.boxes[id], key) {
		d.boxes[id] = append(d.boxes[id], key)
	}
	prevID, seenID := d.byID[id]
	prevKey, seenKey := d.byKey[key]
	sent := func(how string) bool { return strings.HasPrefix(how, "sent") }
	switch {
	case !seenID && !seenKey && outcome == "sent":
		d.Sent++
	case !seenID && !seenKey:
		d.InDoubt++
	case outcome == "sent" && !sent(prevID) && !sent(prevKey):
		// Count a recipient once; "sent" wins over "in-doubt".
		d.InDoubt--
		d.Sent++
	default:
		// Counted already; still match this line's id and mailbox (the
		// same id may have been sent under another address), as what was
		// counted.
		counted := prevID
		if !seenID || (sent(prevKey) && !sent(prevID)) {
			counted = prevKey
		}
		if id != "" && !seenID {
			d.byID[id] = counted
		}
		if email != "" && !seenKey {
			d.byKey[key] = counted
		}
		return
	}
	if id != "" {
		d.byID[id] = how
	}
	if email != "" {
		d.byKey[key] = how
	}
}

// LoadDelivered reads the deliveries of campaign from paths: delivery
// journal directories or files (*.jsonl), and reports written by tidings
// report (CSV with a header, or JSON).
func LoadDelivered(campaign string, paths []string) (*Delivered, error) {
	return loadDelivered(campaign, paths, "", nil)
}

// loadDelivered is LoadDelivered, the exclusions file here (this
// machine's, "" for none) standing for hereRuns too: the runs its record
// names as staged here (LoadDeliveredFor).
func loadDelivered(campaign string, paths []string, here string, hereRuns []string) (*Delivered, error) {
	d := &Delivered{Campaign: campaign, byID: map[string]string{}, byKey: map[string]string{}, boxes: map[string][]string{},
		jID: map[string]bool{}, jKey: map[string]bool{}}
	runs := map[string]bool{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &journal.MissingError{Op: "read deliveries", Path: p, Give: "a delivery journal directory (a worker's journal.dir, or the directory you copied every worker's journal files into), a journal file, or a report saved before the loss"}
		}
		if err == nil && !fi.IsDir() {
			err = userfile.Regular(p, fi.Mode()) // a named pipe: refused, never waited on
		}
		if err != nil {
			return nil, fmt.Errorf("read deliveries: %w", err)
		}
		switch ext := strings.ToLower(filepath.Ext(p)); {
		case fi.IsDir() || ext == ".jsonl":
			files, err := journal.Files(p, campaign)
			if err != nil {
				return nil, err
			}
			if len(files) == 0 {
				return nil, &NoJournalError{report.NoJournalError{Campaign: campaign, Path: p}}
			}
			for _, f := range files {
				again, err := d.readAlready(f.Path)
				if err != nil {
					return nil, fmt.Errorf("read deliveries: %w", err)
				}
				if again {
					continue
				}
				d.markRun(f.Run)
				read, err := f.ReadName() // before reading: see UnknownRuns
				if err != nil {
					return nil, err
				}
				records, noEnv := 0, false
				err = journal.Read(f.Path, campaign, func(e journal.Entry) error {
					records++
					d.noteEnv(e.Env, envAt{path: f.Path})
					noEnv = noEnv || e.Env == ""
					if e.Delivered() {
						d.add(e.ID, e.Email, e.Outcome, "the delivery journal "+f.Path)
						d.jID[e.ID], d.jKey[address.KeyOf(e.Email)] = true, true
						runs[e.Run] = true
					}
					return nil
				})
				if errors.Is(err, journal.ErrTruncated) {
					d.Truncated = append(d.Truncated, f.Path)
				} else if err != nil {
					return nil, fmt.Errorf("read deliveries: %w", err)
				}
				if records == 0 {
					// Nothing of the campaign read: its claims given back
					// only (a file of another campaign's lines only is a
					// *journal.CampaignError of Read).
					counts, err := journal.Campaigns(f.Path)
					if err != nil {
						return nil, fmt.Errorf("read deliveries: %w", err)
					}
					records = counts[campaign]
				}
				if noEnv && records > 0 {
					d.NoEnv = append(d.NoEnv, f.Path)
				}
				d.Records += records
				d.Sources = append(d.Sources, f.Path)
				d.Journals = append(d.Journals, read)
			}
		case ext == ".csv" || ext == ".json":
			again, err := d.readAlready(p)
			if err != nil {
				return nil, fmt.Errorf("read deliveries: %w", err)
			}
			if again {
				continue
			}
			var kind string
			var w written
			if ext == ".csv" {
				kind, w, err = d.readCSV(p)
			} else {
				kind, w, err = d.readJSON(p)
			}
			if err != nil {
				return nil, err
			}
			if ext == ".csv" && w.Exclusions && here != "" && sameFile(p, here) {
				w.Runs = append(w.Runs, hereRuns...)
			}
			d.addReport(kind, w)
		default:
			return nil, fmt.Errorf("read deliveries: %s: want a journal directory or .jsonl file, or a report (.csv or .json)", p)
		}
	}
	if missing, stale := d.uncovered(d.marked, ""); len(missing) > 0 {
		return nil, &ExclusionsMissingError{Campaign: campaign, Runs: missing, Partial: append(slices.Clip(d.Partial), stale...)}
	}
	if d.Len() == 0 && d.Records == 0 {
		return nil, &NoRecordError{Campaign: campaign, Sources: d.Sources}
	}
	for r := range runs {
		d.Runs = append(d.Runs, r)
	}
	sort.Strings(d.Runs)
	return d, nil
}

// ExclusionsMissingError refuses journals of runs staged by a recovery
// that excluded deliveries recorded outside the journals (a report, or the
// exclusions of an earlier recovery: their ids end in
// store.RunExcludedMark) when no file that lists them is given (the
// exclusions, or a full report written from Redis): the journals do not
// hold those deliveries, so they would be mailed again. Partial says
// what each file given that cannot list them is.
type ExclusionsMissingError struct {
	Campaign string
	Runs     []string
	Partial  []string
	// Here is the exclusions file of this machine's recoveries, read by
	// itself, when it was read and does not list the Runs' (other
	// machines' recoveries marked them).
	Here string
}

func (e *ExclusionsMissingError) Error() string {
	partial := ""
	if len(e.Partial) > 0 {
		partial = "; " + strings.Join(e.Partial, "; ") + ": it cannot stand for them"
	}
	if e.Here != "" {
		partial += "; " + e.Here + ", the exclusions of the recoveries made on this machine, does not list theirs: the record here names no such run, another machine staged it (if you copied that machine's file here, give its path as well)"
	}
	return fmt.Sprintf("read deliveries: the journals hold run(s) %s of campaign %s, staged by a recovery that excluded recipients recorded outside the journals (in a report), whom no journal records as delivered: read alone, they would have those recipients mailed again%s; nothing was staged: give also the exclusions of that recovery, %s of the machine that staged it (<state dir>/campaigns/ there), or a full report of %s written from Redis (by tidings report, with no outcome filter) in that run or in a later run staged from its journals (a report written before that recovery lacks what it excluded)",
		strings.Join(e.Runs, ", "), e.Campaign, partial, filepath.Base(ExclusionsPath("", e.Campaign)), e.Campaign)
}

// reportKind tells a file of deliveries that lists every recipient a
// recovery excluded beyond the journals (a report written from Redis, or
// the exclusions of a recovery: ""), by the columns of its CSV header or
// the fields of its JSON, from one that does not, saying what it is.
func reportKind(path string, has func(name string) bool) string {
	all := func(cols []string) bool { // but campaign, run, continues and env, which reports before them lack
		return !slices.ContainsFunc(cols, func(c string) bool { return c != "campaign" && c != "run" && c != "continues" && c != "env" && !has(c) })
	}
	switch {
	case all(report.Columns) || all(exclusionsHeader), has("state") && has("audit") && !has("files"):
		return "" // a report from Redis (CSV, before its campaign column too; JSON), or the exclusions
	case has("run") && has("worker"), has("files"):
		return path + " is a report written from the delivery journals, which lacks what they lack"
	case has("reason") && has("field"):
		return path + " is a list of the rows one send or plan left out (rejects), not of every delivery"
	}
	return path + " is neither a report written from Redis nor the exclusions of a recovery"
}

// addReport records report w.Path as read, Complete or Partial as kind
// (a reportKind) says.
func (d *Delivered) addReport(kind string, w written) {
	d.Sources, d.Reports = append(d.Sources, w.Path), append(d.Reports, w.Path)
	if kind == "" {
		d.Complete, d.written = append(d.Complete, w.Path), append(d.written, w)
	} else {
		d.Partial = append(d.Partial, kind)
	}
}

// envAt is where a file read names an environment: a journal file (its
// line found when needed, journal.LineOf), or a report's line and its
// column or field (Field, e.g. `column "env"`); exclusions when that
// report is the exclusions of recoveries (ExclusionsPath), rejects when
// it is the rows a send or plan left out (plan.WriteRejectsCSV).
type envAt struct {
	path, field         string
	line                int
	exclusions, rejects bool
}

// noteEnv notes that a file holds a line or row of environment env ("":
// none), at at.
func (d *Delivered) noteEnv(env string, at envAt) {
	if env == "" {
		return
	}
	if d.envs == nil {
		d.envs = map[string]envAt{}
	}
	if _, ok := d.envs[env]; !ok {
		d.envs[env] = at
	}
}

// CheckEnv returns an *EnvError when a journal line or report read names
// another environment than env (nil d: none read). Lines and reports that
// name none (NoEnv) pass: WriteSummary says they could not be checked.
func (d *Delivered) CheckEnv(env string) error {
	if d == nil {
		return nil
	}
	for _, other := range slices.Sorted(maps.Keys(d.envs)) {
		if other != env {
			at := d.envs[other]
			e := &EnvError{Path: at.path, Line: at.line, Field: at.field, Report: at.field != "", Exclusions: at.exclusions, Rejects: at.rejects, Env: other, Want: env, Campaign: d.Campaign}
			if !e.Report {
				e.Field = `field "env"`
				e.Line = journal.LineOf(at.path, func(e journal.Entry) bool { return e.Env == other })
			}
			return e
		}
	}
	return nil
}

// EnvError refuses the delivery journal or report of another environment
// (Env, in Field of Path's line Line) given to a recovery of Campaign in
// Want: read as Want's, the recipients only mailed in Env would be
// excluded there and never mailed.
type EnvError struct {
	Path   string
	Line   int
	Field  string // `field "env"` (a journal's, a JSON report's), `column "env"` (a CSV report's)
	Report bool   // a report, not a journal
	// Exclusions: the report is the exclusions of recoveries made in Env
	// (ExclusionsPath), named or read by itself from a state_dir Env
	// shares.
	Exclusions bool
	// Rejects: the report is the rejects file of a send or plan in Env,
	// whose rows skipped as already delivered are read as deliveries.
	Rejects   bool
	Env, Want string
	Campaign  string
}

func (e *EnvError) Error() string {
	what, give := "a delivery journal", fmt.Sprintf("the journal directory of the workers of environment %s (journal.dir of environment %s, and the files copied from its other worker hosts)", e.Want, e.Want)
	switch {
	case e.Exclusions:
		what, give = "the exclusions of recoveries", fmt.Sprintf("the exclusions of the recoveries made in environment %s (%s in its state_dir's campaigns/) or the journal directory of its workers (journal.dir of environment %s); if this file is in the state_dir of environment %s (one state_dir for both environments), move it out of there and give each environment a state_dir of its own", e.Want, filepath.Base(ExclusionsPath("", e.Campaign)), e.Want, e.Want)
	case e.Rejects:
		what, give = "a rejects file (the rows a send or plan left out)", fmt.Sprintf("the rejects file of the send in environment %s, a report of environment %s (tidings report %s --env %s, saved before the loss) or the journal directory of its workers (journal.dir of environment %s)", e.Want, e.Want, e.Campaign, e.Want, e.Want)
	case e.Report:
		what, give = "a report", fmt.Sprintf("a report of environment %s (tidings report %s --env %s, saved before the loss) or the journal directory of its workers (journal.dir of environment %s)", e.Want, e.Campaign, e.Want, e.Want)
	}
	return fmt.Sprintf("read deliveries: %s:%d: %s: %q: %s of environment %s, not of environment %s, which this send stages in: "+
		"read as %s's, the recipients only mailed in %s would be excluded here and never mailed; nothing was staged. "+
		"Give %s, or, to recover the campaign in %s, run the send with --env %s",
		e.Path, e.Line, e.Field, e.Env, what, e.Env, e.Want, e.Want, e.Env, give, e.Env, e.Env)
}

// readFile is a file read for exclusion, by its path and what stat says
// of it.
type readFile struct {
	path string
	fi   os.FileInfo
}

// readAlready reports whether path names a file already read (the same
// device and inode, os.SameFile), and notes it in Again if so; else it
// notes path as read.
func (d *Delivered) readAlready(path string) (bool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	for _, r := range d.read {
		if os.SameFile(r.fi, fi) {
			if path != r.path {
				path += " (the same file as " + r.path + ")"
			}
			d.Again = append(d.Again, path)
			return true, nil
		}
	}
	d.read = append(d.read, readFile{path, fi})
	return false, nil
}

// NoJournalError refuses a journal directory given to exclude the
// deliveries of campaign that holds no journal file of it. It is never
// read as "nothing delivered": the operator may not have copied the
// worker hosts' journals yet, and everyone they record would be mailed
// twice. Either they are copied (Into), or the send says, with
// --none-delivered (Options.NoneDelivered), that no worker ever sent it.
type NoJournalError struct{ report.NoJournalError }

// Into is the directory to copy the worker hosts' journal files of the
// campaign into, for Path to hold them.
func (e *NoJournalError) Into() string {
	if filepath.Base(filepath.Clean(e.Path)) == e.Campaign {
		return filepath.Clean(e.Path)
	}
	return filepath.Join(e.Path, e.Campaign)
}

func (e *NoJournalError) Error() string {
	return fmt.Sprintf("read deliveries: %v; nothing was staged. "+
		"An empty journal is not taken as \"nobody was sent\": the worker hosts' journals may not be copied here yet, and everyone they record would be mailed twice. "+
		"If a worker ever sent it: copy the journal files of every worker host (<journal dir>/%s/ on each) into %s (mkdir -p it first if it does not exist), then run the same send again. "+
		"If no worker host has a <journal dir>/%s/ (no worker ever sent it): run the send with --none-delivered instead of --exclude-delivered",
		&e.NoJournalError, e.Campaign, e.Into(), e.Campaign)
}

// NoRecordError refuses files of deliveries that hold nothing of Campaign:
// no delivery, and no journal line or report row that names it (empty
// journal files, or a report without its campaign column that records no
// delivery). Nothing shows that they are the campaign's, so excluding what
// they record (nobody) could send its earlier deliveries again.
type NoRecordError struct {
	Campaign string
	Sources  []string
}

func (e *NoRecordError) Error() string {
	return fmt.Sprintf("read deliveries: %s record no delivery and no line of campaign %s: nothing shows they are its, and they would exclude nobody; nothing was staged: give the delivery journals of %s (<journal dir>/%s/ of every worker host) or a report of it that names its campaign",
		strings.Join(e.Sources, ", "), e.Campaign, e.Campaign, e.Campaign)
}

// readCSV reads the CSV report (or exclusions) path, and returns what it
// is (reportKind) and, should it list every delivery, what it stands for.
func (d *Delivered) readCSV(path string) (kind string, w written, err error) {
	w = written{Path: path, Where: path}
	f, err := os.Open(path)
	if err != nil {
		return "", w, fmt.Errorf("read deliveries: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if b, _ := br.Peek(len(bom)); string(b) == bom {
		_, _ = br.Discard(len(bom)) // a spreadsheet's "CSV UTF-8"
	}
	r := csv.NewReader(br)
	head, err := r.Read()
	if err != nil {
		return "", w, fmt.Errorf("read deliveries: %s: no header: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	oi, okO := col["outcome"]
	ii, okI := col["id"]
	ei, okE := col["email"]
	ci, okC := col["code"]
	ri, okR := col["response"]
	if !okR {
		ri, okR = col["reason"] // a plan's rejects file
	}
	gi, okG := col["campaign"] // reports before it lack it
	runI, okRun := col["run"]  // a report written from the journals
	contI, okCont := col["continues"]
	envI, okEnv := col["env"] // reports before it lack it
	_, okField := col["field"]
	_, okReason := col["reason"]
	rejects := okField && okReason // a plan's or send's rejects file (reportKind)
	noEnv := false
	if !okO || (!okI && !okE) {
		return "", w, fmt.Errorf("read deliveries: %s:1: want the columns outcome and id or email, as in a CSV report of the campaign", path)
	}
	if fi, ok := col[report.FilterColumn]; ok {
		filter := ""
		if rec, err := r.Read(); err == nil && fi < len(rec) {
			filter = rec[fi]
		}
		return "", w, &FilteredReportError{Path: path + ":1", Campaign: d.Campaign, Filter: filter}
	}
	kind = reportKind(path, func(name string) bool { _, ok := col[name]; return ok })
	w.Exclusions, w.Unnamed = isExclusions(head)
	w.Says = okCont
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			if noEnv {
				d.NoEnv = append(d.NoEnv, path)
			}
			return kind, w, nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return "", w, fmt.Errorf("read deliveries: %s:%d: %w", path, pe.StartLine, err)
		}
		if err != nil {
			return "", w, fmt.Errorf("read deliveries: %s: %w", path, err)
		}
		// The line of the file the row starts on: a quoted cell may span
		// lines (an SMTP reply of several), and blank lines are skipped.
		line, _ := r.FieldPos(0)
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue // a row a spreadsheet left with empty cells
		}
		get := func(i int, ok bool) string {
			if ok && i < len(rec) {
				return csvcell.Uncell(rec[i]) // as report.WriteCSV wrote it
			}
			return ""
		}
		// A row of a file written before it had the column names none
		// (an exclusions file's row a recovery kept from then, too).
		if env := strings.TrimSpace(get(envI, okEnv)); env != "" {
			d.noteEnv(env, envAt{path: path, line: line, field: `column "env"`, exclusions: w.Exclusions, rejects: rejects})
		} else {
			noEnv = true
		}
		switch c := strings.TrimSpace(get(gi, okG)); c {
		case d.Campaign:
			d.Records++
		case "":
		default:
			return "", w, fmt.Errorf("read deliveries: %s:%d: campaign: the row of campaign %s, not %s: give a report or journal of %s", path, line, c, d.Campaign, d.Campaign)
		}
		if strings.EqualFold(strings.TrimSpace(get(oi, true)), report.OutcomeUnknown) {
			// report.WriteCSV's row for a chunk Redis had lost: its
			// recipients' rows are missing.
			return "", w, &FilteredReportError{Path: fmt.Sprintf("%s:%d", path, line), Campaign: d.Campaign, Missing: "outcome " + report.OutcomeUnknown + ": Redis had lost a chunk of the campaign when it was written, and its recipients' rows are missing"}
		}
		switch run := strings.TrimSpace(get(runI, okRun)); {
		case w.Exclusions:
			for _, r := range strings.Fields(run) {
				if !slices.Contains(w.Runs, r) {
					w.Runs = append(w.Runs, r) // the runs it stands for
				}
			}
		case kind != "":
			d.markRun(run) // a report written from the journals
		case w.Run == "" && run != "":
			w.Run, w.Where = run, fmt.Sprintf("%s:%d", path, line) // the run it was written in
			w.Continues = strings.Fields(get(contI, okCont))
		}
		o, err := delivered(get(oi, true), get(ci, okC), get(ri, okR))
		if err != nil {
			return "", w, fmt.Errorf("read deliveries: %s:%d: outcome: %w", path, line, err)
		}
		if o != "" {
			d.add(get(ii, okI), get(ei, okE), o, path)
		}
	}
}

// isExclusions reports whether a CSV header is that of the exclusions of
// recoveries (exclusionsHeader), column for column (or that of an earlier
// version, without the env column), and unnamed when it is that of a
// version without the run column either: a report with a column deleted
// is not.
func isExclusions(head []string) (exclusions, unnamed bool) {
	h := make([]string, len(head))
	for i, c := range head {
		h[i] = strings.ToLower(strings.TrimSpace(c))
	}
	switch {
	case slices.Equal(h, exclusionsHeader), slices.Equal(h, exclusionsHeader[:exclusionsEnv]):
		return true, false
	case slices.Equal(h, exclusionsHeader[:exclusionsRun]):
		return true, true
	}
	return false, false
}

// bom is the byte order mark a spreadsheet writes at the start of a file it
// saves as UTF-8 text.
const bom = "\ufeff"

func (d *Delivered) readJSON(path string) (string, written, error) {
	w := written{Path: path, Where: path}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", w, fmt.Errorf("read deliveries: %w", err)
	}
	var rep struct {
		Campaign   string           `json:"campaign"`
		Env        string           `json:"env"` // reports before it lack it
		Run        string           `json:"run"` // a report written from Redis: the run it was written in
		Continues  *[]string        `json:"continues"`
		Counts     map[string]int64 `json:"counts"`
		Filter     string           `json:"filter"`
		LostChunks []int            `json:"lost_chunks"`
		// Present or not, they tell which report it is (reportKind).
		State      json.RawMessage `json:"state"`
		Audit      json.RawMessage `json:"audit"`
		Files      json.RawMessage `json:"files"`
		Runs       []string        `json:"runs"` // a report written from the journals: every run read
		Recipients []struct {
			ID       string `json:"id"`
			Email    string `json:"email"`
			Outcome  string `json:"outcome"`
			Code     string `json:"code"`
			Response string `json:"response"`
			Run      string `json:"run"`
		} `json:"recipients"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(b, []byte(bom)), &rep); err != nil {
		return "", w, fmt.Errorf("read deliveries: %s: not a JSON report of a campaign: %w", path, err)
	}
	if rep.Campaign != "" && rep.Campaign != d.Campaign {
		return "", w, fmt.Errorf("read deliveries: %s is the report of campaign %s, not %s", path, rep.Campaign, d.Campaign)
	}
	if rep.Filter != "" {
		return "", w, &FilteredReportError{Path: path, Campaign: d.Campaign, Filter: rep.Filter}
	}
	if len(rep.LostChunks) > 0 {
		return "", w, &FilteredReportError{Path: path, Campaign: d.Campaign, Missing: fmt.Sprintf("Redis had lost chunk(s) %v of the campaign when it was written: their recipients are in neither its rows nor its counts", rep.LostChunks)}
	}
	// Its counts are of every recipient (since they follow the rows, of
	// every row read): fewer rows of a delivery than they say is a report
	// that left some out (one written before it said so, or cut).
	rows := map[string]int64{}
	for _, r := range rep.Recipients {
		rows[strings.ToLower(strings.TrimSpace(r.Outcome))]++
	}
	// The outcomes of a delivery (delivered reads them), not
	// store.Outcomes: a report lacking rows of another outcome excludes
	// nobody wrongly.
	for _, o := range []string{store.OutcomeSent, store.OutcomeInDoubt, plan.OutcomeSkipped} {
		if rows[o] < rep.Counts[o] {
			return "", w, &FilteredReportError{Path: path, Campaign: d.Campaign, Missing: fmt.Sprintf("its counts say %d %s, its recipients hold %d", rep.Counts[o], o, rows[o])}
		}
	}
	if rep.Campaign == d.Campaign {
		d.Records += len(rep.Recipients)
	}
	if rep.Env != "" {
		d.noteEnv(rep.Env, envAt{path: path, line: keyLine(bytes.TrimPrefix(b, []byte(bom)), "env"), field: `field "env"`})
	} else if len(rep.Recipients) > 0 {
		d.NoEnv = append(d.NoEnv, path)
	}
	for _, run := range rep.Runs {
		d.markRun(run)
	}
	for i, r := range rep.Recipients {
		d.markRun(r.Run)
		o, err := delivered(r.Outcome, r.Code, r.Response)
		if err != nil {
			return "", w, fmt.Errorf("read deliveries: %s: recipients[%d] (id %q): outcome: %w", path, i, r.ID, err)
		}
		if o != "" {
			d.add(r.ID, r.Email, o, path)
		}
	}
	fields := map[string]bool{"state": rep.State != nil, "audit": rep.Audit != nil, "files": rep.Files != nil}
	w.Run = rep.Run
	if w.Says = rep.Continues != nil; w.Says {
		w.Continues = *rep.Continues
	}
	return reportKind(path, func(name string) bool { return fields[name] }), w, nil
}

// keyLine returns the line of b, a JSON object, on which its member key
// is named (0 when it is not).
func keyLine(b []byte, key string) int {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return 0
		}
		if t == key {
			return 1 + bytes.Count(b[:dec.InputOffset()], []byte("\n"))
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return 0
		}
	}
	return 0
}

// FilteredReportError refuses a report that lists some rows only (written
// with an outcome filter, its Filter, or holding fewer deliveries than its
// counts say, Missing): read as a full one, every delivery it leaves out
// would be mailed again.
type FilteredReportError struct {
	Path, Campaign string
	Filter         string // which rows it keeps, as the report says
	Missing        string // how its rows fall short of its counts
}

func (e *FilteredReportError) Error() string {
	what := "rows of " + e.Filter + " only"
	if e.Filter == "" {
		what = "some rows only"
	}
	if e.Missing != "" {
		what += " (" + e.Missing + ")"
	}
	return fmt.Sprintf("read deliveries: %s is a report that lists %s, not every recipient: read as the list of every delivery, the recipients it leaves out who were sent would be mailed again; nothing was staged: give the full report of %s saved before the loss (written without an outcome filter), or the delivery journals of %s (<journal dir>/%s/ of every worker host)",
		e.Path, what, e.Campaign, e.Campaign, e.Campaign)
}

// delivered returns how a report row counts among the deliveries: "sent"
// and "in-doubt" as they are, and a row an earlier recovery skipped as
// already delivered (its response says how) as delivered then; "" when the
// recipient cannot have received the message. Without the skipped rows, a
// second recovery from the report of the first would send them again.
// Outcome and code are read whatever their case and surrounding spaces (a
// report edited by hand); an outcome that is none of a report's is an
// error, since a delivery misread would be sent again.
func delivered(outcome, code, response string) (string, error) {
	o := strings.ToLower(strings.TrimSpace(outcome))
	code = strings.ToLower(strings.TrimSpace(code))
	response = strings.ToLower(strings.TrimSpace(response))
	switch {
	case o == store.OutcomeSent || o == store.OutcomeInDoubt:
		return o, nil
	case o == plan.OutcomeSkipped && code == plan.CodeAlreadyDelivered && strings.HasPrefix(response, store.OutcomeInDoubt):
		return store.OutcomeInDoubt, nil
	case o == plan.OutcomeSkipped && code == plan.CodeAlreadyDelivered:
		return store.OutcomeSent, nil
	case slices.Contains(store.Outcomes, o) || o == string(store.KindTemp): // a journal's word for pending
		return "", nil
	}
	return "", &OutcomeError{Outcome: outcome}
}

// OutcomeError says that a report row's outcome is none of a report's
// (store.Outcomes).
type OutcomeError struct{ Outcome string }

func (e *OutcomeError) Error() string {
	return fmt.Sprintf("%q is not an outcome: want one of %s (in any case); fix the row, or give the report as it was written", e.Outcome, strings.Join(store.Outcomes, ", "))
}

// WriteSummary says what was read for exclusion: how many recipients are
// excluded and from what, including those earlier recoveries on this
// machine excluded, or that the files hold no delivery at all.
func (d *Delivered) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "Excluding %d recipients already delivered (%d sent, %d in doubt) according to %d file(s)", d.Len(), d.Sent, d.InDoubt, len(d.Sources))
	if len(d.Runs) > 0 {
		fmt.Fprintf(w, " of run(s) %s", strings.Join(d.Runs, ", "))
	}
	fmt.Fprintln(w, ".")
	if len(d.NoEnv) > 0 {
		fmt.Fprintf(w, "%d file(s) record no environment (written by a tidings that did not record it), so this send cannot check that they are this environment's: %s; make sure they are (a staging journal or report read here would leave out recipients only mailed in staging).\n",
			len(d.NoEnv), strings.Join(d.NoEnv, ", "))
	}
	if len(d.Again) > 0 {
		fmt.Fprintf(w, "%d path(s) named a file already read (given twice, a directory and a file in it, or a symbolic link), counted once: %s.\n", len(d.Again), strings.Join(d.Again, ", "))
	}
	if d.Earlier > 0 {
		fmt.Fprintf(w, "They include the %d recipients that earlier recoveries of %q made here excluded, as listed in %s.\n", d.Earlier, d.Campaign, d.EarlierFile)
	}
	if d.Len() == 0 {
		fmt.Fprintf(w, "They hold %d record(s) of %q and no delivery (sent or in doubt): nobody is excluded. Make sure you gave every worker host's journal.\n", d.Records, d.Campaign)
	}
}
