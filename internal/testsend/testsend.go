// Package testsend sends one message per covered catalog language of a
// campaign to a QA inbox, through the environment's SMTP server: the
// message a recipient of that language would get (one real recipient of the
// language from the recipients file where there is one, else sample data),
// its subject prefixed with "[TEST <lang>]". The recipient of a language is
// the first row of it the plan accepts: never one the template cannot be
// rendered with, and such rows are counted. Nothing is queued and no
// recipient is contacted. A language the template does not cover is
// skipped and reported with the recipients who need it; a language that
// cannot be rendered or sent is reported as failed; one with no recipient
// whose sample data cannot render has nothing to show. Recipients whose
// locale no catalog covers are reported as refused, as preview reports
// them, and Result.Untested says what keeps the test from standing for the
// campaign, as preview's exit status does. A test message's Message-ID is
// fresh, at the domain of every recipient's message.
package testsend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/address"
	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/preview"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/unsubscribe"
	"github.com/tidings-mail/tidings/worker"
)

// Outcomes of a language.
const (
	Sent    = "sent"
	Skipped = "skipped" // the template does not cover the language
	Failed  = "failed"  // rendering or sending failed
	// Unshown: no recipient of the language is in the campaign, and the
	// sample data cannot render its message (it lacks a column the
	// template prints); nothing is sent, and this says nothing of what
	// the campaign sends.
	Unshown = "nothing to show"
)

