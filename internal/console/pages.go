package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"html/template"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/writehold"
)

// view is what every page template sees.
type view struct {
	Title      string
	Env        string
	EnvLabel   string // the environment as the bar at the top names it
	Production bool
	Colour     string
	User       *User
	Operator   bool
	CSRF       string
	Now        time.Time
	Data       any
}

// render executes page template name with data inside the common view.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	v := view{Env: s.cfg.Env, EnvLabel: envLabel(s.cfg.Env, s.cfg.Production), Production: s.cfg.Production, Colour: s.colour, Now: s.cfg.Clock(), Data: data}
	if m, ok := data.(map[string]any); ok {
		if t, ok := m["Title"].(string); ok {
			v.Title = s.title(t)
		}
	}
	if v.Title == "" {
		v.Title = s.title(name)
	}
	if ss := sessionOf(r); ss != nil {
		v.User, v.Operator, v.CSRF = ss.user, ss.user.Role >= RoleOperator, ss.csrf()
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, v); err != nil {
		s.log.Error("console: render page", "page", name, "err", err)
		http.Error(w, "the page could not be rendered; see the console's log", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(buf.Bytes())
}

// envLabel is environment env as the bar at the top names it: PRODUCTION
// before a production environment's name, unless that name says it
// already (the bar shows it upper-case: never "PRODUCTION · PRODUCTION").
func envLabel(env string, production bool) string {
	if env == "" {
		env = "no environment"
	}
	if production && !strings.EqualFold(env, "production") {
		return "PRODUCTION · " + env
	}
	return env
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// overview is one campaign as the campaigns page and the metrics see it.
type overview struct {
	Name  string
	St    *store.Status
	Err   string
	Done  int64   // recipients done: an outcome other than cancelled (statusview.Handled)
	Pct   float64 // Done / Total, in percent
	Since time.Time
	Stall time.Duration // time since the last progress while work is released
	Needs string        // what needs a human, empty when nothing does
	Lost  string        // the chunks Redis lost (statusview.ListNote), empty when none
	// Held says, on the campaign's page, that Redis refuses the writes of
	// the running campaign (writehold), why and what follows; empty when
	// it accepts them or was not asked.
	Held string
	// InDoubt says that recipients are in doubt and what to do about them,
	// empty when none is.
	InDoubt string
	// Recover and LostChunks are what to run after a state-loss pause
	// and after Redis lost chunks (nextstep.Files.Advice, with the
	// campaign file this host's start record keeps), each empty when
	// there is none.
	Recover, LostChunks string
	// needsViewer is Needs for a viewer, when it differs: a viewer cannot
	// act, so is told who can (NeedsFor).
	needsViewer string
}

// NeedsFor is what needs a human, worded for an operator or for a viewer.
func (o overview) NeedsFor(operator bool) string {
	if !operator && o.needsViewer != "" {
		return o.needsViewer
	}
	return o.Needs
}

// overviewOf reads campaign c's status and what needs a human.
func (s *Server) overviewOf(ctx context.Context, c string) overview {
	o := overview{Name: c}
	// One whose first staging runs is listed in that state (only a pause
	// acts on it), as tidings status --env lists it.
	st, err := statusview.One(ctx, s.cfg.Store, c, s.cfg.Env)
	if err != nil {
		o.Err = err.Error()
		return o
	}
	o.St = st
	o.Lost = statusview.ListNote(st)
	files := nextstep.FilesIn(s.cfg.StateDir)
	if statusview.Next(st) == store.NextRecover {
		o.Recover = files.Advice(store.NextRecover, c, st.Env)
	}
	if len(st.LostChunks) > 0 {
		o.LostChunks = files.Advice(store.NextLostChunks, c, st.Env)
	}
	o.Done = statusview.Handled(st.Counts)
	o.Pct = statusview.Percent(o.Done, st.Total)
	// Redis's now, read with the status: its times are Redis's.
	now := statusview.ReadAt(st, s.cfg.Clock())
	o.Since = st.LastProgress // zero: no outcome recorded yet
	if stalled := st.Stalled(); !stalled.IsZero() {
		o.Stall = now.Sub(stalled)
	}
	if n := st.Counts[store.OutcomeInDoubt]; n > 0 {
		o.InDoubt = nextstep.InDoubt(n, c, st.Env)
	}
	switch st.State {
	case store.StateAwaitingApproval:
		o.Needs = "Canary sent: check it, then approve."
		o.needsViewer = fmt.Sprintf("Canary sent: check every language's messages; an operator approves it (tidings approve %s --env %s, or the console signed in as an operator).", c, st.Env)
	case store.StatePaused:
		o.Needs = "Paused: " + st.Reason
	case store.StateBeingStaged:
		o.Needs = "B" + nextstep.BeingStaged(st)[1:] + "." // as tidings status --env lists it
	case store.StateStagingInterrupted, store.StateRestagingInterrupted:
		what := map[store.State]string{store.StateStagingInterrupted: "Never finished staging", store.StateRestagingInterrupted: "Never finished staging again"}[st.State]
		begun := "begun by " + st.By
		if !st.At.IsZero() {
			begun += " at " + st.At.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		o.Needs = fmt.Sprintf("%s: %s; no worker sends it%s. Next, %s.", what, begun, pausedWhileStaging(st), files.HintOf(st.Control.Next(), st))
	case store.StateRunning:
		if o.Stall >= time.Minute {
			o.Needs = fmt.Sprintf("No progress for %s: %s.", o.Stall.Round(time.Second), statusview.StallAdvice(st))
		}
	}
	return o
}

// pausedWhileStaging says, of a campaign whose staging has not ended, the
// pause made meanwhile ("; paused meanwhile by ...", in the words of
// nextstep.PausedWhileStaging, which status says too), "" when none was.
func pausedWhileStaging(st *store.Status) string {
	if p := nextstep.PausedWhileStaging(st); p != "" {
		return "; " + p
	}
	return ""
}

// overviews reads every campaign, the ones that need a human first.
func (s *Server) overviews(ctx context.Context) ([]overview, error) {
	names, err := s.cfg.Store.List(ctx, s.cfg.Env)
	if err != nil {
		return nil, err
	}
	out := make([]overview, 0, len(names))
	for _, c := range names {
		out = append(out, s.overviewOf(ctx, c))
	}
	slices.SortStableFunc(out, func(a, b overview) int {
		return rank(a) - rank(b)
	})
	return out, nil
}

// rank orders campaigns: needing a human (chunks Redis lost, and
// recipients in doubt of one that can still send, among them), then
// running, then finished ones with recipients in doubt, then the rest.
// Nothing acknowledges recipients in doubt (report lists them, retry
// never re-queues them): a finished campaign with some would otherwise
// stay above every live one until Redis drops it; its row still flags
// them.
func rank(o overview) int {
	switch {
	case o.Needs != "" || o.Lost != "" || o.Err != "", o.InDoubt != "" && !o.St.State.Finished():
		return 0
	case o.St.State == store.StateRunning || o.St.State == store.StateStaged:
		return 1
	case o.InDoubt != "":
		return 2
	}
	return 3
}

// redisWait bounds each read of a live page and of the on-call pages
// (campaigns, campaign): a Redis that accepts connections and answers
// nothing is then said to be unreachable within seconds, rather than
// after every command's timeouts and retries (a minute and more).
const redisWait = 5 * time.Second

func (s *Server) campaignsPage(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), redisWait)
	defer cancel()
	page := map[string]any{"Title": "Campaigns"}
	live, err := s.fragment(ctx, "campaigns-live", s.campaignsData, r)
	if err != nil {
		s.unreadable(w, r, "campaigns", page, err)
		return
	}
	page["Live"], page["Version"] = live, liveVersion(live)
	s.render(w, r, "campaigns", page)
}

// unreadable answers a live page (name, with data) whose first read of
// Redis failed: when Redis could not be read, the page itself (503) with
// the live part's alert in place of its figures, so that it goes on
// trying as its live part does and fills in once Redis answers (its
// actions hidden until the campaign's state is known); any other error
// (an unknown campaign, ...) as storeError does.
func (s *Server) unreadable(w http.ResponseWriter, r *http.Request, name string, data map[string]any, err error) {
	msg, unread := s.liveProblem(r.PathValue("campaign"), err)
	if !unread || wantsJSON(r) {
		s.storeError(w, r, err)
		return
	}
	s.log.Error("console: store", "path", r.URL.Path, "err", err)
	data["Live"] = problemHTML(msg, unread)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	s.render(w, r, name, data)
}

// problemHTML is msg as the alert a live page shows in place of its
// figures; unread marks it data-not-live (Redis could not be read).
func problemHTML(msg string, unread bool) template.HTML {
	attr := ""
	if unread {
		attr = ` data-not-live="cannot read Redis; retrying"`
	}
	// An alert: a screen reader announces it when it replaces the figures.
	return template.HTML(`<p class="alert" role="alert"` + attr + `>` + template.HTMLEscapeString(msg) + `</p>`) // #nosec: escaped
}

func (s *Server) campaignsData(ctx context.Context) (any, error) {
	list, err := s.overviews(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(list))
	for i, o := range list {
		names[i] = o.Name
	}
	// The campaigns this host started, or whose deliveries its journal
	// holds, that Redis has no trace of, as tidings status --env ENV names
	// them on this host.
	// Freed only while Redis keeps the ledger (StartedMissing).
	lost, freed, _ := statusview.StartedMissing(ctx, s.cfg.Store, s.cfg.StateDir, s.cfg.Env, names)
	gone := strings.TrimSpace(statusview.Gone(lost, s.cfg.Env) + " " +
		statusview.FreedList(freed, s.cfg.Env) + " " +
		statusview.Journaled(launch.Journaled(s.cfg.JournalDir, s.cfg.StateDir, names), s.cfg.Env, s.cfg.JournalDir))
	return map[string]any{"Campaigns": list, "Gone": gone}, nil
}

func (s *Server) campaignsLive(w http.ResponseWriter, r *http.Request) {
	s.stream(w, r, "campaigns-live", s.campaignsData)
}

// campaignData is the live part of the campaign page.
func (s *Server) campaignData(c string) func(ctx context.Context) (any, error) {
	return func(ctx context.Context) (any, error) {
		o := s.overviewOf(ctx, c)
		if o.St == nil {
			if _, err := s.cfg.Store.Meta(ctx, c, false); err != nil {
				return nil, err
			}
			return nil, errors.New(o.Err)
		}
		// Asked of a running campaign only, once a refresh (LiveInterval).
		if h := writehold.Of(ctx, s.cfg.Store.Client(), o.St, s.environment()); h != nil {
			o.Held = h.Says(o.St.Env)
		}
		audit := slices.Clone(o.St.Audit)
		slices.Reverse(audit)
		return map[string]any{"O": o, "Audit": audit}, nil
	}
}

// environment is Config.Environment, or one of Config.Env's name.
func (s *Server) environment() *environment.Environment {
	if s.cfg.Environment != nil {
		return s.cfg.Environment
	}
	return &environment.Environment{Name: s.cfg.Env}
}

func (s *Server) campaignPage(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("campaign")
	ctx, cancel := context.WithTimeout(r.Context(), redisWait)
	defer cancel()
	d, err := s.campaignData(c)(ctx)
	if err != nil {
		s.unreadable(w, r, "campaign", map[string]any{"Title": c, "Name": c, "State": "", "Stage": ""}, err)
		return
	}
	live, err := s.execute("campaign-live", d, r)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	o := d.(map[string]any)["O"].(overview)
	// The title names the state too: the tab on-call switches to, and
	// the first thing a screen reader reads (console.js keeps it current).
	s.render(w, r, "campaign", map[string]any{"Title": c + " · " + string(o.St.State), "Name": c, "Live": live, "Version": liveVersion(live), "State": actionsOf(o.St), "Stage": o.St.Stage,
		"Failed": o.St.Counts[store.OutcomeFailed]})
}

func (s *Server) campaignLive(w http.ResponseWriter, r *http.Request) {
	s.stream(w, r, "campaign-live", s.campaignData(r.PathValue("campaign")))
}

// execute renders a fragment template to HTML for r's user: what needs a
// human is worded for an operator or a viewer, and an operator's actions
// carry the session's CSRF token.
func (s *Server) execute(name string, data any, r *http.Request) (template.HTML, error) {
	v := view{Env: s.cfg.Env, Now: s.cfg.Clock(), Data: data}
	if ss := sessionOf(r); ss != nil {
		v.Operator, v.CSRF = ss.user.Role >= RoleOperator, ss.csrf()
	}
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, v); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return template.HTML(buf.String()), nil // #nosec: produced by html/template
}

