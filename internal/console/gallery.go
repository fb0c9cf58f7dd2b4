package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tidings-mail/tidings/internal/address"
	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/preview"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
)

// source is what a gallery renders from: a staged campaign's approved
// snapshot, or a campaign file.
type source struct {
	camp    *campaign.Campaign
	engine  *render.Engine
	base    string // URL path of the gallery page
	staged  bool
	hash    string
	version string // of what it renders from: frame and .eml links carry it, refused once it changed
	origin  string // where the templates come from, for the page
	// refused counts the recipients refused (at staging, or by the plan
	// of a campaign file) and refusals says why, by reason (nil when
	// not known: a campaign staged by an earlier version).
	refused  int64
	refusals []store.Refusal
	// firsts is the first recipient of each language, as recorded at
	// staging.
	firsts map[string]preview.Recipient
	// scan calls fn for recipients in file/batch order with their matched
	// language ("" when refused) until fn returns true.
	scan func(ctx context.Context, fn func(r preview.Recipient, lang string) bool) error
	// judge, for a campaign file, plans its recipients file as send
	// would (nil: a staged campaign, whose chunks hold accepted rows
	// only): the first accepted row and the invalid rows per language,
	// the refused rows by why, and the row key names, accepted (rej nil)
	// or why not (rej).
	judge func(ctx context.Context, key string) (p *planned, found preview.Recipient, lang string, rej *plan.Reject, err error)
	plan  *planned // judge's answer without a key, once read (filePlan)
	// batch is the batch a staged recipient looked up is read in first
	// (the link of the recipients page says it: b=), -1 when none is
	// given; a wrong one only costs the scan of every chunk.
	batch int
}

// filePlan returns what the gallery shows of the plan of a campaign
// file's recipients (judge without a key), planning it once per source;
// nil for a staged campaign, or when there is no recipients file.
func (src *source) filePlan(ctx context.Context) (*planned, error) {
	if src.judge == nil || src.plan != nil {
		return src.plan, nil
	}
	p, _, _, _, err := src.judge(ctx, "")
	if err != nil {
		return nil, err
	}
	src.plan = p
	if p != nil {
		src.refused, src.refusals = int64(p.refused), p.refusals
	}
	return p, nil
}

// planned is what the gallery shows of the plan of a campaign file's
// recipients: per language its first accepted row and its invalid rows,
// and the refused rows by why.
type planned struct {
	samples  map[string]*plan.Sample
	refused  int
	refusals []store.Refusal
}

// stagedSource loads campaign c's approved snapshot: the definition and
// template content stored by send, never files on disk.
//
// hint is a batch (a request's b=, "" for none) whose chunks a look-up of
// a recipient reads first: a recipient of a million found in their batch,
// not after every chunk before it.
func (s *Server) stagedSource(ctx context.Context, c, hint string) (*source, error) {
	meta, err := s.cfg.Store.Meta(ctx, c, true)
	if err != nil {
		return nil, err
	}
	camp, err := campaign.FromDefinition(meta.Definition)
	if err != nil {
		return nil, fmt.Errorf("load campaign %s: definition: %w", c, err)
	}
	eng, err := s.engines.get(c+"\x00"+meta.Hash, func() (*render.Engine, error) {
		t, l := render.FromSnapshot(meta.Snapshot)
		return render.New(render.Config{Templates: t, Locales: l, Template: camp.Template, DefaultLocale: camp.DefaultLocale,
			Policy: render.Policy{Aliases: camp.LocalePolicy.Aliases, MissingLocale: camp.LocalePolicy.MissingLocale}, Data: camp.Data})
	})
	if err != nil {
		return nil, fmt.Errorf("load the approved snapshot of %s: %w", c, err)
	}
	src := &source{camp: camp, engine: eng, base: "/c/" + url.PathEscape(c) + "/gallery", staged: true, hash: meta.Hash, version: meta.Hash, batch: -1,
		origin: fmt.Sprintf("the approved snapshot stored when %s staged it (%s)", meta.CreatedBy, meta.CreatedAt.Format("2006-01-02 15:04 MST"))}
	if st, err := s.cfg.Store.Status(ctx, c); err == nil {
		src.refused = st.Counts[store.OutcomeRefused]
	}
	src.refusals = meta.Refusals
	src.firsts = make(map[string]preview.Recipient, len(meta.Firsts))
	for lang, r := range meta.Firsts {
		src.firsts[lang] = stagedRecipient(r, meta.Columns)
	}
	if b, err := strconv.Atoi(hint); err == nil && b >= 0 && b < len(meta.Batches) {
		src.batch = b
	}
	src.scan = func(ctx context.Context, fn func(preview.Recipient, string) bool) error {
		return s.scanStaged(ctx, c, meta, src.batch, fn)
	}
	return src, nil
}

