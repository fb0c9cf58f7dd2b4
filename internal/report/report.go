// Package report writes every recipient's outcome of a staged campaign, as
// CSV or JSON, streaming from the store so that a million rows need no
// memory. `tidings report` and the rehearsal write it.
//
// CSV columns (Columns): line, id, email, locale (as requested), lang (the
// matched catalog language), outcome, code (SMTP code or refusal code),
// response (SMTP response or reason), at (RFC 3339, UTC), attempts, batch
// (-1 for rows rejected before staging), campaign (so that a report given to
// send --exclude-delivered is known to be this campaign's), run (the run
// the campaign was in when the report was written: a recovery knows
// whether it lists what the recovery that staged a run excluded),
// continues, env (the campaign's environment: send --exclude-delivered
// refuses a report of another) and, in a report that keeps some rows only, filter (FilterColumn: which rows, on
// every row), so that it is never taken for a list of every recipient.
// When Redis lost chunks of the campaign, one row per lost chunk comes
// last (OutcomeUnknown, CodeLostChunk), since their recipients' rows are
// missing.
//
// JSON is one object: campaign, env, run, continues, state, audit (every control action with
// who, where, when and why), filter (only in a report that keeps some rows
// only), recipients (one object per row, the fields of store.Row) and,
// after them, counts (every outcome: the tally of every row read, kept by
// the filter or not, so that it agrees with the rows while a campaign
// runs) and, when Redis lost chunks of the campaign, lost_chunks (their
// numbers: their rows are in neither).
package report

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/csvcell"
	"github.com/tidings-mail/tidings/internal/store"
)

// Formats of a report.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// Columns is the CSV header row. Every row's run is the run the report
// was written in, continues the earlier runs that run's staging
// continued (store.Meta.ContinuedRuns, space-separated), and env the
// campaign's environment (store.Meta.Env).
var Columns = []string{"line", "id", "email", "locale", "lang", "outcome", "code", "response", "at", "attempts", "batch", "campaign", "run", "continues", "env"}

// OutcomeUnknown and CodeLostChunk are the outcome and code of the row a
// CSV report writes, after every other, for each chunk Redis lost: its
// recipients' rows are missing, and who among them was sent is known only
// to the delivery journals. It is no recipient's outcome (store.Outcomes).
const (
	OutcomeUnknown = "unknown"
	CodeLostChunk  = "lost-chunk"
)

// FilterColumn is the column (CSV) and field (JSON) a report that keeps
// some rows only has, saying which (Filter): read as a full report, it
// would say that the rows it leaves out, who was sent among them, were
// never delivered.
const FilterColumn = "filter"

// Filter describes outcomes kept, as FilterColumn says it ("" for none:
// every row).
func Filter(outcomes []string) string {
	if len(outcomes) == 0 {
		return ""
	}
	return "outcome=" + strings.Join(outcomes, ",")
}

// FormatError says that a format is neither csv nor json.
type FormatError struct{ Format string }

// Error says what went wrong.
func (e *FormatError) Error() string {
	return fmt.Sprintf("report format %q: not csv or json", e.Format)
}

// OutcomeError says that a filter names something that is not an outcome
// (store.Outcomes lists them).
type OutcomeError struct{ Outcome string }

// Error says what went wrong.
func (e *OutcomeError) Error() string { return fmt.Sprintf("%q is not an outcome", e.Outcome) }

// Options say what to write.
type Options struct {
	// Format is FormatCSV (the default when empty) or FormatJSON.
	Format string
	// Outcomes, when not empty, keeps only the rows with these outcomes.
	Outcomes []string
}

// ParseOutcomes splits a comma-separated list of outcomes ("failed,
// in-doubt"), ignoring spaces and empty items; an unknown outcome is an
// *OutcomeError.
func ParseOutcomes(list string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(list, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if !slices.Contains(store.Outcomes, o) {
			return nil, &OutcomeError{Outcome: o}
		}
		out = append(out, o)
	}
	return out, nil
}