// fragment reads data and renders fragment name with it.
func (s *Server) fragment(ctx context.Context, name string, data func(context.Context) (any, error), r *http.Request) (template.HTML, error) {
	d, err := data(ctx)
	if err != nil {
		return "", err
	}
	return s.execute(name, d, r)
}

// lineEnds turns every line end an event stream knows (CR, LF, CRLF)
// into LF: each line of a fragment is then one data line, and a bare CR
// (in a pause reason) does not end a data line early.
var lineEnds = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// liveVersion names a live part's HTML: each live event carries it as
// its id, and a page the version of the live part it shows (?v= of its
// stream, then the browser's Last-Event-ID), so that a stream sends the
// live part only when it differs from what the page shows.
func liveVersion(h template.HTML) string {
	f := fnv.New64a()
	_, _ = io.WriteString(f, string(h))
	return strconv.FormatUint(f.Sum64(), 36)
}

// linePatch is the data lines of a patch from old to now (each line of
// now that differs from old's: "data: INDEX\tLINE"), or nil when a patch
// does not apply (nothing sent before, a line added or taken out) or is
// not much smaller than the whole.
func linePatch(old, now []string) []byte {
	if old == nil || len(old) != len(now) {
		return nil
	}
	var p bytes.Buffer
	whole := 0
	for i, line := range now {
		whole += len(line) + 7
		if line != old[i] {
			p.WriteString("data: " + strconv.Itoa(i) + "\t" + line + "\n")
		}
	}
	if p.Len() > whole/2 {
		return nil
	}
	return p.Bytes()
}

