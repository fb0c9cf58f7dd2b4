package rehearsal

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/store"
)

// WriteText tells what happened and where to look: the counts, the canary,
// the captured messages by language, the rows not sent and why, and the
// files written.
func (r *Result) WriteText(w io.Writer) {
	p := r.Plan
	fmt.Fprintf(w, "Rehearsal of %q finished in %s.\n", r.Campaign, r.Elapsed.Round(time.Millisecond))
	if len(r.Notes) > 0 {
		fmt.Fprintf(w, "  (rehearsal only: %s)\n", strings.Join(r.Notes, "; "))
	}
	if r.EnvNote != "" {
		fmt.Fprintf(w, "  (%s)\n", r.EnvNote)
	}
	// Refused and invalid: the plan's rejects (staged as such) and the rows
	// the worker refused or could not render at send time, all counted in
	// the campaign's status.
	fmt.Fprintf(w, "\n%s: %d sent, %d refused, %d invalid", plan.CountOf(p.Rows, "recipient row", "recipient rows"),
		r.Status.Counts[store.OutcomeSent], r.Status.Counts[store.OutcomeRefused], r.Status.Counts[store.OutcomeInvalid])
	// Then every other outcome that is not zero, in status's order, so
	// that the figures add up to the rows.
	for _, o := range store.Outcomes {
		if n := r.Status.Counts[o]; n > 0 && o != store.OutcomeSent && o != store.OutcomeRefused && o != store.OutcomeInvalid {
			fmt.Fprintf(w, ", %d %s", n, o)
		}
	}
	fmt.Fprintln(w, ".")
	if c := r.canary(); c != "" {
		fmt.Fprintln(w, c)
	}
	if r.Captured == 0 {
		fmt.Fprintln(w, "Captured no message.")
	} else {
		fmt.Fprintf(w, "Captured %s by language: %s.\n", plan.CountOf(r.Captured, "message", "messages"), counts(r.Mails, ", "))
	}
	if len(r.Refusals) > 0 {
		fmt.Fprintln(w, "\nNot sent, and why (nobody receives a message in a language that is not theirs):")
		for _, k := range slices.Sorted(maps.Keys(r.Refusals)) {
			fmt.Fprintf(w, "  %3d × %s\n", r.Refusals[k], k)
		}
	}
	fmt.Fprintf(w, "\nWhere to look:\n")
	fmt.Fprintf(w, "  preview gallery (every language side by side): %s\n", launch.Abs(r.Gallery))
	fmt.Fprintf(w, "  captured mails (.eml, by language):            %s\n", launch.Abs(r.MailDir))
	fmt.Fprintf(w, "  report (every recipient's outcome):            %s\n", launch.Abs(r.ReportCSV))
	fmt.Fprintf(w, "  summary (the campaign's status at the end):    %s\n", launch.Abs(r.Summary))
}

// canary says what the canary batch sent: how many messages, and how many
// per covered language, as planned from canary_per_locale (a language with
// fewer recipients sends them all).
func (r *Result) canary() string {
	per := r.Plan.Batches.CanaryPerLang
	if r.CanarySent == 0 || len(per) == 0 {
		return ""
	}
	n := -1
	for _, c := range per {
		if n == -1 || c == n {
			n = c
		} else {
			n = 0 // not the same everywhere
		}
	}
	how := fmt.Sprintf("%d per covered language", n)
	switch {
	case n == 1:
		how = "one per covered language"
	case n == 0:
		how = "by language: " + counts(per, ", ")
	}
	if planned := r.Plan.Batches.Canary; planned != r.CanarySent {
		return fmt.Sprintf("The canary batch sent %d of its %d message(s) (%s) before the rest.", r.CanarySent, planned, how)
	}
	return fmt.Sprintf("The canary batch sent %d message(s), %s, before the rest.", r.CanarySent, how)
}

// counts writes "a 1, b 2" in key order.
func counts(m map[string]int, sep string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, sep)
}