// Write writes the report of campaign c in o.Format to w.
func Write(ctx context.Context, s *store.Store, c string, w io.Writer, o Options) error {
	keep := func(r store.Row) bool { return len(o.Outcomes) == 0 || slices.Contains(o.Outcomes, r.Outcome) }
	bw := bufio.NewWriterSize(w, 1<<16)
	var err error
	switch o.Format {
	case FormatCSV, "":
		err = WriteCSV(ctx, s, c, bw, keep, Filter(o.Outcomes))
	case FormatJSON:
		err = writeJSON(ctx, s, c, bw, keep, Filter(o.Outcomes))
	default:
		return &FormatError{Format: o.Format}
	}
	if errors.As(err, new(*store.NotFoundError)) {
		return metaLost(ctx, s, c, err)
	}
	if err != nil && !lostChunks(err) {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if lostChunks(err) {
		how := "a row of outcome " + OutcomeUnknown + ", code " + CodeLostChunk + ", for each, after the others"
		if o.Format == FormatJSON {
			how = "lost_chunks"
		}
		return fmt.Errorf("%w; the report lacks their recipients' rows, and says so (%s)", err, how)
	}
	return err
}

// metaLost is err (Meta's *NotFoundError of campaign c) or, when Redis
// lost c's meta while its control stayed (store.Status's MetaLost), what
// that means and where who was sent is recorded: a report cannot be read
// from Redis without its meta, the workers' delivery journals have it.
func metaLost(ctx context.Context, s *store.Store, c string, err error) error {
	if st, serr := s.Status(ctx, c); serr != nil || !st.MetaLost {
		return err
	}
	return fmt.Errorf("report %s: Redis lost this campaign's meta (part of its state: an eviction, a DEL), so its report cannot be read from Redis; who was sent is in the workers' delivery journals: tidings report %s --journal JOURNAL_DIR (tidings status %s says how to send to those not sent yet, and to nobody twice)", c, c, c)
}

// lostChunks reports whether err says that Redis lost chunks of the
// campaign: the report still holds every other row, complete and valid,
// and the error comes after it.
func lostChunks(err error) bool {
	var lost *store.LostChunksError
	return errors.As(err, &lost)
}

// WriteCSV writes the rows of campaign c that keep accepts (every row when
// keep is nil) as CSV, header first, to w; filter says which rows keep
// accepts (FilterColumn; "" when it accepts every row). Text that came from outside (id,
// email, locale, response) goes through csvcell.Cell, so that no cell
// opens as a formula in a spreadsheet; launch reads such a file back
// through csvcell.Uncell. Nothing is written for a campaign that cannot
// be read (not even the header, which would look like an empty report).
func WriteCSV(ctx context.Context, s *store.Store, c string, w io.Writer, keep func(store.Row) bool, filter string) error {
	meta, err := s.Meta(ctx, c, false) // its run
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	continues := strings.Join(meta.ContinuedRuns(), " ")
	wrote := false
	header := func() {
		if !wrote {
			wrote = true
			_ = cw.Write(withFilter(Columns, FilterColumn, filter))
		}
	}
	err = s.Report(ctx, c, func(r store.Row) error {
		header()
		if keep != nil && !keep(r) {
			return nil
		}
		at := ""
		if !r.At.IsZero() {
			at = r.At.UTC().Format(time.RFC3339Nano)
		}
		return cw.Write(withFilter([]string{strconv.Itoa(r.Line), csvcell.Cell(r.ID), csvcell.Cell(r.Email), csvcell.Cell(r.Locale), r.Lang, r.Outcome, r.Code, csvcell.Cell(r.Response), at, strconv.Itoa(r.Attempts), strconv.Itoa(r.Batch), c, meta.Run, continues, meta.Env}, filter, filter))
	})
	if err != nil && !lostChunks(err) {
		cw.Flush()
		return err
	}
	header() // a campaign with no row at all
	// Rows Redis lost are missing: a row for each lost chunk says so
	// (filtered or not), so that the file is never read as the list of
	// every recipient (launch refuses it).
	if lost := (*store.LostChunksError)(nil); errors.As(err, &lost) {
		for _, n := range lost.Chunks {
			why := fmt.Sprintf("Redis lost chunk %d of campaign %s when this report was written: its recipients' rows are missing, and who among them was sent is unknown here; the workers' delivery journals record it (tidings report %s --journal JOURNAL_DIR)", n, c, c)
			_ = cw.Write(withFilter([]string{"", "", "", "", "", OutcomeUnknown, CodeLostChunk, why, "", "", "", c, meta.Run, continues, meta.Env}, filter, filter))
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return err
}

// withFilter appends cell to the row of a report that keeps some rows
// only (filter not "").
func withFilter(row []string, cell, filter string) []string {
	if filter == "" {
		return row
	}
	return append(slices.Clip(row), cell)
}

// writeJSON writes the JSON report: the head (campaign, env, run,
// continues, state, audit, filter) read with the status, then the rows as they stream, then counts,
// the tally of every row streamed (kept or not), so that the counts and the
// rows describe the same reads even while workers record outcomes; the
// status's counts, read before the rows, would lag them.
func writeJSON(ctx context.Context, s *store.Store, c string, w *bufio.Writer, keep func(store.Row) bool, filter string) error {
	st, err := s.Status(ctx, c)
	if err != nil {
		return err
	}
	meta, err := s.Meta(ctx, c, false) // its run
	if err != nil {
		return err
	}
	head, err := json.Marshal(struct {
		Campaign  string             `json:"campaign"`
		Env       string             `json:"env"`
		Run       string             `json:"run"`
		Continues []string           `json:"continues"`
		State     store.State        `json:"state"`
		Audit     []store.AuditEntry `json:"audit"`
		Filter    string             `json:"filter,omitempty"`
	}{c, meta.Env, meta.Run, meta.ContinuedRuns(), st.State, st.Audit, filter})
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	counts := make(map[string]int64, len(store.Outcomes))
	for _, o := range store.Outcomes {
		counts[o] = 0 // every outcome is listed, 0 or not
	}
	// Stream the recipients: the counts and the closing brace come after
	// them.
	w.Write(head[:len(head)-1])
	w.WriteString(`,"recipients":[`)
	first := true
	err = s.Report(ctx, c, func(r store.Row) error {
		counts[r.Outcome]++
		if !keep(r) {
			return nil
		}
		if !first {
			w.WriteByte(',')
		}
		first = false
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil && !lostChunks(err) {
		return err
	}
	tail, merr := json.Marshal(counts)
	if merr != nil {
		return fmt.Errorf("write report: %w", merr)
	}
	w.WriteString(`],"counts":`)
	w.Write(tail)
	// Rows Redis lost are in neither: say which chunks, so that the report
	// is never read as the list of every recipient (launch refuses it).
	if lost := (*store.LostChunksError)(nil); errors.As(err, &lost) {
		b, _ := json.Marshal(lost.Chunks)
		w.WriteString(`,"lost_chunks":`)
		w.Write(b)
	}
	w.WriteString("}\n")
	return err
}
