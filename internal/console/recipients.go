package console

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
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
		s.badFilter(w, r, c, fmt.Sprintf("%s: filter by one of %s, or by none.", (&report.OutcomeError{Outcome: f.Outcome}).Error(), strings.Join(store.Outcomes, ", ")))
		return
	}
	if f.Lang != "" && !langTagRE.MatchString(f.Lang) {
		st, err := s.cfg.Store.Status(r.Context(), c)
		if err != nil {
			s.readError(w, r, err)
			return
		}
		s.badFilter(w, r, c, fmt.Sprintf("%q is not a language tag: filter by one of %s, or by none.", f.Lang, strings.Join(langsOf(st), ", ")))
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
	langs := langsOf(st)
	var asked *askedFor // the rows that asked for f.Lang, when it is none of langs
	if f.Lang != "" && !slices.Contains(langs, f.Lang) {
		asked = &askedFor{lang: f.Lang, outcomes: map[string]int{}}
	}
	err = s.cfg.Store.ReportOf(r.Context(), c, need, func(row store.Row) error {
		answered(r.Context())
		if asked != nil {
			asked.count(row)
		}
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
	q := func(off int) string {
		return fmt.Sprintf("?outcome=%s&lang=%s&q=%s&offset=%d", url.QueryEscape(f.Outcome), url.QueryEscape(f.Lang), url.QueryEscape(f.Q), off)
	}
	data := map[string]any{"Title": "Recipients " + c, "Name": c, "F": f, "Rows": rows, "Matched": matched, "Offset": offset,
		"Outcomes": store.Outcomes, "Langs": langs, "CSV": q(0) + "&format=csv"}
	if asked != nil {
		data["LangNote"], data["LangRefused"] = asked.note(langs), asked.outcomes[store.OutcomeRefused] > 0
	}
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

// langTagRE is what a language filter may be: a language tag (en, de-CH,
// pt_BR), whether or not the campaign has it.
var langTagRE = regexp.MustCompile(`^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$`)

// langsOf is st's languages, in its order.
func langsOf(st *store.Status) []string {
	langs := make([]string, 0, len(st.Languages))
	for _, l := range st.Languages {
		langs = append(langs, l.Lang)
	}
	return langs
}

// badFilter answers a filter value that is none (400): never "0
// matches" for a URL edited by hand.
func (s *Server) badFilter(w http.ResponseWriter, r *http.Request, c, msg string) {
	if wantsJSON(r) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "message": msg})
		return
	}
	w.WriteHeader(http.StatusBadRequest)
	s.render(w, r, "message", map[string]any{"Title": http.StatusText(http.StatusBadRequest), "Message": msg,
		"Back": "/c/" + url.PathEscape(c) + "/recipients", "BackTo": "the recipients of " + c})
}

// askedFor counts the rows whose locale is lang's (lang itself, or
// lang-REGION): those not staged in any language by outcome, those sent
// in another language (de for de-CH, or an alias's) by that language. A
// filter by a language the campaign has not says why it matches nobody.
type askedFor struct {
	lang     string
	locales  []string // the locales seen, as written
	outcomes map[string]int
	sentIn   map[string]int
}

func (a *askedFor) count(row store.Row) {
	l := row.Locale
	if len(l) < len(a.lang) || !strings.EqualFold(l[:len(a.lang)], a.lang) ||
		(len(l) > len(a.lang) && l[len(a.lang)] != '-' && l[len(a.lang)] != '_') {
		return
	}
	if row.Lang != "" {
		if a.sentIn == nil {
			a.sentIn = map[string]int{}
		}
		a.sentIn[row.Lang]++
	} else {
		a.outcomes[row.Outcome]++
	}
	if !slices.Contains(a.locales, l) && len(a.locales) < 5 {
		a.locales = append(a.locales, l)
	}
}

// note says why a filter by a.lang matches nobody (langs: the campaign's).
func (a *askedFor) note(langs []string) string {
	n := 0
	var by []string
	for _, o := range store.Outcomes {
		if k := a.outcomes[o]; k > 0 {
			n += k
			by = append(by, fmt.Sprintf("%d %s", k, o))
		}
	}
	sent := 0
	var in []string
	for _, l := range slices.Sorted(maps.Keys(a.sentIn)) {
		sent += a.sentIn[l]
		in = append(in, l)
	}
	if n+sent == 0 {
		return fmt.Sprintf("%s is not a language of this campaign: no recipient asked for it. Its languages are %s.", a.lang, strings.Join(langs, ", "))
	}
	quoted := make([]string, len(a.locales))
	for i, l := range a.locales {
		quoted[i] = strconv.Quote(l)
	}
	msg := fmt.Sprintf("%s is not a language of this campaign: its %d recipient(s) with locale %s", a.lang, n+sent, strings.Join(quoted, ", "))
	var parts []string
	if sent > 0 {
		what := "are sent in " + strings.Join(in, ", ")
		if n > 0 {
			what = fmt.Sprintf("%d are sent in %s", sent, strings.Join(in, ", "))
		}
		parts = append(parts, what+" (filter by that language to see them)")
	}
	if n > 0 {
		how := strings.Join(by, ", ")
		if len(by) == 1 {
			how = strings.SplitN(by[0], " ", 2)[1]
		}
		what := "were " + how + ": they are sent nothing"
		if sent > 0 {
			what = fmt.Sprintf("%d were not staged (%s): they are sent nothing", n, strings.Join(by, ", "))
		}
		parts = append(parts, what)
	}
	return msg + " " + strings.Join(parts, "; ") + "."
}
