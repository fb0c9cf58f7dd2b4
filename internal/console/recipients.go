package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tidings-mail/tidings/internal/address"
	"github.com/tidings-mail/tidings/internal/report"
	"github.com/tidings-mail/tidings/internal/store"
)

// pageSize is how many recipients the page lists at a time.
const pageSize = 200

// filter selects recipients by outcome, language and text.
type filter struct {
	Outcome, Lang, Q string
	mailbox          string // Q's mailbox (address.KeyOf) when Q is a whole address
}

// String says which rows f keeps, as a report's filter column does ("" for
// every row).
func (f filter) String() string {
	var kept []string
	for _, k := range [][2]string{{"outcome", f.Outcome}, {"lang", f.Lang}, {"q", f.Q}} {
		if k[1] != "" {
			kept = append(kept, k[0]+"="+k[1])
		}
	}
	return strings.Join(kept, " ")
}

func filterOf(r *http.Request) filter {
	f := filter{Outcome: r.FormValue("outcome"), Lang: r.FormValue("lang"), Q: strings.TrimSpace(r.FormValue("q"))}
	if _, err := address.Parse(f.Q); err == nil {
		f.mailbox = address.KeyOf(f.Q)
	}
	return f
}

func (f filter) match(row store.Row) bool {
	if f.Outcome != "" && row.Outcome != f.Outcome {
		return false
	}
	if f.Lang != "" && row.Lang != f.Lang {
		return false
	}
	if f.Q != "" {
		q := strings.ToLower(f.Q)
		if !strings.Contains(strings.ToLower(row.Email), q) && !strings.Contains(strings.ToLower(row.ID), q) &&
			(f.mailbox == "" || address.KeyOf(row.Email) != f.mailbox) {
			return false
		}
	}
	return true
}

// recipientsPage lists the campaign's recipients with their outcome and
// SMTP response or refusal reason, filtered; ?format=csv downloads every
// match.
func (s *Server) recipientsPage(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("campaign")
	f := filterOf(r)
	if f.Outcome != "" && !slices.Contains(store.Outcomes, f.Outcome) {
		// As tidings report --outcome: never "0 matches" for a typo.
		msg := fmt.Sprintf("%s: filter by one of %s, or by none.", (&report.OutcomeError{Outcome: f.Outcome}).Error(), strings.Join(store.Outcomes, ", "))
		if wantsJSON(r) {
			writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "message": msg})
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		s.render(w, r, "message", map[string]any{"Title": http.StatusText(http.StatusBadRequest), "Message": msg,
			"Back": "/c/" + url.PathEscape(c) + "/recipients", "BackTo": "the recipients of " + c})
		return
	}
	if r.FormValue("format") == "csv" {
		s.recipientsCSV(w, r, c, f)
		return
	}
	st, err := s.cfg.Store.Status(r.Context(), c)
	if err != nil {
		s.readError(w, r, err)
		return
	}
	offset, _ := strconv.Atoi(r.FormValue("offset"))
	offset = max(0, offset)
	var rows []store.Row
	matched := 0
	// The outcomes read are the rows shown's: which rows match is known
	// without them unless the filter is by outcome (a page of a million
	// recipients asks Redis for 200 entries, not a million).
	counted := 0
	need := func(row store.Row) bool {
		if f.Outcome != "" {
			return true
		}
		if !f.match(row) {
			return false
		}
		counted++
		return counted > offset && counted <= offset+pageSize
	}
	err = s.cfg.Store.ReportOf(r.Context(), c, need, func(row store.Row) error {
		answered(r.Context())
		if !f.match(row) {
			return nil
		}
		matched++
		if matched > offset && len(rows) < pageSize {
			rows = append(rows, row)
		}
		return nil
	})
	if err != nil {
		s.readError(w, r, err)
		return
	}
	langs := make([]string, 0, len(st.Languages))
	for _, l := range st.Languages {
		langs = append(langs, l.Lang)
	}
	q := func(off int) string {
		return fmt.Sprintf("?outcome=%s&lang=%s&q=%s&offset=%d", url.QueryEscape(f.Outcome), url.QueryEscape(f.Lang), url.QueryEscape(f.Q), off)
	}
	data := map[string]any{"Title": "Recipients " + c, "Name": c, "F": f, "Rows": rows, "Matched": matched, "Offset": offset,
		"Outcomes": store.Outcomes, "Langs": langs, "CSV": q(0) + "&format=csv"}
	if offset+pageSize < matched {
		data["Next"] = q(offset + pageSize)
	}
	if offset > 0 {
		data["Prev"] = q(max(0, offset-pageSize))
	}
	s.render(w, r, "recipients", data)
}

// recipientsCSV streams every matching recipient as CSV.
func (s *Server) recipientsCSV(w http.ResponseWriter, r *http.Request, c string, f filter) {
	if _, err := s.cfg.Store.Meta(r.Context(), c, false); err != nil {
		s.readError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", c+"-recipients.csv"))
	match := func(row store.Row) bool { answered(r.Context()); return f.match(row) }
	err := report.WriteCSV(r.Context(), s.cfg.Store, c, w, match, f.String())
	if err != nil {
		// Headers are sent: say so in the file rather than cut it silently.
		err = silence(r.Context(), err)
		_, _ = fmt.Fprintf(w, "# incomplete: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		s.log.Error("console: recipients CSV", "campaign", c, "err", err)
	}
}
