package plan

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tidings-mail/tidings/internal/csvcell"
	"github.com/tidings-mail/tidings/internal/recipient"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/userfile"
)

// RejectsHeader is the header row of WriteRejectsCSV. Files written
// before its env column lack it, and those before its campaign column
// both.
var RejectsHeader = []string{"line", "id", "email", "locale", "outcome", "code", "field", "reason", "campaign", "env"}

// rejectsCampaign is the index of RejectsHeader's campaign column.
const rejectsCampaign = 8

// WriteRejectsCSV writes every refused, invalid and skipped row as CSV
// with the header line,id,email,locale,outcome,code,field,reason,campaign,env
// (so that send --exclude-delivered, which reads the rows skipped as
// already delivered, knows whose they are and of which environment: env
// is the Environment planned for: plan without --env plans for the
// campaign's own, so only a Summary planned with none has it empty); text
// from the file is defused against spreadsheet formulas (csvcell.Cell).
func (s *Summary) WriteRejectsCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(RejectsHeader); err != nil {
		return fmt.Errorf("write rejects: %w", err)
	}
	rec := make([]string, len(RejectsHeader))
	for _, r := range s.Rejects {
		rec[0], rec[1], rec[2], rec[3] = strconv.Itoa(r.Line), csvcell.Cell(r.ID), csvcell.Cell(r.Email), csvcell.Cell(r.Locale)
		rec[4], rec[5], rec[6], rec[7], rec[8], rec[9] = r.Outcome, r.Code, csvcell.Cell(r.Field), csvcell.Cell(r.Reason), s.Campaign, s.Environment
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write rejects: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write rejects: %w", err)
	}
	return nil
}

// RejectsUsage is the help of the option that gives WriteRejectsFile its
// path, in the words of every command that takes it (plan and send): what
// WriteRejectsFile does, with rows not sent and with none.
const RejectsUsage = "write every refused and invalid row to this CSV file (default CAMPAIGN-NAME.rejects.csv in the current directory); with none, write nothing and remove this campaign's rejects file an earlier plan or send in this environment left there (another environment's is kept, and never written over: give each environment its own path)"

// WriteRejectsFile writes every row not sent (WriteRejectsCSV) to the file
// path, CAMPAIGN-NAME.rejects.csv when path is empty, and returns its path.
// With no such row it writes nothing and returns "", and removes a rejects
// file an earlier plan of the campaign in the same environment left at
// path (its rows are no longer true); one of another environment, or
// written before the env column, is kept (its rows are not this plan's to
// call untrue: a directory or path both environments use) and KeptNote
// says so. With rows to write, it refuses to replace the campaign's rejects
// file of another environment at path (its rows would be lost). Errors of
// the file are *userfile.Error naming path.
func (s *Summary) WriteRejectsFile(ctx context.Context, path string) (string, error) {
	if path == "" {
		path = s.Campaign + ".rejects.csv"
	}
	s.kept = ""
	if len(s.Rejects) == 0 {
		old, err := userfile.Read(path) // only a regular file can be an earlier rejects file: Read refuses the others, never waiting on a pipe
		if err != nil {
			return "", nil
		}
		switch ours, line, env := rejectsOf(old, s.Campaign, s.Environment); {
		case ours:
			if err := os.Remove(path); err != nil {
				return "", userfile.Explain(path, true, err)
			}
		case line > 0 && env == "":
			s.kept = fmt.Sprintf("The earlier rejects file of campaign %s at %s was kept: it records no environment (written before tidings recorded it), so nothing here says it is environment %s's; remove it if it is, since with no row left out here its rows are no longer true.", s.Campaign, path, s.Environment)
		case line > 0:
			s.kept = fmt.Sprintf("The earlier rejects file of campaign %s at %s was kept: %s:%d: column \"env\": %q: its rows are of environment %s, not of environment %s, where no row was left out this time, which says nothing of them; give each environment a --rejects path of its own.", s.Campaign, path, path, line, env, env, s.Environment)
		}
		return "", nil
	}
	if old, err := userfile.Read(path); err == nil {
		if _, line, env := rejectsOf(old, s.Campaign, s.Environment); line > 0 && env != "" {
			return "", fmt.Errorf("%s:%d: column \"env\": %q: this is the rejects file of campaign %s in environment %s, which environment %s would replace, losing its account of the rows left out there; nothing was written or staged: give --rejects another path (e.g. --rejects %s.%s.rejects.csv), or move that file away first",
				path, line, env, s.Campaign, env, s.Environment, s.Campaign, s.Environment)
		}
	}
	if err := notAnotherFile(path); err != nil {
		return "", err
	}
	f, err := userfile.Create(ctx, path)
	if err != nil {
		return "", err
	}
	err = s.WriteRejectsCSV(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", userfile.Explain(path, true, err)
	}
	return path, nil
}