// Config says what to send where.
type Config struct {
	Bundle *bundle.Bundle
	// Env is the environment whose allowlist the plan applies when it
	// picks each language's recipient (nil: none).
	Env  *environment.Environment
	SMTP send.Config
	// To is the QA inbox.
	To string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Language is what happened to one catalog language.
type Language struct {
	Lang    string
	Outcome string   // Sent, Skipped or Failed
	Subject string   // the subject sent (Sent)
	Missing []string // what the catalog lacks (Skipped)
	Err     error    // why it failed (Failed) or has nothing to show (Unshown)
	// Needed counts the recipients whose locale matched the language, as
	// preview counts them: those of a skipped language are refused.
	Needed int
	// Invalid counts the rows of the language the plan counts invalid
	// (the template cannot be rendered with them): not sent, though the
	// language is; InvalidFirst says the first ("file:line: reason").
	Invalid      int
	InvalidFirst string
}

// Result lists every catalog language in the engine's order.
type Result struct {
	Languages []Language
	// Count is the number of languages by outcome.
	Count map[string]int
	// Refused lists, as preview does, the recipients whose locale no
	// catalog covers, by reason: they get no message at all.
	Refused []Refused
	// Prose is the template's literal prose (render.Engine.Prose), named
	// as the operator can open it: sent to every language untranslated
	// here, and why the campaign cannot be staged.
	Prose []render.Problem
	// Unsubscribe is why the campaign's list_unsubscribe names no
	// recipient (unsubscribe.NamesRecipient), nil when it does: the test
	// messages carry it, and plan and send refuse it.
	Unsubscribe error
}

// Refused counts the recipients refused for one reason (their locale
// matches no catalog); Locale is one of their locales. Catalog is, when no
// catalog of their language exists, the file that would cover them, in
// the campaign's locales directory (render.Refusal.Catalog); "" otherwise.
type Refused struct {
	Reason, Locale string
	Count          int
	Catalog        string
}

// ConnectError says that the SMTP server could not be reached: nothing was
// sent.
type ConnectError struct {
	Server string // host:port
	Err    error
}

// Error says what went wrong.
func (e *ConnectError) Error() string {
	return fmt.Sprintf("connect to SMTP server %s: %v", e.Server, e.Err)
}

// Unwrap returns the underlying error.
func (e *ConnectError) Unwrap() error { return e.Err }

// Run sends the test messages, one language after the other on one
// connection. An unreachable server is a *ConnectError; failures of single
// languages are in the result. A QA inbox that is not an address a
// recipients file may hold (package address) is refused before anything is
// sent, with the *address.Error, and then one outside the allowlist of
// cfg.Env.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if _, err := address.Parse(cfg.To); err != nil {
		return nil, fmt.Errorf("the QA inbox %w", err)
	}
	if !cfg.Env.Allowed(cfg.To) { // once it is an address: else its fault is not the allowlist's
		return nil, fmt.Errorf("%s is not in the allowlist of environment %s; test messages go only to allowed addresses: give --to an address it admits, or add this one to the environment's allow (TIDINGS_ALLOW)", cfg.To, cfg.Env.Name)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := cfg.Bundle
	examples, err := b.Samples(ctx, cfg.Env)
	if err != nil {
		return nil, err
	}
	res := &Result{Count: map[string]int{}}
	need, err := res.readLocales(b)
	if err != nil {
		return nil, err
	}
	var secret environment.Secret
	if cfg.Env != nil {
		secret = cfg.Env.UnsubscribeSecret
	}
	compose := worker.NewComposer(b.Campaign, secret)
	if err := compose.Err(); errors.Is(err, unsubscribe.ErrNoSecret) {
		return nil, fmt.Errorf("nothing was sent: %w: set the environment's %s, as for send", err, unsubscribe.SecretSettings)
	}
	pool := send.NewPool(cfg.SMTP, 1)
	defer pool.Close()
	conn, err := pool.Get(ctx)
	if err != nil {
		return nil, &ConnectError{Server: fmt.Sprintf("%s:%d", cfg.SMTP.Host, cfg.SMTP.Port), Err: err}
	}
	defer pool.Put(conn)
	samples := preview.DefaultSamples()
	for _, c := range b.Engine.Languages() {
		l := Language{Lang: c.Lang, Outcome: Failed, Needed: need[c.Lang]}
		sm := examples[c.Lang]
		if sm != nil && sm.Invalid > 0 {
			l.Invalid = sm.Invalid
			l.InvalidFirst = fmt.Sprintf("%s:%d: %s", b.RecipientsPath(), sm.FirstInvalid.Line, sm.FirstInvalid.Reason)
		}
		switch {
		case !c.Covered:
			l.Outcome, l.Missing = Skipped, c.Missing
		case sm != nil && sm.First == nil && sm.Invalid > 0:
			l.Err = &renderError{row: true, err: fmt.Errorf("not sent: none of the %d row(s) of %s can be rendered (the first: %s)", sm.Invalid, c.Lang, l.InvalidFirst)}
		default:
			l.Subject, l.Err = sendOne(ctx, cfg, conn, compose, c.Lang, examples, samples)
			re := (*render.RenderError)(nil)
			switch {
			case l.Err == nil:
				l.Outcome = Sent
			case (sm == nil || sm.First == nil) && errors.As(l.Err, &re) && (re.Cause == render.CauseMissingColumn || re.Cause == render.CauseBadCount):
				l.Outcome = Unshown
			}
		}
		res.Count[l.Outcome]++
		res.Languages = append(res.Languages, l)
	}
	c := b.Campaign
	res.Unsubscribe = unsubscribe.NamesRecipient(c.ListUnsubscribe)
	res.Prose = b.Engine.Prose(func(name string) string {
		return render.ResolvePath(name, c.Path(c.TemplatesDir), c.Path(c.LocalesDir))
	})
	return res, nil
}

// readLocales resolves the locale of every valid row of the recipients
// file, as preview does: it returns the recipients per catalog language
// they matched and records in r.Refused those whose locale no catalog
// covers.
func (r *Result) readLocales(b *bundle.Bundle) (map[string]int, error) {
	need := map[string]int{}
	next, done, err := b.Recipients()
	if err != nil || next == nil {
		return need, err
	}
	defer done()
	refused := map[string]*Refused{}
	for {
		rc, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &bundle.RecipientsError{File: b.File, Path: b.RecipientsPath(), Err: err}
		}
		m, err := b.Engine.Resolve(rc.Locale)
		var ref *render.Refusal
		switch {
		case err == nil:
			need[m.Lang]++
		case !errors.As(err, &ref):
			return nil, fmt.Errorf("resolve locale of %s line %d: %w", b.RecipientsPath(), rc.Line, err)
		case ref.Lang != "":
			need[ref.Lang]++ // an incomplete catalog: skipped below
		case refused[ref.Reason] == nil:
			refused[ref.Reason] = &Refused{Reason: ref.Reason, Locale: rc.Locale, Count: 1}
			if ref.Catalog != "" {
				refused[ref.Reason].Catalog = filepath.Join(b.Campaign.Path(b.Campaign.LocalesDir), ref.Catalog)
			}
		default:
			refused[ref.Reason].Count++
		}
	}
	for _, f := range refused {
		r.Refused = append(r.Refused, *f)
	}
	slices.SortFunc(r.Refused, func(a, b Refused) int { return strings.Compare(a.Reason, b.Reason) })
	return need, nil
}

