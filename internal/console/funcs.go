package console

import (
	"fmt"
	"html/template"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

// funcs are the page templates' helpers.
var funcs = template.FuncMap{
	// has reports whether the space-separated list holds s.
	"has": func(list, s string) bool { return slices.Contains(strings.Fields(list), s) },
	// num writes n with thin spaces between thousands.
	"num": func(n int64) string {
		s := strconv.FormatInt(n, 10)
		neg := strings.HasPrefix(s, "-")
		s = strings.TrimPrefix(s, "-")
		var b strings.Builder
		for i, r := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteRune('\u202f')
			}
			b.WriteRune(r)
		}
		if neg {
			return "-" + b.String()
		}
		return b.String()
	},
	"pct": func(v float64) string {
		if v > 0 && v < 1 {
			return "<1%"
		}
		return fmt.Sprintf("%.0f%%", math.Floor(v))
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	// eta writes st's ETA, or what it waits for ("after approval").
	"eta": func(st *store.Status) string {
		switch {
		case st.ETAWaitsFor != "":
			return "after " + st.ETAWaitsFor
		case st.ETASeconds <= 0:
			return "—"
		}
		return (time.Duration(st.ETASeconds) * time.Second).Round(time.Second).String()
	},
	// rate writes st's current rate, and unit after it, or "—" for a
	// campaign that has ended, as tidings status does (statusview.Rate).
	"rate": func(st *store.Status, unit string) string {
		r, ok := statusview.Rate(st)
		if ok {
			r += unit
		}
		return r
	},
	"short": func(h string) string {
		if len(h) > 12 {
			return h[:12]
		}
		return h
	},
	"path":     url.PathEscape,
	"outcomes": func() []string { return store.Outcomes },
	// batchState is where a batch is, in tidings status's word.
	"batchState": statusview.BatchState,
	// beingStagedProgress is how far a first staging is, in tidings status's words.
	"beingStagedProgress": statusview.BeingStagedProgress,
	// outcomeLabel is an outcome as a column's heading: "In doubt".
	"outcomeLabel": func(o string) string { return strings.ToUpper(o[:1]) + strings.ReplaceAll(o[1:], "-", " ") },
	"inc":          func(n int) int { return n + 1 },
	"dec":          func(n int) int { return n - 1 },
	"actionsOf":    actionsOf,
	// args is a template's argument of named values, pairs of name
	// and value ("cancel-form": a campaign's Name and the CSRF token).
	"args": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	// canary reports whether batch b of st is the canary.
	"gateWait": statusview.GateWait,
	"lost":     statusview.Lost,
	"canary":   func(st *store.Status, b int) bool { return b >= 0 && b < len(st.Batches) && st.Batches[b].Canary },
	// langDone and langPct count a language's recipients done as status
	// does (statusview.Handled): cancelled ones are not progress.
	"langDone": func(l store.LangStatus) int64 { return statusview.Handled(l.Counts) },
	"langPct":  func(l store.LangStatus) float64 { return statusview.Percent(statusview.Handled(l.Counts), l.Staged) },
}

// actionsOf is what decides which actions the campaign page offers: the
// campaign's state, or "state-loss" for a campaign a worker paused because
// Redis forgot deliveries (statusview.Next: the rule resume refuses by;
// resuming it would send them again, so only Cancel is offered), or
// "paused-while-staging" for one whose staging did not end and that was
// paused meanwhile (nothing is offered: the pause is in force, and nothing
// else acts on it until its send is run again), but
// "paused-staging-interrupted" for such a first staging, which cancel
// gives up (Cancel alone is offered).
func actionsOf(st *store.Status) string {
	if statusview.Next(st) == store.NextRecover {
		return "state-loss"
	}
	if st.PausedWhileStaging != nil {
		if st.State == store.StateStagingInterrupted {
			return "paused-staging-interrupted"
		}
		return "paused-while-staging"
	}
	return string(st.State)
}