// notAnotherFile refuses to write a rejects file over path when path is a
// regular file holding something else than a rejects file (of any
// campaign, or of an earlier version, without the campaign column): the
// recipients file, the campaign file or a report given to --rejects by
// mistake would be replaced by the rejected rows.
func notAnotherFile(path string) error {
	return userfile.Replaceable(path, path, "a rejects file", "rejects", strings.Join(RejectsHeader[:rejectsCampaign], ","))
}

// rejectsOf reports whether b is a rejects file (WriteRejectsCSV) every row
// of which is campaign's in environment env: only such a file is an
// earlier plan's of the campaign there, which a plan with no rejected row
// removes. Another campaign's at the same path (one --rejects file for a
// night's campaigns) is not; nor is one of the campaign's rows of which
// are of another environment, or of none (written before the env column):
// line is then the first such row's line, and other its environment ("":
// none).
func rejectsOf(b []byte, campaign, env string) (ours bool, line int, other string) {
	n := len(RejectsHeader)
	if !bytes.HasPrefix(b, []byte(strings.Join(RejectsHeader, ",")+"\n")) {
		n-- // one written before the env column
		if !bytes.HasPrefix(b, []byte(strings.Join(RejectsHeader[:n], ",")+"\n")) {
			return false, 0, ""
		}
	}
	r := csv.NewReader(bytes.NewReader(b))
	if _, err := r.Read(); err != nil { // the header
		return false, 0, ""
	}
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil || len(row) != n || csvcell.Uncell(row[rejectsCampaign]) != campaign {
			return false, 0, ""
		}
		e := "" // none before the env column
		if n == len(RejectsHeader) {
			e = csvcell.Uncell(row[rejectsCampaign+1])
		}
		if e != env && line == 0 {
			line, _ = r.FieldPos(0) // its line in the file
			other = e
		}
	}
	return line == 0, line, other
}

// KeptNote says why WriteRejectsFile, with no row to write, kept the
// campaign's earlier rejects file at its path (another environment's, or
// one that records none); "" when it kept none.
func (s *Summary) KeptNote() string { return s.kept }

// RejectsLine says that the rows not sent (refused, invalid, skipped as
// delivered), which WriteRejectsFile wrote to path, are there: "The 2
// rows not sent (1 refused, 1 invalid) are in PATH", "The row not sent
// (refused) is in PATH"; a count of none is left out. `plan` and `send`
// both print it, so that they word the same rows alike.
func (s *Summary) RejectsLine(path string) string {
	var kinds []string
	for i, n := range []int{s.Refused, s.Invalid, s.AlreadyDelivered(), s.SuppressedRows()} {
		if n > 0 {
			kinds = append(kinds, strconv.Itoa(n)+" "+[]string{"refused", "invalid", "skipped as already delivered", "suppressed"}[i])
		}
	}
	switch n := s.Refused + s.Invalid + s.Skipped; n {
	case 0:
		return "The rows not sent are in " + path
	case 1:
		return fmt.Sprintf("The row not sent (%s) is in %s", strings.TrimPrefix(kinds[0], "1 "), path)
	default:
		return fmt.Sprintf("The %d rows not sent (%s) are in %s", n, strings.Join(kinds, ", "), path)
	}
}

// CountOf writes n with the singular or plural noun: "1 batch", "3 batches".
func CountOf(n int, one, other string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + other
}

// AcceptedPerLanguage returns how many rows were accepted per matched
// catalog language.
func (s *Summary) AcceptedPerLanguage() map[string]int {
	n := map[string]int{}
	for _, l := range s.PerLocale {
		n[l.Lang] += l.Accepted
	}
	return n
}

