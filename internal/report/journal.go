package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/address"
	"github.com/tidings-mail/tidings/internal/csvcell"
	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/store"
)

// JournalColumns is the CSV header row of a report read from delivery
// journals: what a journal records of each recipient (no row line, locale,
// response or batch: those live in Redis). Its id, email and outcome columns
// are those of Columns, so --exclude-delivered reads either; its env is
// the environment the journal lines name (Journal.Env), as Columns' is.
var JournalColumns = []string{"id", "email", "lang", "outcome", "code", "at", "attempts", "run", "worker", "campaign", "env"}

// JournalRow is one recipient as the delivery journals record it.
type JournalRow struct {
	ID       string    `json:"id"`
	Email    string    `json:"email"`
	Lang     string    `json:"lang,omitempty"`
	Outcome  string    `json:"outcome"` // sent, in-doubt, failed, refused, invalid, skipped, cancelled, or pending (failed temporarily, to be retried)
	Code     string    `json:"code,omitempty"`
	At       time.Time `json:"at"`
	Attempts int       `json:"attempts"` // journal lines of this recipient (but those amending another: journal.Entry.Amends)
	Run      string    `json:"run"`
	Worker   string    `json:"worker,omitempty"`
}

// Journal is what the delivery journals of one campaign record: every
// recipient with an outcome, in the order of their first line.
type Journal struct {
	Campaign string `json:"campaign"`
	// Env is the environment the journal lines read name (ReadJournals
	// refuses lines of two: *EnvsError); "" when none names one (lines
	// written before tidings recorded it).
	Env    string           `json:"env"`
	Files  []string         `json:"files"`
	Runs   []string         `json:"runs"`
	Counts map[string]int64 `json:"counts"`
	Rows   []*JournalRow    `json:"recipients"`
	// Truncated lists files whose last line was incomplete (their worker
	// died while writing it); every complete line was read.
	Truncated []string `json:"truncated,omitempty"`
	// Filter says which rows a report written with some outcomes only
	// keeps (FilterColumn).
	Filter string `json:"filter,omitempty"`
}

// rank orders outcomes for one recipient with several lines: a delivery
// (sent, then in-doubt) wins over anything else, whatever came later; among
// the rest the latest line wins.
func rank(outcome string) int {
	switch outcome {
	case store.OutcomeSent:
		return 2
	case store.OutcomeInDoubt:
		return 1
	}
	return 0
}

// journalOutcome maps a journal line's outcome to a report outcome: a
// temporary failure journaled as temp is retried later, so the recipient
// is still pending (a worker journals one on its last attempt as failed,
// as the ledger records it; an older worker wrote temp for it too).
func journalOutcome(o string) string {
	if o == "temp" {
		return store.OutcomePending
	}
	return o
}

// rows finds the row of a journal line's recipient: a recipient is their
// mailbox (address.KeyOf), whatever id each run gave them, so lines of one
// mailbox under several ids are one row. A line without an address (a last
// line cut after its id) goes by its id: to the row that id last named.
type rows struct {
	j     *Journal
	byBox map[string]*JournalRow // mailbox key -> row
	byID  map[string]*JournalRow // id -> the row it last named
}

func (x *rows) of(e journal.Entry) *JournalRow {
	var r *JournalRow
	box := ""
	if e.Email != "" {
		box = address.KeyOf(e.Email)
		r = x.byBox[box]
	}
	if r == nil && e.ID != "" {
		if byID := x.byID[e.ID]; byID != nil && (box == "" || byID.Email == "") {
			r = byID // the id's row, unless it is another mailbox's
		}
	}
	if r == nil {
		r = &JournalRow{ID: e.ID, Email: e.Email}
		x.j.Rows = append(x.j.Rows, r)
	}
	if box != "" {
		x.byBox[box] = r
	}
	if e.ID != "" {
		x.byID[e.ID] = r
	}
	return r
}