// stream sends fragment name as a server-sent event "live" whenever it
// changes (read every LiveInterval), until the client goes away or the
// session it was opened in ends. A Redis error is shown in place of the
// fragment, and reading goes on; when Redis cannot be read, the alert
// carries data-not-live, by which the page's badge stops saying "live".
//
// A change of the lines this stream last sent, as many as before (a
// running campaign's figures: its counts, a language's, the current
// batch's row), is sent as an event "patch": its first data line the
// version it applies to, then each line changed as its index, a tab and
// the line (linePatch): a few KB a second instead of the whole live part.
//
// Each event's id is the fragment's version (liveVersion). A client that
// already shows the fragment as it is (the page just loaded, whose
// stream's ?v= is the version it was rendered with; a browser that
// reconnects, whose Last-Event-ID is the last event it had) is sent a
// one-line "unchanged" comment instead of the whole fragment again (126
// KB at 200,000 recipients, mostly the list of batches).
func (s *Server) stream(w http.ResponseWriter, r *http.Request, name string, data func(context.Context) (any, error)) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.FormValue("v")
	}
	first := true
	var sent []string // the live part's lines as this stream last sent them (the page then has them)
	lastWrite := time.Time{}
	t := time.NewTicker(s.cfg.LiveInterval)
	defer t.Stop()
	ss := sessionOf(r)
	for {
		ctx, cancel := context.WithTimeout(r.Context(), redisWait)
		html, err := s.fragment(ctx, name, data, r)
		cancel()
		// The stream lives no longer than the session it was opened in:
		// once that ends, it ends (the browser's reconnect is refused, and
		// the page says signed out). Checked after the read, so that what
		// Redis said after the session ended is never written.
		if ss == nil || s.cfg.Clock().Unix() >= ss.exp {
			return
		}
		if err != nil {
			if r.Context().Err() != nil {
				return
			}
			html = problemHTML(s.liveProblem(r.PathValue("campaign"), err))
		}
		var msg bytes.Buffer
		switch v := liveVersion(html); {
		case v != last:
			lines := strings.Split(lineEnds.Replace(string(html)), "\n")
			if p := linePatch(sent, lines); p != nil {
				msg.WriteString("event: patch\nid: " + v + "\ndata: " + last + "\n")
				msg.Write(p)
			} else {
				msg.WriteString("event: live\nid: " + v + "\n")
				for _, line := range lines {
					msg.WriteString("data: " + line + "\n")
				}
			}
			msg.WriteString("\n")
			last, sent = v, lines
		case first:
			// The client shows this version: the headers and a line say
			// the stream is open (the page's badge says "live").
			msg.WriteString(": unchanged\n\n")
		case time.Since(lastWrite) > 15*time.Second:
			msg.WriteString(": still here\n\n")
		}
		first = false
		if msg.Len() > 0 {
			if _, err := w.Write(msg.Bytes()); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			lastWrite = time.Now()
		}
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
	}
}