// scanStaged walks the staged recipients of c (meta: its Meta) in batch
// order, batch first (-1: none) before all the others. It reads the
// chunks with Store.Chunk: the only store read that carries a
// recipient's template data (Fields). No index maps a recipient to their
// chunk: it reads at most Config.LookupChunks chunks, and returns a
// *lookupBoundError when it stopped there with chunks left unread.
func (s *Server) scanStaged(ctx context.Context, c string, meta *store.Meta, first int, fn func(preview.Recipient, string) bool) error {
	order := meta.Batches
	if first >= 0 {
		order = append([]store.BatchInfo{meta.Batches[first]}, slices.Delete(slices.Clone(meta.Batches), first, first+1)...)
	}
	read, total := 0, 0
	for _, b := range meta.Batches {
		total += b.Last - b.First + 1
	}
	for _, b := range order {
		for n := b.First; n <= b.Last; n++ {
			if read == s.cfg.LookupChunks {
				return &lookupBoundError{read: read, of: total}
			}
			read++
			recs, err := s.cfg.Store.Chunk(ctx, c, n)
			if err != nil {
				return err
			}
			answered(ctx)
			for _, r := range recs {
				if fn(stagedRecipient(r, meta.Columns), r.Lang) {
					return nil
				}
			}
		}
	}
	return nil
}

// lookupBoundError is a look-up of a staged recipient that read the first
// read of the of staged chunks (Config.LookupChunks) without finding them.
type lookupBoundError struct{ read, of int }

func (e *lookupBoundError) Error() string {
	return fmt.Sprintf("the look-up read the first %d of the %d staged chunks (at most %d a look-up)", e.read, e.of, e.read)
}

// stagedRecipient is staged recipient r (as stored in a chunk, with
// the campaign's columns) as the gallery renders it.
func stagedRecipient(r store.Recipient, columns []string) preview.Recipient {
	return preview.Recipient{Line: r.Line, ID: r.ID, Email: r.Email, Name: r.Name, Locale: r.Locale, Fields: r.FieldsInto(nil, columns)}
}

// fileSource is the gallery of Config.File as on disk now, or why the
// files on disk cannot be used.
func (s *Server) fileSource() (*source, error) {
	f, at, version, err := s.file.current(s.cfg.Clock)
	if err != nil {
		return nil, err
	}
	src := &source{camp: f.Campaign, engine: f.Engine, base: "/file/gallery", hash: f.Engine.Hash(), version: version,
		origin: fmt.Sprintf("the campaign file %s and the templates and catalogs on disk (not staged) as read at %s (read again whenever they change)",
			f.Path, at.Format("2006-01-02 15:04:05 MST"))}
	if f.bundle != nil {
		src.judge = func(ctx context.Context, key string) (*planned, preview.Recipient, string, *plan.Reject, error) {
			if strings.TrimSpace(key) == "" {
				p, err := s.file.cachedPlan(ctx, f.bundle, f.Env, version)
				return p, preview.Recipient{}, "", nil, err
			}
			return judgeFile(ctx, f.bundle, f.Env, key)
		}
	}
	src.scan = func(ctx context.Context, fn func(preview.Recipient, string) bool) error {
		if f.Recipients == nil {
			return nil
		}
		next, done, err := f.Recipients()
		if err != nil || next == nil {
			return err
		}
		defer done()
		for ctx.Err() == nil {
			r, err := next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			lang := ""
			if m, err := f.Engine.Resolve(r.Locale); err == nil {
				lang = m.Lang
			}
			if fn(r, lang) {
				return nil
			}
		}
		return ctx.Err()
	}
	return src, nil
}