// ReadJournal reads the delivery journals of campaign under path (a
// journal directory, one campaign's directory, or one .jsonl file) into
// one row per recipient (per mailbox: lines of one address under ids that
// changed between runs are one row, with the id of the line that decides
// its outcome). It needs no Redis: it is the report of a campaign whose
// Redis state was lost. Recipients the journals never mention (not yet
// attempted) are not in it.
func ReadJournal(path, campaign string) (*Journal, error) {
	return ReadJournals([]string{path}, campaign)
}

// ReadJournals is ReadJournal of several paths (each machine's journal
// directory, say), read as one: a file reached by two of them is read
// once, and a line found in two files (a file copied to another
// directory, which is given too) counts once. Each path must hold a
// journal of the campaign (NoJournalError).
func ReadJournals(paths []string, campaign string) (*Journal, error) {
	var files []journal.File
	for _, path := range paths {
		found, err := journal.Files(path, campaign)
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, &NoJournalError{Path: path, Campaign: campaign}
		}
		files = append(files, found...)
	}
	j := &Journal{Campaign: campaign, Counts: map[string]int64{}}
	x := &rows{j: j, byBox: map[string]*JournalRow{}, byID: map[string]*JournalRow{}}
	runs := map[string]bool{}
	seen := map[lineKey]bool{}  // every line read, to count a copy's once
	envs := map[string]string{} // the environments lines name -> a file of each
	var read []os.FileInfo
	for _, f := range files {
		if fi, err := os.Stat(f.Path); err == nil {
			if slices.ContainsFunc(read, func(o os.FileInfo) bool { return os.SameFile(o, fi) }) {
				continue // reached by two paths
			}
			read = append(read, fi)
		}
		j.Files = append(j.Files, f.Path)
		// Its run, from its name, even when it holds no entry: a recovery
		// leaves an empty file of a run it marked (journal.Touch), which a
		// recovery from this report must see as from the journals.
		if f.Run != "" {
			runs[f.Run] = true
		}
		err := journal.Read(f.Path, campaign, func(e journal.Entry) error {
			runs[e.Run] = true
			if _, ok := envs[e.Env]; !ok && e.Env != "" {
				envs[e.Env] = f.Path
			}
			k := keyOf(e, f.Worker)
			if seen[k] {
				return nil // the same line in a copy of the file
			}
			seen[k] = true
			if e.Worker == "" {
				e.Worker = f.Worker // from the file's name
			}
			r := x.of(e)
			if r.Email == "" {
				r.Email = e.Email // a cut line may have named only the id
			}
			if !e.Amends {
				r.Attempts++
			}
			out := journalOutcome(e.Outcome)
			if r.Outcome == "" || rank(out) > rank(r.Outcome) || (rank(out) == rank(r.Outcome) && !e.At.Before(r.At)) {
				r.Lang, r.Outcome, r.Code, r.At, r.Run, r.Worker = e.Lang, out, e.Code, e.At, e.Run, e.Worker
				if e.ID != "" {
					r.ID = e.ID // the id of the line that decides, as its run named them
				}
				if e.Email != "" {
					r.Email = e.Email
				}
			}
			return nil
		})
		switch {
		case errors.Is(err, journal.ErrTruncated):
			j.Truncated = append(j.Truncated, f.Path)
		case err != nil:
			return nil, err
		}
	}
	if len(envs) > 1 {
		e := &EnvsError{Envs: slices.Sorted(maps.Keys(envs))}
		for _, env := range e.Envs {
			line := journal.LineOf(envs[env], func(l journal.Entry) bool { return l.Env == env })
			e.Files = append(e.Files, fmt.Sprintf("%s:%d", envs[env], line))
		}
		return nil, e
	}
	for env := range envs {
		j.Env = env // the only one
	}
	for r := range runs {
		j.Runs = append(j.Runs, r)
	}
	slices.Sort(j.Runs)
	for _, r := range j.Rows {
		j.Counts[r.Outcome]++
	}
	return j, nil
}

// lineKey is what makes a journal line one event: two lines equal in all
// of it are one line read from two copies of a file.
type lineKey struct {
	e  journal.Entry
	at int64
}