// liveProblem words an error of a live page's read (c: its campaign, ""
// for the campaigns page): Redis that does not answer, or one that answers
// that the campaign is not there (Redis lost it), is not this
// environment's, or is being staged. The page keeps trying either way. It
// reports whether Redis could not be read (nothing on the page is current
// then).
func (s *Server) liveProblem(c string, err error) (string, bool) {
	if status, msg := s.advice(c, "", err); status != http.StatusServiceUnavailable {
		return msg + " This page keeps checking.", false
	}
	return "Cannot read Redis right now (" + err.Error() + "); retrying every second. " + s.unreadAdvice(c), true
}

// unreadAdvice says what on-call can do while the console cannot read
// Redis (c: the campaign, "" for the campaigns page): workers that reach
// Redis may still be sending, so it names the command that stops the
// campaign from a host that reaches Redis, and the one that says what is
// wrong.
func (s *Server) unreadAdvice(c string) string {
	what, name := "it", c
	if c == "" {
		what, name = "a campaign", "CAMPAIGN"
	}
	flag := s.envFlag()
	return fmt.Sprintf(`Workers that reach Redis may still be sending: to stop %s now, run tidings pause %s%s --reason "..." from a host that reaches Redis; tidings doctor%s says what is wrong.`,
		what, name, flag, flag)
}