// judgeFile plans the recipients file of b for env as send would and
// returns what the gallery shows of it and, with a key (id or email, as
// find matches), the row it names: accepted with its language, or the
// plan's reject (refused, invalid), or neither when no row has it. A
// lookup stops at the accepted row it finds (planned then nil).
func judgeFile(ctx context.Context, b *bundle.Bundle, env *environment.Environment, key string) (*planned, preview.Recipient, string, *plan.Reject, error) {
	key = strings.TrimSpace(key)
	mailbox := address.KeyOf(key)
	match := func(id, email string) bool { return key != "" && (id == key || address.KeyOf(email) == mailbox) }
	var found plan.Accepted
	sum, err := b.Plan(ctx, env, func(a plan.Accepted) error {
		if match(a.ID, a.Email) {
			found = a
			return errFound
		}
		return nil
	})
	switch {
	case errors.Is(err, errFound):
		return nil, found.Recipient, found.Match.Lang, nil, nil
	case err != nil || sum == nil:
		return nil, preview.Recipient{}, "", nil, err
	}
	p := &planned{samples: sum.Samples, refused: sum.Refused, refusals: []store.Refusal{}}
	var rej *plan.Reject
	for i := range sum.Rejects {
		r := &sum.Rejects[i]
		// Counted by why as staging counts them: the banner of a staged
		// campaign and of its file say the same.
		p.refusals = store.CountRefusal(p.refusals, store.Reject{Line: r.Line, ID: r.ID, Email: r.Email, Locale: r.Locale,
			Outcome: r.Outcome, Code: r.Code, Field: r.Field, Reason: r.Reason})
		if rej == nil && match(r.ID, r.Email) {
			rej = r
		}
	}
	return p, preview.Recipient{}, "", rej, nil
}

// incomplete says why the language of cov is not sent and what to do: the
// catalog file to complete, then (staged) stage the campaign again, since
// workers send the snapshot staged, or (a campaign file) reload the page.
func incomplete(cov render.Coverage, staged bool) string {
	missing := strings.Join(cov.Missing, ", ")
	fix := fmt.Sprintf("add %s to %s, then reload this page.", missing, cov.File)
	if staged {
		fix = fmt.Sprintf("workers send the catalogs staged, so add %s to %s, pause the campaign if it is sending (send refuses to stage a running one), and stage it again with send --resume-existing (it stays paused until resumed) to send them.", missing, cov.File)
	}
	return fmt.Sprintf("incomplete: %s lacks %s. Recipients of this language are refused, never sent another language: %s", cov.Lang, missing, fix)
}

// fileProblem says that the campaign file, its templates or catalogs on
// disk cannot be used (err names the file and line): no card is shown,
// rather than cards of files that are no longer on disk.
func (s *Server) fileProblem(w http.ResponseWriter, r *http.Request, err error) {
	msg := fmt.Sprintf("The files on disk cannot be rendered: %v. Fix them and reload this page; nothing is shown of what they held before.", err)
	if r.PathValue("part") != "" || wantsJSON(r) {
		s.refuse(w, r, http.StatusUnprocessableEntity, msg)
		return
	}
	w.WriteHeader(http.StatusUnprocessableEntity)
	s.render(w, r, "message", map[string]any{"Title": "Gallery of " + s.cfg.File.Path + ": cannot be rendered", "Message": msg})
}

// card is one email of the gallery.
type card struct {
	Lang, Dir string
	Covered   bool
	Problem   string // why the language is not sent (Covered false)
	// Unshown says why the card shows no message: sample data (the
	// campaign has no recipient of the language) the template cannot be
	// rendered with. It says nothing of what is sent.
	Unshown          string
	Source           string // which recipient's data
	Catalog          string // the catalog file, when its name spells the language otherwise
	Invalid          string // the rows of the language not sent for their own row, when any
	Subject, Text    string
	From, ReplyTo    string
	To, Unsubscribe  string
	FrameURL, EMLURL string
	Picked           bool
	Plurals          []pluralRow
	html             string
	eml              []byte // the message as written for the wire
}

// pluralRow is one plural message at the counts that pick each of the
// language's CLDR forms.
type pluralRow struct {
	Key   string
	Forms []pluralForm
}

type pluralForm struct{ Form, Count, Text string }