// keyOf is e's lineKey, its worker from the file's name when the line
// names none.
func keyOf(e journal.Entry, worker string) lineKey {
	at := e.At.UnixNano()
	e.At = time.Time{}
	if e.Worker == "" {
		e.Worker = worker
	}
	return lineKey{e, at}
}

// EnvsError refuses journals of two environments read as one campaign's
// (report --journal given production's and staging's directories): a
// recovery from such a report would leave out, in one environment, the
// recipients mailed only in the other. Files holds a file of each
// environment (Envs, sorted), with the line of it that names it.
type EnvsError struct {
	Envs  []string
	Files []string // "<file>:<line>"
}

func (e *EnvsError) Error() string {
	var each []string
	for i, env := range e.Envs {
		each = append(each, fmt.Sprintf("%s: field \"env\": %q", e.Files[i], env))
	}
	return fmt.Sprintf("read journal: the journals given record %d environments (%s): read as one, a recovery from this report would leave out, in one environment, the recipients mailed only in the other; give the journal directories of one environment only (journal.dir of its workers)",
		len(e.Envs), strings.Join(each, "; "))
}

// NoJournalError says that a path holds no delivery journal of a campaign.
type NoJournalError struct{ Path, Campaign string }

// Error says what went wrong.
func (e *NoJournalError) Error() string {
	return fmt.Sprintf("%s holds no delivery journal of campaign %s", e.Path, e.Campaign)
}

// Summary says what the journals j was read from hold: the files and runs
// read, and how many recipients, sent and in doubt (report --journal
// writes it beside the report); of the in doubt, those claimed with no
// outcome line (journal.ClaimedCode) may be a running worker's window in
// flight, not a worker that died: it says so, and how to tell.
func Summary(j *Journal) string {
	s := fmt.Sprintf("read %d journal file(s) of run(s) %s: %d recipients (sent %d, in-doubt %d)\n",
		len(j.Files), strings.Join(j.Runs, ", "), len(j.Rows), j.Counts[store.OutcomeSent], j.Counts[store.OutcomeInDoubt])
	n := 0
	for _, r := range j.Rows {
		if r.Outcome == store.OutcomeInDoubt && r.Code == journal.ClaimedCode {
			n++
		}
	}
	if n > 0 {
		s += fmt.Sprintf("  %d of the in-doubt are %s: a worker claimed them and has journaled no outcome for them yet. "+
			"While the campaign runs they may still be in flight, their outcomes about to be written: read the journals again once it is done or paused (status says which). "+
			"Any still %[2]s then were claimed by a worker that stopped before their outcomes were written: check the SMTP server's log before you send any of them by hand.\n", n, journal.ClaimedCode)
	}
	return s
}

// WriteJournal writes j in o.Format (CSV by default; JSON is one object:
// campaign, env, files, runs, counts, filter, recipients), keeping o.Outcomes
// only when given (and saying so: FilterColumn).
func WriteJournal(j *Journal, w io.Writer, o Options) error {
	keep := func(r *JournalRow) bool { return len(o.Outcomes) == 0 || slices.Contains(o.Outcomes, r.Outcome) }
	bw := bufio.NewWriterSize(w, 1<<16)
	switch o.Format {
	case FormatCSV, "":
		cw := csv.NewWriter(bw)
		filter := Filter(o.Outcomes)
		_ = cw.Write(withFilter(JournalColumns, FilterColumn, filter))
		for _, r := range j.Rows {
			if keep(r) {
				_ = cw.Write(withFilter([]string{csvcell.Cell(r.ID), csvcell.Cell(r.Email), r.Lang, r.Outcome, r.Code, r.At.UTC().Format(time.RFC3339Nano), strconv.Itoa(r.Attempts), r.Run, r.Worker, j.Campaign, j.Env}, filter, filter))
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	case FormatJSON:
		out := *j
		out.Filter = Filter(o.Outcomes)
		out.Rows = slices.DeleteFunc(slices.Clone(j.Rows), func(r *JournalRow) bool { return !keep(r) })
		if err := json.NewEncoder(bw).Encode(out); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	default:
		return &FormatError{Format: o.Format}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