// Untested says what keeps the test messages from standing for the
// campaign, as preview's exit status does: languages that failed, skipped
// languages some recipient needs, and recipients whose locale no catalog
// covers (nil: nothing). A skipped or unshown language nobody needs is not
// among them.
func (r *Result) Untested() []string {
	skipped, failed, refused := r.untested()
	var out []string
	if skipped > 0 {
		out = append(out, fmt.Sprintf("%d language(s) that recipients need skipped as incomplete", skipped))
	}
	if failed > 0 {
		out = append(out, fmt.Sprintf("%d failed", failed))
	}
	if refused > 0 {
		out = append(out, fmt.Sprintf("%d recipient(s) refused: their locale has no catalog", refused))
	}
	return out
}

// Advice says what to do about what Untested lists, for the campaign
// file campaign in environment env: a skipped language is its catalog's
// (check says where it is incomplete); a locale refused because no
// catalog of its language exists, the catalog file to add (check, which
// reads the catalogs there are, says nothing of it); any other refused
// locale, what its REFUSED line says; a failed language the reason its
// FAIL line gives (an SMTP reply: the QA inbox, the relay or its
// settings, which doctor checks; a row that cannot be rendered).
func (r *Result) Advice(campaign, env string) string {
	skipped, failed, _ := r.untested()
	var out []string
	if skipped > 0 {
		out = append(out, "see where the catalogs are incomplete: tidings check "+campaign)
	}
	var files, langs []string
	other := false // a refusal no catalog file fixes (an unparsable locale, say)
	for _, f := range r.Refused {
		switch {
		case f.Catalog == "":
			other = true
		case !slices.Contains(files, f.Catalog):
			files = append(files, f.Catalog)
			langs = append(langs, strings.TrimSuffix(filepath.Base(f.Catalog), filepath.Ext(f.Catalog)))
		}
	}
	if len(files) > 0 {
		out = append(out, fmt.Sprintf("no catalog of %s exists: add %s with every message the template uses (or map the locale under locale_policy.aliases), then run test-send again",
			strings.Join(langs, ", "), strings.Join(files, ", ")))
	}
	if other {
		whose := "their locales"
		if len(files) > 0 {
			whose = "the other locales"
		}
		out = append(out, "the REFUSED lines above say what to do about "+whose)
	}
	if failed > 0 {
		out = append(out, "the FAIL lines above say why each language failed: fix what they name ("+strings.Join(r.failedAt(env), "; ")+"), then run test-send again")
	}
	return strings.Join(out, "; ")
}

// failedAt names the places the failed languages' reasons point to, each
// once: the QA inbox or the SMTP server (a message that did not go out:
// doctor checks the server and its settings in environment env), a
// recipients row (one that cannot be rendered), the template and its
// catalogs (sample data that cannot be rendered).
func (r *Result) failedAt(env string) []string {
	var smtp, row, tmpl bool
	for _, l := range r.Languages {
		var re *renderError
		switch {
		case l.Outcome != Failed:
		case !errors.As(l.Err, &re):
			smtp = true
		case re.row:
			row = true
		default:
			tmpl = true
		}
	}
	var at []string
	if smtp {
		at = append(at, "the QA inbox, the SMTP server or its settings: tidings doctor --env "+env)
	}
	if row {
		at = append(at, "a recipients row")
	}
	if tmpl {
		at = append(at, "the template or its catalogs")
	}
	return at
}

// renderError is why a language's message could not be rendered, from a
// recipients row (row) or from sample data: it never reached the server.
type renderError struct {
	row bool
	err error
}

func (e *renderError) Error() string { return e.err.Error() }
func (e *renderError) Unwrap() error { return e.err }

// untested counts the languages that failed, the skipped languages some
// recipient needs, and the recipients whose locale no catalog covers.
func (r *Result) untested() (skipped, failed, refused int) {
	for _, l := range r.Languages {
		switch {
		case l.Outcome == Failed:
			failed++
		case l.Outcome == Skipped && l.Needed > 0:
			skipped++
		}
	}
	for _, f := range r.Refused {
		refused += f.Count
	}
	return skipped, failed, refused
}