// cards renders every catalog language: with the campaign's first
// recipient of that language when there is one (else sample data),
// flagged when the language is not covered. A staged campaign records
// each language's first recipient when it is staged (Meta.Firsts): the
// page reads those, not the chunks.
func (s *Server) cards(ctx context.Context, src *source) ([]card, error) {
	covs := src.engine.Languages()
	chosen, samples, err := src.chosen(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]card, 0, len(covs))
	for _, cov := range covs {
		if !cov.Covered {
			out = append(out, card{Lang: cov.Lang, Dir: render.Direction(cov.Lang), Problem: incomplete(cov, src.staged)})
			continue
		}
		r, ok := chosen[cov.Lang]
		sm := samples[cov.Lang]
		if !ok && sm != nil && sm.Invalid > 0 {
			out = append(out, card{Lang: cov.Lang, Dir: render.Direction(cov.Lang), Problem: noneValid(cov.Lang, sm)})
			continue
		}
		if !ok {
			r = s.sample(cov.Lang)
		}
		k := s.card(src, cov.Lang, r, ok, false)
		if sm != nil && sm.Invalid > 0 {
			k.Invalid = fmt.Sprintf("%d row(s) of %s are invalid and not sent; the first, line %d (%s): %s", sm.Invalid, cov.Lang, sm.FirstInvalid.Line, sm.FirstInvalid.Email, sm.FirstInvalid.Reason)
		}
		out = append(out, k)
	}
	for i, cov := range covs { // one card per language, in order
		out[i].Catalog = cov.Spelled()
	}
	return out, nil
}

// chosen is the recipient each covered language's card shows: the
// campaign's first of that language (the first row the plan accepts of a
// campaign file, never one the template cannot be rendered with; the
// first recorded at staging of a staged campaign), none for a language
// without one. samples is the plan's per language (its invalid rows), nil
// for a staged campaign.
func (src *source) chosen(ctx context.Context) (chosen map[string]preview.Recipient, samples map[string]*plan.Sample, err error) {
	want := map[string]bool{}
	for _, c := range src.engine.Languages() {
		if c.Covered {
			want[c.Lang] = true
		}
	}
	chosen = map[string]preview.Recipient{}
	if src.judge == nil {
		for lang, r := range src.firsts {
			if want[lang] {
				chosen[lang] = r
			}
		}
		return chosen, nil, nil
	}
	p, err := src.filePlan(ctx)
	if err != nil {
		return nil, nil, err
	}
	if p != nil {
		samples = p.samples
	}
	for lang, sm := range samples {
		if sm.First != nil && want[lang] {
			chosen[lang] = sm.First.Recipient
		}
	}
	return chosen, samples, nil
}

// noneValid says that none of lang's rows (sm) can be rendered.
func noneValid(lang string, sm *plan.Sample) string {
	return fmt.Sprintf("invalid: none of the %d row(s) of %s can be rendered, so none is sent; the first, line %d (%s): %s", sm.Invalid, lang, sm.FirstInvalid.Line, sm.FirstInvalid.Email, sm.FirstInvalid.Reason)
}

// sample is the configured sample data for lang.
func (s *Server) sample(lang string) preview.Recipient {
	sm, ok := s.cfg.Samples[lang]
	if !ok {
		sm = s.cfg.Samples[""]
	}
	if sm.Email == "" {
		sm.Email = "sample@example.org"
	}
	if sm.Name == "" {
		sm.Name = "Sample Recipient"
	}
	return preview.Recipient{ID: sm.Email, Email: sm.Email, Name: sm.Name, Locale: lang, Fields: sm.Fields}
}

// sampleUnshown says why the sample data (whose columns are fields)
// cannot render a language's message (re: a missing column or a bad
// count), and what that means. The render error itself speaks to a
// recipient ("add it to the recipients file"): wrong of made-up data,
// and of a file that may well have the column. Nobody of the language
// is in the campaign, so nothing is sent in it and nothing needs a fix.
func sampleUnshown(re *render.RenderError, fields map[string]string) string {
	at := re.File
	if re.Line > 0 {
		at += ":" + strconv.Itoa(re.Line)
	}
	if re.Key != "" {
		at += " (message " + re.Key + ", " + re.KeyAt + ")"
	}
	has := slices.Sorted(maps.Keys(fields))
	if len(has) == 0 {
		has = []string{"none"}
	}
	why := fmt.Sprintf("the sample data has no column %q, which %s prints (the sample's columns: %s)", re.Column, at, strings.Join(has, ", "))
	if re.Cause == render.CauseBadCount {
		why = fmt.Sprintf("the sample data's column %q holds %q, not the count %s (at %s) needs", re.Column, re.Value, re.CountOf, at)
	}
	return "nothing to show: the campaign has no recipient of this language, and the sample data cannot render its message: " + why +
		". So nobody is sent this language's message, and nothing needs fixing for it; a recipient of this language would be shown with their own row."
}

