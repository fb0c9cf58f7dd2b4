package doctor

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/worker"
)

// Report is every check of an environment, and optionally of a campaign's
// templates: what `tidings doctor --format json` prints.
type Report struct {
	Environment string   `json:"environment"`
	Notes       []string `json:"notes"` // the environment's warnings
	Checks      []Check  `json:"checks"`
	Failed      int      `json:"failed"`
	// Infra reports that a check failed because a server is unreachable.
	Infra bool `json:"-"`
	// Incomplete reports that the campaign's templates are incomplete in a
	// catalog language.
	Incomplete bool `json:"-"`
}

// Run checks environment e: its Redis, its SMTP server (without
// credentials, probed with the campaign's sender when b is not nil; with
// a relay without SMTPUTF8, whether b's recipients need it) and, when b
// is not nil, a campaign's templates. A campaign that could not be
// loaded is given as campaignErr: a failed check that says why.
func Run(ctx context.Context, e *environment.Environment, b *bundle.Bundle, campaignErr error) *Report {
	r := &Report{Environment: e.Name, Notes: e.Warnings()}
	var from string
	if b != nil {
		from = b.Campaign.From
	}
	r.Checks = Redis(ctx, e)
	if c, ok := State(ctx, e); ok {
		r.Checks = append(r.Checks, c)
	}
	smtp, ext := smtpChecks(ctx, worker.SMTPConfig(e.SMTP), from)
	if _, utf8 := ext["SMTPUTF8"]; b != nil && ext != nil && !utf8 {
		if c, ok := campaignSMTPUTF8(ctx, b, e); ok {
			smtp[slices.IndexFunc(smtp, func(x Check) bool { return x.Name == "smtp smtputf8" })] = c
		}
	}
	r.Checks = append(r.Checks, smtp...)
	r.Checks = append(r.Checks, Journal(e.Journal))
	tmpl := e.ListUnsubscribe
	if b != nil && b.Campaign.ListUnsubscribe != "" {
		tmpl = b.Campaign.ListUnsubscribe
	}
	r.Checks = append(r.Checks, Unsubscribe(e, tmpl))
	if c, ok := UnsubscribeSecret(ctx, e); ok {
		r.Checks = append(r.Checks, c)
	}
	r.Checks = append(r.Checks, Suppression(e))
	switch {
	case campaignErr != nil:
		r.Checks = append(r.Checks, fail("campaign", campaignErr.Error()))
	case b != nil:
		var need map[string]int
		known := true
		if slices.ContainsFunc(b.Engine.Languages(), func(c render.Coverage) bool { return !c.Covered }) {
			var err error
			if need, known, err = b.NeedIncomplete(); err != nil {
				r.Checks = append(r.Checks, warn("recipients", fmt.Sprintf("%v: which languages they need is not known", err)))
			}
		}
		tc := Templates(b.Engine, need, known)
		for _, c := range tc {
			r.Incomplete = r.Incomplete || c.Status != Pass
		}
		r.Checks = append(r.Checks, tc...)
	}
	r.Failed, r.Infra = Failed(r.Checks)
	return r
}

// WriteText writes the notes, one line per check (status, name, message)
// and, when every check passed, says so, counting those with a warning.
func (r *Report) WriteText(w io.Writer) {
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	warned := 0
	for _, c := range r.Checks {
		fmt.Fprintf(w, "%s  %-22s %s\n", strings.ToUpper(c.Status), c.Name, c.Message)
		if c.Status == Warn {
			warned++
		}
	}
	switch {
	case r.Failed > 0:
	case warned == 1:
		fmt.Fprint(w, "\nAll checks passed, 1 with a warning (WARN above): read what it says before you send.\n")
	case warned > 1:
		fmt.Fprintf(w, "\nAll checks passed, %d with a warning (WARN above): read what they say before you send.\n", warned)
	default:
		fmt.Fprint(w, "\nAll checks passed.\n")
	}
}