// WriteText writes the human report: totals, the per-locale table, the first
// maxRejects rejects as "file:line: field: reason", the batch plan and the
// estimate.
func (s *Summary) WriteText(w io.Writer, maxRejects int) error {
	ew := &errWriter{w: w}
	env := ""
	if s.Environment != "" {
		env = " in environment " + s.Environment
	}
	ew.printf("Campaign %s%s, recipients %s\n", s.Campaign, env, s.File)
	switch d, sup := s.AlreadyDelivered(), s.SuppressedRows(); {
	case sup > 0 && d > 0:
		ew.printf("%s: %d accepted, %d refused, %d invalid, %d skipped (%d already delivered, %d suppressed)\n\n", CountOf(s.Rows, "row", "rows"), s.Accepted, s.Refused, s.Invalid, s.Skipped, d, sup)
	case sup > 0:
		ew.printf("%s: %d accepted, %d refused, %d invalid, %d skipped (suppressed)\n\n", CountOf(s.Rows, "row", "rows"), s.Accepted, s.Refused, s.Invalid, s.Skipped)
	case d > 0:
		ew.printf("%s: %d accepted, %d refused, %d invalid, %d skipped (already delivered)\n\n", CountOf(s.Rows, "row", "rows"), s.Accepted, s.Refused, s.Invalid, s.Skipped)
	default:
		ew.printf("%s: %d accepted, %d refused, %d invalid\n\n", CountOf(s.Rows, "row", "rows"), s.Accepted, s.Refused, s.Invalid)
	}
	if len(s.Suppressed) > 0 {
		ew.printf("Suppression lists (never mailed; matched by mailbox, as duplicates are):\n")
		for _, l := range s.Suppressed {
			ew.printf("  %s: %s, %s suppressed\n", l.File, CountOf(l.Size, "address", "addresses"), CountOf(l.Rows, "row", "rows"))
		}
		ew.printf("\n")
	}

	if len(s.PerLocale) > 0 {
		var table bytes.Buffer
		tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "LOCALE\tLANGUAGE\tVIA\tACCEPTED\tREFUSED\tREASON")
		for _, l := range s.PerLocale {
			req := render.Clip(l.Requested)
			if _, _, hidden := csvcell.Invisible(req); hidden {
				req = strconv.Quote(req) // as the reason quotes it: "\ufeffes" is not es
			}
			if req == "" {
				req = "(empty)"
			}
			lang, via := dash(l.Lang), dash(l.Via)
			if l.Via == render.ViaEquivalent {
				via += " (" + req + " is " + l.Lang + ")" // iw is he, cmn is zh
			}
			reason := render.ShortReason(l.Reason, l.Fix)
			if l.NotAllowed > 0 {
				na := fmt.Sprintf("%d not on the allowlist", l.NotAllowed)
				if reason == "" {
					reason = na
				} else {
					reason += "; " + na
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", req, lang, via, l.Accepted, l.Refused, reason)
		}
		_ = tw.Flush()
		for _, l := range strings.SplitAfter(table.String(), "\n") {
			ew.printf("%s", strings.TrimRight(l, " \n")+strings.Repeat("\n", strings.Count(l, "\n")))
		}
		ew.printf("\n")
	}

	// A column the header lacks is said once, for the header: the rows
	// that need it are counted there, and are in the rejects file.
	rejects := s.Rejects
	if len(s.MissingColumns) > 0 {
		cols, all := "a column", ""
		if n := len(s.MissingColumns); n > 1 {
			cols, all = fmt.Sprintf("%d columns", n), ": add all of them before running again"
		}
		ew.printf("The header of %s lacks %s the template uses%s (every row that needs one goes to the rejects file):\n", s.File, cols, all)
		header := map[string]bool{}
		for _, mc := range s.MissingColumns {
			header[mc.Column] = true
			add := ": add it to the header"
			if c, ok := sameButCase(s.Columns, mc.Column); ok {
				add = fmt.Sprintf(", but a column %q: column names are case-sensitive: rename that column to %s, or add %s to the header", c, mc.Column, mc.Column)
			}
			ew.printf("  %s:1: no column %q, which the template uses at %s%s, with a value in every row; %s invalid without it\n",
				s.File, mc.Column, mc.UsedAt, add, CountOf(mc.Rows, "row is", "rows are"))
		}
		ew.printf("\n")
		rejects = nil
		for _, r := range s.Rejects {
			if r.Code != CodeRender || !header[r.Field] {
				rejects = append(rejects, r)
			}
		}
	}
	if n := len(rejects); n > 0 {
		shown := min(n, max(maxRejects, 0))
		what := "Refused and invalid rows"
		switch {
		case s.SuppressedRows() > 0:
			what = "Rows not sent (refused, invalid, or skipped)"
		case s.Skipped > 0:
			what = "Rows not sent (refused, invalid, or skipped as already delivered)"
		case len(rejects) < len(s.Rejects):
			what = "Other refused and invalid rows"
		}
		switch {
		case shown == 0:
			ew.printf("%s: %d, none shown here (all of them go to the rejects file)\n", what, n)
		case shown < n:
			ew.printf("%s (first %d of %d; all of them go to the rejects file):\n", what, shown, n)
		default:
			ew.printf("%s (%d):\n", what, n)
		}
		for _, r := range rejects[:shown] {
			if r.Field == "" {
				ew.printf("  %s:%d: %s\n", s.File, r.Line, r.Reason)
			} else {
				ew.printf("  %s:%d: %s: %s\n", s.File, r.Line, r.Field, r.Reason)
			}
		}
		ew.printf("\n")
	}

	if u := s.SMTPUTF8; u.Count > 0 {
		ew.printf("%s an address whose local part (before the @) is not ASCII (the first: %s:%d: %s): "+
			"it is delivered only through an SMTP relay that offers SMTPUTF8 (RFC 6531); through one that does not, it fails for good, "+
			"which counts toward the batch gate and may pause the campaign. Ask your relay's operator, or send one first with test-send --to such an address.\n\n",
			CountOf(u.Count, "accepted recipient has", "accepted recipients have"), s.File, u.Line, u.Email)
	}

	if n := s.NullNames; n.Count > 0 {
		at := make([]string, len(n.First))
		for i, r := range n.First {
			at[i] = fmt.Sprintf("%s:%d (%s)", s.File, r.Line, r.Value)
		}
		more := ""
		if rest := n.Count - len(n.First); rest > 0 {
			more = fmt.Sprintf(" and %d more", rest)
		}
		ew.printf("%s a name that is a database export's null (%s): %s%s: they are sent with no name, and greeted as the template greets someone without a name "+
			"(\"Hello ,\" unless it has {{if .Name}} ... {{end}}); fill in the names in %s (or leave the cells empty) if they are known.\n\n",
			CountOf(n.Count, "accepted recipient has", "accepted recipients have"), nullSpellings(), strings.Join(at, ", "), more, s.File)
	}

	b := s.Batches
	switch {
	case s.Accepted == 0:
		ew.printf("Batch plan: nothing to send\n")
	default:
		ew.printf("Batch plan: %s\n", CountOf(b.Total(), "batch", "batches"))
		if b.Canary > 0 {
			langs := make([]string, 0, len(b.CanaryPerLang))
			for l := range b.CanaryPerLang {
				langs = append(langs, l)
			}
			sort.Strings(langs)
			parts := make([]string, len(langs))
			for i, l := range langs {
				parts[i] = fmt.Sprintf("%s %d", l, b.CanaryPerLang[l])
			}
			ew.printf("  canary: %d recipients (%s)\n", b.Canary, strings.Join(parts, ", "))
			switch {
			case b.WaitsForApproval():
				ew.printf("  then wait until someone approves the canary\n")
			case b.ApproveAfterCanary:
				ew.printf("  every recipient is in the canary: nothing is left to approve, so the campaign does not wait for approval\n")
			}
		}
		if b.Count > 0 {
			ew.printf("  %s\n", regularBatches(b))
		}
	}
	switch {
	case s.Accepted == 0:
	case s.Rate.Unlimited():
		ew.printf("Estimate: rate unlimited, so the duration is unknown; batch intervals alone take %s\n", round(s.Estimate))
	default:
		ew.printf("Estimate: %s at %s", round(s.Estimate), s.Rate)
		if b.WaitsForApproval() {
			ew.printf(", plus the wait for approval")
		}
		ew.printf("\n")
	}
	return ew.err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	default:
		return d.Round(time.Millisecond)
	}
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = fmt.Errorf("write plan: %w", err)
	}
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	_, _ = fmt.Fprintf(e, format, args...)
}