// card renders lang for recipient r exactly as a worker composes it. real
// says r is a recipient of the campaign (else sample data).
func (s *Server) card(src *source, lang string, r preview.Recipient, real, picked bool) card {
	k := card{Lang: lang, Dir: render.Direction(lang), Covered: true, Picked: picked}
	k.Source = "sample data (no recipient of this language)"
	v := url.Values{"v": {src.version}}
	if real {
		k.Source = fmt.Sprintf("%s (line %d, locale %q)", r.Email, r.Line, r.Locale)
		v.Set("r", r.ID)
		if src.batch >= 0 { // the frame finds them where the page did
			v.Set("b", strconv.Itoa(src.batch))
		}
	}
	q := "?" + v.Encode()
	m := render.Match{Requested: r.Locale, Lang: lang, Via: render.ViaExact}
	if !real {
		m.Requested = lang
	}
	compose := s.cfg.Compose(src.camp)
	link := compose.Link(r.ID, r.Email)
	d := render.Data{ID: r.ID, Email: r.Email, Name: r.Name, Campaign: src.camp.Name, Fields: r.Fields, Data: src.camp.Data,
		Unsubscribe: link.Web()}
	out, err := src.engine.Render(m, d)
	if re := (*render.RenderError)(nil); err != nil && !real && errors.As(err, &re) && (re.Cause == render.CauseMissingColumn || re.Cause == render.CauseBadCount) {
		// Made-up data, not the campaign's, lacks what the template reads
		// of a recipient: nobody of this language is in the campaign, and
		// this says nothing of what is sent. (A refused language, or
		// campaign data the template lacks, fails every recipient: a red
		// card below.)
		k.Unshown = sampleUnshown(re, r.Fields)
		return k
	}
	if err != nil {
		k.Covered, k.Problem = false, err.Error()
		return k
	}
	if c, ok := compose.(interface{ Err() error }); ok && c.Err() != nil {
		// The worker refuses such a campaign: say so rather than show a
		// message nobody will get.
		k.Covered, k.Problem = false, "the campaign's settings cannot make a message: "+c.Err().Error()
		return k
	}
	// The header fields shown are read back from the message as it is
	// written for the wire, as a mail client reads them: what QA signs off
	// is what is sent, by construction.
	var eml bytes.Buffer
	if _, err := compose.Message(r.ID, r.Email, r.Name, link, out, s.cfg.Clock()).WriteTo(&eml); err != nil {
		k.Covered, k.Problem = false, "a worker cannot send this message: "+err.Error()
		return k
	}
	shown, err := send.Show(eml.Bytes())
	if err != nil {
		k.Covered, k.Problem = false, "the message cannot be read back: "+err.Error()
		return k
	}
	k.Subject, k.Text, k.html = shown.Subject, out.Text, out.HTML
	k.From, k.ReplyTo, k.To, k.Unsubscribe = shown.From, shown.ReplyTo, shown.To, shown.ListUnsubscribe
	k.FrameURL = src.base + "/" + url.PathEscape(lang) + "/html" + q
	k.EMLURL = src.base + "/" + url.PathEscape(lang) + "/eml" + q
	k.eml = eml.Bytes()
	k.Plurals = plurals(src.engine, m, d)
	return k
}

// find looks a recipient up by id or by mailbox: an email in any spelling
// of the same address (case, NFC or NFD, the domain as Unicode or xn--;
// address.KeyOf).
func find(ctx context.Context, src *source, key string) (preview.Recipient, string, bool, error) {
	key = strings.TrimSpace(key)
	mailbox := address.KeyOf(key)
	var found preview.Recipient
	var lang string
	ok := false
	err := src.scan(ctx, func(r preview.Recipient, l string) bool {
		if r.ID == key || address.KeyOf(r.Email) == mailbox {
			found, lang, ok = r, l, true
		}
		return ok
	})
	return found, lang, ok, err
}