// sendOne renders and sends the message of language lang.
func sendOne(ctx context.Context, cfg Config, conn *send.Conn, compose *worker.Composer, lang string,
	examples map[string]*plan.Sample, samples map[string]preview.Sample) (string, error) {
	c := cfg.Bundle.Campaign
	d := render.Data{Campaign: c.Name, Data: c.Data}
	requested, fromRow := lang, false
	if sm := examples[lang]; sm != nil && sm.First != nil {
		fromRow = true
		r := sm.First.Recipient
		d.ID, d.Email, d.Name, d.Fields, requested = r.ID, r.Email, r.Name, r.Fields, r.Locale
	} else {
		s, ok := samples[lang]
		if !ok {
			s = samples[""]
		}
		d.ID, d.Email, d.Name, d.Fields = s.Email, s.Email, s.Name, s.Fields
	}
	id := "test-" + lang + "-" + d.ID // the header's: the body's link is the same
	link := compose.Link(id, cfg.To)
	d.Unsubscribe = link.Web()
	out, err := cfg.Bundle.Engine.Render(render.Match{Requested: requested, Lang: lang, Via: render.ViaExact}, d)
	if err != nil {
		return "", &renderError{row: fromRow, err: fmt.Errorf("render: %w", err)}
	}
	out.Subject = fmt.Sprintf("[TEST %s] %s", lang, out.Subject)
	m := compose.Message(id, cfg.To, d.Name, link, out, cfg.Now())
	// A fresh id (QA may test-send many times) at the domain every
	// recipient's message has.
	if at := strings.LastIndexByte(m.MessageID, '@'); at >= 0 {
		m.MessageID = send.MessageID(c.Name, fmt.Sprintf("test-%s-%d", lang, rand.Uint64()), m.MessageID[at+1:])
	}
	if err := conn.Send(ctx, m); err != nil {
		return out.Subject, send.Classify(err)
	}
	return out.Subject, nil
}

// WriteText writes one line per language: what was sent (its subject),
// skipped (what its catalog lacks) or failed (why).
func (r *Result) WriteText(w io.Writer) {
	for _, l := range r.Languages {
		switch l.Outcome {
		case Sent:
			fmt.Fprintf(w, "sent  %-6s %s\n", l.Lang, l.Subject)
			if l.Invalid > 0 {
				fmt.Fprintf(w, "      %-6s %d row(s) of %s invalid, not sent; the first: %s\n", "", l.Invalid, l.Lang, l.InvalidFirst)
			}
		case Skipped:
			fmt.Fprintf(w, "skip  %-6s incomplete: lacks %s%s\n", l.Lang, strings.Join(l.Missing, ", "), neededText(l.Needed))
		case Unshown:
			fmt.Fprintf(w, "none  %-6s nothing to show: the campaign has no recipient of this language, and the sample data cannot render its message: %v\n", l.Lang, l.Err)
		default:
			fmt.Fprintf(w, "FAIL  %-6s %v\n", l.Lang, l.Err)
		}
	}
	for _, f := range r.Refused {
		eg := "e.g. " // the reason's first locale, as preview says it; a lone recipient's is theirs
		if f.Count == 1 {
			eg = ""
		}
		fmt.Fprintf(w, "REFUSED %d recipient(s): %s (%slocale %q); they will not be sent anything\n", f.Count, f.Reason, eg, f.Locale)
	}
	if len(r.Prose) > 0 {
		fmt.Fprintf(w, "\nwarning: the template has %d text(s) outside message keys: every language above received them untranslated, and the campaign cannot be staged until they are moved into the catalogs:\n", len(r.Prose))
		for _, p := range r.Prose {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if r.Unsubscribe != nil {
		fmt.Fprintf(w, "\nwarning: list_unsubscribe %v; the messages above carry it, and plan and send refuse it\n", r.Unsubscribe)
	}
}

// neededText says who needs a skipped language.
func neededText(n int) string {
	if n == 0 {
		return " (no recipient needs it)"
	}
	return fmt.Sprintf(" (%d recipient(s) need it: they are refused)", n)
}