// storeError answers a store error: 404 for an unknown campaign, 409 for an
// action the campaign's state does not allow or chunks Redis lost, 503 when
// Redis fails. All but the first two are logged as errors (a lost chunk
// is lost data); a campaign being staged is an expected state, logged at
// info with the campaign.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := s.advice(r.PathValue("campaign"), r.PathValue("action"), err)
	var te *store.TransitionError
	switch {
	case errors.As(err, new(*store.BeingStagedError)):
		s.log.Info("console: campaign being staged", "campaign", r.PathValue("campaign"), "path", r.URL.Path, "err", err)
	case status != http.StatusNotFound && !errors.As(err, &te) && !errors.As(err, new(*store.MetaLostError)): // a refusal, not a failure
		s.log.Error("console: store", "path", r.URL.Path, "err", err)
	}
	c := r.PathValue("campaign")
	if status == http.StatusNotFound { // its page is not there either
		c = ""
	}
	s.refuseAbout(w, r, status, msg, c)
}

// noun names what an action does, for messages.
func noun(action string) string {
	if action == "approve" {
		return "approval"
	}
	return action
}

// advice words an error of the store for the person who pressed a button
// or opened a page about campaign c (action: "" for a page): what happened,
// whether the action took effect, and what to do.
func (s *Server) advice(c, action string, err error) (int, string) {
	var te *store.TransitionError
	var ae *store.AckError
	var rp *redisconn.ReplyError
	var lost *store.LostChunksError
	var other *store.EnvError
	var staging *store.BeingStagedError
	var leaseLost *store.LeaseLostError
	var unfinished *store.UnfinishedStagingError
	var meta *store.MetaLostError
	env, flag := s.cfg.Env, s.envFlag()
	switch {
	case errors.As(err, &meta) && meta.Action != "": // as its page and tidings resume say it, with its recovery
		return http.StatusConflict, sentence(meta.Error() + ": " + nextstep.FilesIn(s.cfg.StateDir).Hint(store.NextRecover, c, env))
	case errors.As(err, new(*store.ReplyCodeError)):
		return http.StatusBadRequest, err.Error() + ". Nothing was re-queued."
	case errors.As(err, &staging) && action == "": // a page of it: its recipients (the report), its gallery
		return http.StatusConflict, sentence(nextstep.NoReportYet(staging) + "; open this page again once its send ends")
	case errors.As(err, &staging):
		return http.StatusConflict, staging.Error() + "."
	case errors.As(err, &leaseLost): // Redis answered: nothing was removed, for sure
		return http.StatusConflict, sentence(leaseLost.Error())
	case errors.As(err, &unfinished):
		return http.StatusNotFound, unfinished.Error() + "."
	case errors.As(err, new(*store.FormatError)):
		// A campaign staged by a build of another stored format: only a
		// pause is taken from this build (store.FormatError).
		return http.StatusConflict, sentence(err.Error()) + " Nothing was changed."
	case errors.As(err, &other):
		msg := fmt.Sprintf("%s (in the console of %s).", other.Error(), other.Env)
		if action != "" {
			msg += " Nothing was changed."
		}
		return http.StatusConflict, msg
	case errors.Is(err, store.ErrNotFound):
		hint := ""
		nf := (*store.NotFoundError)(nil)
		if errors.As(err, &nf) {
			hint = nf.DidYouMean()
		}
		switch { // as tidings status says it on this host
		case nf != nil && (launch.Started(s.cfg.StateDir, env, c) || nf.Freed != nil && nf.Ledger > 0): // freed (on any host) only while Redis keeps its ledger
			return http.StatusNotFound, sentence(nextstep.LostKept(s.cfg.StateDir, env, nf))
		case launch.Started(s.cfg.StateDir, env, c):
			return http.StatusNotFound, sentence(nextstep.LostIn(s.cfg.StateDir, c, env))
		}
		return http.StatusNotFound, fmt.Sprintf("There is no campaign %q in environment %s%s: it was never staged here, or Redis lost it. The campaigns page lists those it has.", c, env, hint)
	case errors.As(err, &te):
		msg := fmt.Sprintf("Cannot %s %s: the campaign is %s.", te.Action, c, te.State)
		switch {
		case te.PausedFor == "staging":
			msg = sentence(nextstep.FilesIn(s.cfg.StateDir).Staging(te.Action, c, env, te.FirstStaging))
		case te.PausedFor == store.StagedAgain && te.Action == "cancel":
			msg = fmt.Sprintf("Not cancelled: %s was staged again since this page was loaded, and it is %s now; nothing was changed. Reload the page to see the new staging, then cancel it if you still mean to.", c, te.State)
		case te.PausedFor == store.StagedAgain:
			msg = fmt.Sprintf("Not approved: %s was staged again since this page was loaded, and the new staging's canary may be other people. Reload the page, check the canary in the gallery and the recipients page, then approve.", c)
		case te.PausedFor == store.NoCanary:
			msg = sentence(nextstep.NoCanary(c))
		case te.PausedFor == store.CanaryRunning:
			msg = sentence(nextstep.CanaryNotDone(te, env))
		case te.PausedFor == "state-loss":
			msg += " A worker paused it because Redis forgot deliveries its journal holds: resuming would send them again. Cancel it, then stage it again with send --resume-existing --exclude-delivered and every worker's journal directory."
		case te.Action == "resume" && te.State == store.StateAwaitingApproval:
			msg += " Check the canary in the gallery and the recipients page, then press Approve."
		case te.State == store.StateCancelled:
			msg += " A cancelled campaign does not run again; to send to those not yet sent, stage it again with send --resume-existing (nobody already sent is sent again)."
		case te.State.Finished():
			msg += " Nothing is left to " + te.Action + "."
		default:
			msg += " Reload the page: someone else may have acted on it."
		}
		return http.StatusConflict, msg
	case errors.As(err, &ae):
		return http.StatusServiceUnavailable, fmt.Sprintf("The %s reached the Redis master and workers follow it, but only %d of the %d replicas required acknowledged it in time: a failover now could undo it. Check the replicas (tidings doctor%s), then reload this page and press again if it did not hold.", noun(action), ae.Got, ae.Want, flag)
	case errors.As(err, &lost):
		what := "their recipients cannot be listed"
		if action != "" {
			what = fmt.Sprintf("the %s was applied to every other recipient, not to theirs", noun(action))
		}
		return http.StatusConflict, fmt.Sprintf("Redis lost part of this campaign's state (chunks %v): %s. Check Redis (tidings doctor%s); who was sent is in the workers' delivery journals (tidings report %s --journal JOURNAL_DIR).", lost.Chunks, what, flag, c)
	case errors.As(redisconn.Explain(err), &rp):
		// Redis answered with an error (a replica during a failover, out of
		// memory, ...), possibly after a first write.
		if action != "" {
			return http.StatusServiceUnavailable, fmt.Sprintf("Redis refused the %s (%v): it may not have taken effect; reload the page to see the campaign's state. %s", noun(action), rp.Err, rp.Advice)
		}
		return http.StatusServiceUnavailable, fmt.Sprintf("Redis answered with an error (%v). %s", rp.Err, rp.Advice)
	case action != "":
		return http.StatusServiceUnavailable, fmt.Sprintf("Redis did not answer (%v): the %s may not have been applied. Reload the page to see the campaign's state, and press again if needed; if Redis stays unreachable, use the CLI from a host that reaches it.", err, noun(action))
	}
	return http.StatusServiceUnavailable, fmt.Sprintf("Redis did not answer (%v): reload the page in a moment; tidings doctor%s says what is wrong.", err, flag)
}