// rejected looks a row rejected at staging up by id or mailbox (as find):
// the staged chunks hold accepted recipients only.
func (s *Server) rejected(ctx context.Context, src *source, key string) (store.Row, bool, error) {
	var found store.Row
	if !src.staged {
		return found, false, nil
	}
	key = strings.TrimSpace(key)
	mailbox := address.KeyOf(key)
	err := s.cfg.Store.Rejects(ctx, src.camp.Name, func(row store.Row) error {
		answered(ctx)
		if row.ID == key || address.KeyOf(row.Email) == mailbox {
			found = row
			return errFound // no need to read the rest
		}
		return nil
	})
	if errors.Is(err, errFound) {
		return found, true, nil
	}
	return found, false, err
}

// sourceError answers a request whose source could not be read: a staged
// campaign's from Redis (Server.storeError), a campaign file's from its
// files on disk (Server.fileProblem: the file and line to fix, never Redis).
func (s *Server) sourceError(w http.ResponseWriter, r *http.Request, src *source, err error) {
	if src.staged {
		s.readError(w, r, err)
		return
	}
	s.fileProblem(w, r, err)
}

// refusedReasons words the gallery banner's reasons of total refused
// recipients, counted by why in rs (nil: not known, no reason is given):
// a locale refusal by its locale, a refusal by the environment's allowlist
// as such, any other by its code and first reason; those no group counts
// (refused when a worker rendered their message, or beyond
// store.MaxRefusals groups) in one line.
func refusedReasons(total int64, rs []store.Refusal) []string {
	if rs == nil {
		return nil
	}
	var out []string
	rest := total
	for _, g := range rs {
		rest -= int64(g.Count)
		why := g.Reason
		if !strings.HasPrefix(why, g.Code) {
			why = g.Code + ": " + why
		}
		switch {
		case g.Field == "locale":
			out = append(out, fmt.Sprintf("%d with locale %q: %s", g.Count, g.Locale, why))
		case strings.HasPrefix(g.Code, "not-allowed-in-"):
			out = append(out, fmt.Sprintf("%d not on the allowlist of environment %s (%s)", g.Count, strings.TrimPrefix(g.Code, "not-allowed-in-"), g.Code))
		default:
			out = append(out, fmt.Sprintf("%d refused, the first for %s", g.Count, why))
		}
	}
	if rest > 0 {
		out = append(out, fmt.Sprintf("%d for other reasons", rest))
	}
	return out
}

// errFound stops a search that found what it looked for.
var errFound = errors.New("found")

// gallery renders the gallery page of src; ?r= picks one recipient.
func (s *Server) gallery(w http.ResponseWriter, r *http.Request, src *source, title string) {
	ctx := r.Context()
	data := map[string]any{"Title": title, "Campaign": src.camp.Name, "Query": r.FormValue("r"),
		"Origin": src.origin, "Hash": src.hash, "Staged": src.staged}
	if q := strings.TrimSpace(r.FormValue("r")); q != "" {
		rc, lang, problem, err := s.pick(ctx, src, q)
		switch {
		case err != nil:
			s.sourceError(w, r, src, err)
			return
		case problem != "":
			data["PickProblem"] = problem
		default:
			k := s.card(src, lang, rc, true, true)
			data["Picked"] = &k
		}
	}
	cards, err := s.cards(ctx, src)
	if err != nil {
		s.sourceError(w, r, src, err)
		return
	}
	data["Cards"] = cards
	// After cards: a campaign file's refusals are its plan's.
	data["Refused"], data["RefusedWhy"] = src.refused, refusedReasons(src.refused, src.refusals)
	s.render(w, r, "gallery", data)
}

