// Package testsend sends one message per covered catalog language of a
// campaign to a QA inbox, through the environment's SMTP server: the
// message a recipient of that language would get (one real recipient of the
// language from the recipients file where there is one, else sample data),
// its subject prefixed with "[TEST <lang>]". The recipient of a language is
// the first row of it the plan accepts: never one the template cannot be
// rendered with, and such rows are counted. Nothing is queued and no
// recipient is contacted. A language the template does not cover is
// skipped and reported; a language that cannot be rendered or sent is
// reported as failed.
package testsend

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/address"
	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/preview"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/worker"
)

// Outcomes of a language.
const (
	Sent    = "sent"
	Skipped = "skipped" // the template does not cover the language
	Failed  = "failed"  // rendering or sending failed
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
	Err     error    // why it failed (Failed)
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
	// Prose is the template's literal prose (render.Engine.Prose), named
	// as the operator can open it: sent to every language untranslated
	// here, and why the campaign cannot be staged.
	Prose []render.Problem
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
// sent, with the *address.Error.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if _, err := address.Parse(cfg.To); err != nil {
		return nil, fmt.Errorf("the QA inbox %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := cfg.Bundle
	examples, err := b.Samples(ctx, cfg.Env)
	if err != nil {
		return nil, err
	}
	pool := send.NewPool(cfg.SMTP, 1)
	defer pool.Close()
	conn, err := pool.Get(ctx)
	if err != nil {
		return nil, &ConnectError{Server: fmt.Sprintf("%s:%d", cfg.SMTP.Host, cfg.SMTP.Port), Err: err}
	}
	defer pool.Put(conn)
	samples := preview.DefaultSamples()
	compose := worker.NewComposer(b.Campaign)
	res := &Result{Count: map[string]int{}}
	for _, c := range b.Engine.Languages() {
		l := Language{Lang: c.Lang, Outcome: Failed}
		sm := examples[c.Lang]
		if sm != nil && sm.Invalid > 0 {
			l.Invalid = sm.Invalid
			l.InvalidFirst = fmt.Sprintf("%s:%d: %s", b.RecipientsPath(), sm.FirstInvalid.Line, sm.FirstInvalid.Reason)
		}
		switch {
		case !c.Covered:
			l.Outcome, l.Missing = Skipped, c.Missing
		case sm != nil && sm.First == nil && sm.Invalid > 0:
			l.Err = fmt.Errorf("not sent: none of the %d row(s) of %s can be rendered (the first: %s)", sm.Invalid, c.Lang, l.InvalidFirst)
		default:
			l.Subject, l.Err = sendOne(ctx, cfg, conn, compose, c.Lang, examples, samples)
			if l.Err == nil {
				l.Outcome = Sent
			}
		}
		res.Count[l.Outcome]++
		res.Languages = append(res.Languages, l)
	}
	c := b.Campaign
	res.Prose = b.Engine.Prose(func(name string) string {
		return render.ResolvePath(name, c.Path(c.TemplatesDir), c.Path(c.LocalesDir))
	})
	return res, nil
}

// sendOne renders and sends the message of language lang.
func sendOne(ctx context.Context, cfg Config, conn *send.Conn, compose *worker.Composer, lang string,
	examples map[string]*plan.Sample, samples map[string]preview.Sample) (string, error) {
	c := cfg.Bundle.Campaign
	d := render.Data{Campaign: c.Name, Data: c.Data}
	requested := lang
	if sm := examples[lang]; sm != nil && sm.First != nil {
		r := sm.First.Recipient
		d.ID, d.Email, d.Name, d.Fields, requested = r.ID, r.Email, r.Name, r.Fields, r.Locale
	} else {
		s, ok := samples[lang]
		if !ok {
			s = samples[""]
		}
		d.ID, d.Email, d.Name, d.Fields = s.Email, s.Email, s.Name, s.Fields
	}
	out, err := cfg.Bundle.Engine.Render(render.Match{Requested: requested, Lang: lang, Via: render.ViaExact}, d)
	if err != nil {
		return "", fmt.Errorf("render: %w", err)
	}
	out.Subject = fmt.Sprintf("[TEST %s] %s", lang, out.Subject)
	m := compose.Message("test-"+lang+"-"+d.ID, cfg.To, d.Name, out, cfg.Now())
	// A fresh id (QA may test-send many times) at the domain every
	// recipient's message has.
	domain := m.MessageID[strings.LastIndexByte(m.MessageID, '@')+1:]
	m.MessageID = send.MessageID(c.Name, fmt.Sprintf("test-%s-%d", lang, rand.Uint64()), domain)
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
			fmt.Fprintf(w, "skip  %-6s incomplete: lacks %s\n", l.Lang, strings.Join(l.Missing, ", "))
		default:
			fmt.Fprintf(w, "FAIL  %-6s %v\n", l.Lang, l.Err)
		}
	}
	if len(r.Prose) > 0 {
		fmt.Fprintf(w, "\nwarning: the template has %d text(s) outside message keys: every language above received them untranslated, and the campaign cannot be staged until they are moved into the catalogs:\n", len(r.Prose))
		for _, p := range r.Prose {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
}