// envFlag is " --env ENV" for the commands a message names, "" for a
// console of a campaign file alone (no environment: never an empty flag
// value).
func (s *Server) envFlag() string {
	if s.cfg.Env == "" {
		return ""
	}
	return " --env " + s.cfg.Env
}

// pastOf is what an action does, said of a campaign it was not done to:
// "Not paused" (the actions there are).
var pastOf = map[string]string{"pause": "paused", "resume": "resumed", "approve": "approved", "cancel": "cancelled", "retry": "re-queued"}

// judgeFailed words a failed judgement of the replica acknowledgements
// (Config.Judge), which runs before the action: the action was not
// attempted, so nothing was changed, unlike advice's "may not have been
// applied" of a write sent that Redis did not answer.
func (s *Server) judgeFailed(action string, err error) string {
	why, then := err.Error(), ""
	var rp *redisconn.ReplyError
	if errors.As(redisconn.Explain(err), &rp) {
		why, then = rp.Err.Error(), " "+rp.Advice
	}
	return fmt.Sprintf("Not %s: before each action the console reads from Redis how many replicas must acknowledge it (redis.min_replica_acks auto), and that read failed (%s). The %s was not attempted: nothing was changed.%s Press %s again in a moment; if it fails again, check Redis (tidings doctor%s) or use the CLI from a host that reaches it.",
		pastOf[action], why, noun(action), then, strings.ToUpper(action[:1])+action[1:], s.envFlag())
}