// pick finds recipient q (an id or an email, as find) of src and the
// language they are sent, or says why nobody of that key is sent a
// message (problem): no such recipient, a row refused or invalid (by a
// campaign file's plan, as send judges it, or at staging), a locale no
// complete catalog covers. The gallery page and its email parts say it.
func (s *Server) pick(ctx context.Context, src *source, q string) (rc preview.Recipient, lang, problem string, err error) {
	none := fmt.Sprintf("No recipient with id or email %q in this campaign.", q)
	if src.judge != nil {
		// A campaign file: the plan's judgement of the row, as send's.
		_, rc, lang, rej, err := src.judge(ctx, q)
		switch {
		case err != nil:
			return rc, "", "", err
		case rej != nil:
			why := rej.Reason
			if !strings.HasPrefix(why, rej.Code) {
				why = rej.Code + ": " + why
			}
			return rc, "", fmt.Sprintf("%s (line %d, locale %q) is %s: %s. Nothing is sent to them.", rej.Email, rej.Line, rej.Locale, rej.Outcome, why), nil
		case lang == "":
			return rc, "", none, nil
		}
		return rc, lang, "", nil
	}
	rc, lang, ok, err := find(ctx, src, q)
	bound := (*lookupBoundError)(nil)
	if errors.As(err, &bound) { // not among the chunks read: rejected at staging, or further on
		err = nil
		none = fmt.Sprintf("No recipient with id or email %q found: %s, and no index says which chunk holds them. Look them up on the recipients page (%s): its link opens their batch here.",
			q, bound, "/c/"+url.PathEscape(src.camp.Name)+"/recipients?"+url.Values{"q": {q}}.Encode())
	}
	switch {
	case err != nil:
		return rc, "", "", err
	case !ok:
		rej, found, err := s.rejected(ctx, src, q)
		if err != nil || !found {
			return rc, "", none, err
		}
		return rc, "", fmt.Sprintf("%s (line %d, locale %q) was not staged: %s, %s. Nothing is sent to them.", rej.Email, rej.Line, rej.Locale, rej.Outcome, rej.Response), nil
	case lang == "":
		why := "no complete catalog covers the locale"
		if _, err := src.engine.Resolve(rc.Locale); err != nil {
			why = err.Error()
		}
		return rc, "", fmt.Sprintf("%s (line %d, locale %q) is refused: %s. Nothing is sent to them.", rc.Email, rc.Line, rc.Locale, why), nil
	}
	return rc, lang, "", nil
}

// langProblem says why campaign src has no email in language lang (a
// gallery URL's): it has no such catalog language, or that language is
// refused (its catalog incomplete); "" when it has. Nothing is ever
// shown, nor sent, in another language instead (PRODUCT.md's locale
// rule).
func langProblem(src *source, lang string) string {
	var langs []string
	for _, cov := range src.engine.Languages() {
		if cov.Lang == lang && !cov.Covered {
			return fmt.Sprintf("language %q of campaign %s is refused: its catalog lacks %s, so its recipients are refused, never sent another language; there is no email of it to show.", lang, src.camp.Name, strings.Join(cov.Missing, ", "))
		}
		if cov.Lang == lang {
			return ""
		}
		langs = append(langs, cov.Lang)
	}
	return fmt.Sprintf("campaign %s has no language %q: its languages are %s. A recipient whose locale no complete catalog covers is refused, never shown nor sent a message in another language.", src.camp.Name, lang, strings.Join(langs, ", "))
}

// noEmail answers 404 to a gallery URL that names no email of src (the
// language, part or recipient asked: msg says which and why), with a
// link back to its gallery (picking recipient q, when given).
func (s *Server) noEmail(w http.ResponseWriter, r *http.Request, src *source, q, msg string) {
	if wantsJSON(r) {
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "message": msg})
		return
	}
	back := src.base
	if q != "" {
		back += "?" + url.Values{"r": {q}}.Encode()
	}
	w.WriteHeader(http.StatusNotFound)
	s.render(w, r, "message", map[string]any{"Title": http.StatusText(http.StatusNotFound), "Message": msg, "Back": back, "BackTo": "the gallery of " + src.camp.Name})
}

// noPage answers a GET of a path under a campaign's pages (or the
// campaign file's gallery) that is none of them: 404 naming the path,
// with a link to the campaign's page (or the gallery).
func (s *Server) noPage(w http.ResponseWriter, r *http.Request) {
	back, to := "/file/gallery", "the gallery"
	pages := "The campaign file's gallery is /file/gallery, each email at /file/gallery/LANG/html or /file/gallery/LANG/eml."
	if c := r.PathValue("campaign"); c != "" {
		back, to = "/c/"+url.PathEscape(c), "the page of campaign "+c
		pages = "A campaign's pages are its state (/c/CAMPAIGN), its gallery (/c/CAMPAIGN/gallery, each email at /c/CAMPAIGN/gallery/LANG/html or /c/CAMPAIGN/gallery/LANG/eml) and its recipients (/c/CAMPAIGN/recipients)."
	}
	msg := fmt.Sprintf("There is no such page as %q. %s", r.URL.Path, pages)
	if wantsJSON(r) {
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "message": msg})
		return
	}
	w.WriteHeader(http.StatusNotFound)
	s.render(w, r, "message", map[string]any{"Title": http.StatusText(http.StatusNotFound), "Message": msg, "Back": back, "BackTo": to})
}