// regularBatches words the regular batches of b as one line of the batch
// plan: "then" after a canary only, one batch as one ("1 regular batch of
// 7"), the last batch's size when it differs, and the interval where it
// separates batches ("10s after the canary" for a single one after it;
// nothing for a single one without).
func regularBatches(b BatchPlan) string {
	last := b.Regular - (b.Count-1)*b.Size
	var w string
	if b.Count == 1 {
		w = fmt.Sprintf("1 regular batch of %d", last)
	} else {
		w = fmt.Sprintf("%d regular batches of %d", b.Count, b.Size)
		if last != b.Size {
			w += fmt.Sprintf(" (the last of %d)", last)
		}
	}
	if b.Canary > 0 {
		w = "then " + w
	}
	switch {
	case b.Count == 1 && b.Canary == 0:
	case b.Interval == 0:
		w += ", back to back"
	case b.Count == 1:
		w += ", " + b.Interval.String() + " after the canary"
	default:
		w += ", one every " + b.Interval.String()
	}
	return w
}

// WriteDryRun says what a dry run of the send did: the plan renders every
// accepted recipient's message as the worker will (a row that cannot be
// rendered is invalid), so nothing is rendered twice and nothing is
// delivered. It counts them per catalog language, in the order of langs
// (the engine's), naming only those with messages.
func (s *Summary) WriteDryRun(w io.Writer, langs []render.Coverage) {
	perLang, parts := s.AcceptedPerLanguage(), []string{}
	for _, c := range langs {
		if n := perLang[c.Lang]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c.Lang, n))
		}
	}
	fmt.Fprintf(w, "\nDry run: rendered %d messages (%s); nothing was queued or delivered.\n", s.Accepted, strings.Join(parts, ", "))
}

// nullSpellings lists recipient.NullNames: "\N, NULL or (null)".
func nullSpellings() string {
	n := recipient.NullNames
	return strings.Join(n[:len(n)-1], ", ") + " or " + n[len(n)-1]
}