// action runs one on-call action on a campaign, through the same store
// operation as the CLI command, recorded as the signed-in user.
func (s *Server) action(w http.ResponseWriter, r *http.Request) {
	c, act := r.PathValue("campaign"), r.PathValue("action")
	ss := sessionOf(r)
	actor := store.Actor{Who: ss.user.Name + " (console)", Host: s.cfg.Host, Env: s.cfg.Env}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	ctx := r.Context()
	if _, known := pastOf[act]; known && s.cfg.Judge != nil {
		if err := s.cfg.Judge(ctx); err != nil { // nothing attempted yet
			s.log.Error("console: judge the replica acknowledgements", "campaign", c, "action", act, "err", err)
			s.refuse(w, r, http.StatusServiceUnavailable, s.judgeFailed(act, err))
			return
		}
	}
	var msg string
	var err error
	switch act {
	case "pause":
		if reason == "" {
			s.refuse(w, r, http.StatusBadRequest, "Say why you pause: the reason is recorded in the audit log and shown to everyone.")
			return
		}
		var already *store.Control
		already, err = s.cfg.Store.Pause(ctx, c, actor, reason)
		if already == nil && err == nil { // claims held now finish: how many
			msg = "Paused. " + store.SayPaused(s.cfg.Store.InFlight(ctx, c))
		}
		msg = already.AlreadyOr("It", "pause", msg)
	case "resume":
		var already *store.Control
		already, err = s.cfg.Store.Resume(ctx, c, actor, reason)
		msg = already.AlreadyOr("It", "resume", "Resumed where it stopped. Nobody already sent is sent again.")
		if already == nil && err == nil { // resuming does not approve, as `tidings resume` says
			if ahead := nextstep.AfterResume(ctx, s.cfg.Store, c, s.cfg.Env); ahead != "" {
				msg += " " + ahead + "."
			}
		}
	case "approve":
		// Of the staging the page showed: one staged again since may have
		// another canary, which nobody has looked at.
		stage := r.PostFormValue("stage")
		if stage == "" {
			s.refuse(w, r, http.StatusBadRequest, "This approval names no staging (a page from an older console?): reload the page, check the canary, then approve.")
			return
		}
		var already *store.Control
		already, err = s.cfg.Store.Approve(ctx, c, stage, false, actor, reason)
		msg = already.AlreadyOr("It", "approve", "Approved: the batches after the canary are released as planned, the next one once the canary is done and the campaign's interval since then has passed (at once if it has); a paused campaign stays paused until resumed.")
		if unseen := nextstep.UnseenInCanary(ctx, s.cfg.Store, c, s.cfg.Env); already == nil && err == nil && unseen != "" {
			msg += " " + unseen
		}
	case "cancel":
		if reason == "" {
			s.refuse(w, r, http.StatusBadRequest, "Say why you cancel: the reason is recorded in the audit log.")
			return
		}
		if strings.TrimSpace(r.PostFormValue("confirm")) != c {
			s.refuse(w, r, http.StatusBadRequest, fmt.Sprintf("Type the campaign name (%s) to confirm the cancel.", c))
			return
		}
		// Of the staging the page showed, as an approval: one staged again
		// since is not what the operator chose to stop for good. (A page
		// of a staging that never ended, begun by an earlier version,
		// names none: it posts the field empty.)
		stage := r.PostFormValue("stage")
		if _, named := r.PostForm["stage"]; !named {
			s.refuse(w, r, http.StatusBadRequest, "This cancel names no staging (a page from an older console?): reload the page, check what it shows, then cancel.")
			return
		}
		var n store.Cancelled
		var already *store.Control
		n, already, err = s.cfg.Store.CancelStaging(ctx, c, stage, actor, reason)
		msg = n.Answer("It", "Cancelled: ", already, "this page shows the final count once they are.")
	case "retry":
		// Permanent failures too only from the form that says what they are.
		scope := store.RetryScope{Permanent: r.PostFormValue("permanent") != "", Code: strings.TrimSpace(r.PostFormValue("code"))}
		var rt store.Retried
		rt, err = s.cfg.Store.Requeue(ctx, c, actor, scope)
		msg = fmt.Sprintf("Re-queued %d %s.", rt.N, scope)
		if rt.Paused {
			msg += " The campaign is paused: they go out once it is resumed."
		}
		if more := nextstep.CanaryRequeued(rt, c, s.cfg.Env); more != "" {
			msg += " " + more
		}
		if err == nil && scope == (store.RetryScope{}) { // what a retry of temporary failures leaves, as `tidings retry` says
			if still := nextstep.AfterRetry(ctx, s.cfg.Store, c, s.cfg.Env); still != "" {
				msg += " " + still
			}
		}
	default:
		s.refuse(w, r, http.StatusNotFound, "No such action.")
		return
	}
	s.log.Info("console: action", "campaign", c, "action", act, "user", ss.user.Name, "reason", reason, "ok", err == nil)
	if errors.As(err, new(*store.LostChunksError)) {
		// Done for every recipient but the lost chunks': say how many, as
		// the CLI does, then what was lost.
		s.log.Error("console: store", "path", r.URL.Path, "err", err)
		status, advice := s.advice(c, act, err)
		s.refuse(w, r, status, msg+" "+advice)
		return
	}
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if wantsJSON(r) {
		// The state after it: the page marks the answer as past once the
		// campaign is in another state (someone else acted since).
		answer := map[string]any{"ok": true, "message": msg}
		sctx, cancel := context.WithTimeout(ctx, redisWait)
		defer cancel()
		if st, err := s.cfg.Store.Status(sctx, c); err == nil {
			answer["state"] = actionsOf(st)
		}
		writeJSON(w, http.StatusOK, answer)
		return
	}
	// A form posted without script: the answer is a page that says what
	// happened, as a refusal's does, never a bare redirect.
	n := noun(act)
	s.render(w, r, "message", map[string]any{"Title": strings.ToUpper(n[:1]) + n[1:] + " of " + c, "Message": msg, "Campaign": c})
}

// sentence makes the CLI's advice (lower-case, no full stop) a sentence of
// the console's.
func sentence(advice string) string {
	return strings.ToUpper(advice[:1]) + advice[1:] + "."
}