// galleryPart serves one email of the gallery: its HTML (for the frame) or
// the complete message (.eml).
func (s *Server) galleryPart(w http.ResponseWriter, r *http.Request, src *source) {
	lang, part := r.PathValue("lang"), r.PathValue("part")
	if v := r.FormValue("v"); v != "" && v != src.version {
		s.refuse(w, r, http.StatusConflict, "What the gallery renders from changed since its page was rendered: reload the gallery, and see the new version.")
		return
	}
	q := strings.TrimSpace(r.FormValue("r"))
	asked := fmt.Sprintf("There is no %s of the %q email of campaign %s", part, lang, src.camp.Name)
	if q != "" {
		asked += fmt.Sprintf(" for %q", q)
	}
	if part != "html" && part != "eml" {
		s.noEmail(w, r, src, q, fmt.Sprintf("There is no part %q of an email: ask for html (the message as its frame shows it) or eml (the whole message).", part))
		return
	}
	if problem := langProblem(src, lang); problem != "" {
		s.noEmail(w, r, src, q, asked+": "+problem)
		return
	}
	rc, real := s.sample(lang), false
	if q == "" { // the message the language's card shows
		chosen, samples, err := src.chosen(r.Context())
		if err != nil {
			s.sourceError(w, r, src, err)
			return
		}
		first, ok := chosen[lang]
		if sm := samples[lang]; !ok && sm != nil && sm.Invalid > 0 {
			s.noEmail(w, r, src, q, asked+": "+noneValid(lang, sm))
			return
		}
		if ok {
			rc, real = first, true
		}
	}
	if q != "" {
		found, l, problem, err := s.pick(r.Context(), src, q)
		switch {
		case err != nil:
			s.sourceError(w, r, src, err)
			return
		case problem != "":
			s.noEmail(w, r, src, q, asked+". "+problem)
			return
		case l != lang:
			s.noEmail(w, r, src, q, fmt.Sprintf("%s: %s (line %d, locale %q) is sent in %s, not %s; the gallery shows their message.", asked, found.Email, found.Line, found.Locale, l, lang))
			return
		}
		rc, real = found, true
	}
	k := s.card(src, lang, rc, real, false)
	if !k.Covered || k.Unshown != "" {
		s.noEmail(w, r, src, q, asked+": "+k.Problem+k.Unshown)
		return
	}
	switch part {
	case "html":
		h := w.Header()
		h.Set("Content-Security-Policy", mailCSP)
		h.Set("X-Frame-Options", "SAMEORIGIN")
		h.Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, k.html)
	case "eml":
		w.Header().Set("Content-Type", "message/rfc822")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", src.camp.Name+"-"+lang+".eml"))
		_, _ = w.Write(k.eml)
	}
}

func (s *Server) stagedGallery(w http.ResponseWriter, r *http.Request) {
	src, err := s.stagedSource(r.Context(), r.PathValue("campaign"), r.FormValue("b"))
	if err != nil {
		s.readError(w, r, err)
		return
	}
	s.gallery(w, r, src, "Gallery "+src.camp.Name)
}

func (s *Server) stagedGalleryPart(w http.ResponseWriter, r *http.Request) {
	src, err := s.stagedSource(r.Context(), r.PathValue("campaign"), r.FormValue("b"))
	if err != nil {
		s.readError(w, r, err)
		return
	}
	s.galleryPart(w, r, src)
}

func (s *Server) fileGallery(w http.ResponseWriter, r *http.Request) {
	src, err := s.fileSource()
	if err != nil {
		s.fileProblem(w, r, err)
		return
	}
	s.gallery(w, r, src, "Gallery "+src.camp.Name+" (campaign file)")
}

func (s *Server) fileGalleryPart(w http.ResponseWriter, r *http.Request) {
	src, err := s.fileSource()
	if err != nil {
		s.fileProblem(w, r, err)
		return
	}
	s.galleryPart(w, r, src)
}
