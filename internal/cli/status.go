package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tidings-mail/tidings/internal/store"
)

type statusOptions struct {
	env      string
	watch    bool
	json     bool
	interval time.Duration
}

func (a *app) cmdStatus() *cobra.Command {
	var o statusOptions
	c := &cobra.Command{
		Use:   "status [CAMPAIGN] --env ENV",
		Short: "State, progress per batch and language, outcomes, errors, rate, ETA",
		Long: `status shows a campaign's state (running, paused by whom and why, awaiting
approval, cancelled, done), a progress bar per batch and per language, counts
per outcome, the current rate and ETA, the last errors grouped by SMTP
response, and the audit log. Without CAMPAIGN it lists every campaign.

--watch refreshes in place on a terminal (plain lines otherwise) until the
campaign is done or cancelled. --json prints the status as one JSON object
(stable field names; see README "status --json").`,
		Example: `  tidings status --env production
  tidings status altea-reregistration --env production --watch
  tidings status altea-reregistration --env production --json | jq .counts`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, _, err := a.openStore(cmd.Context(), o.env)
			if err != nil {
				return err
			}
			defer s.Client().Close()
			if len(args) == 0 {
				return a.listCampaigns(cmd.Context(), s, o)
			}
			return a.showStatus(cmd.Context(), s, args[0], o)
		},
	}
	c.Flags().StringVar(&o.env, "env", "", "environment (required)")
	c.Flags().BoolVar(&o.watch, "watch", false, "refresh until the campaign is done or cancelled")
	c.Flags().BoolVar(&o.json, "json", false, "print JSON for scripts")
	c.Flags().DurationVar(&o.interval, "interval", time.Second, "refresh interval for --watch")
	return c
}

func (a *app) listCampaigns(ctx context.Context, s *store.Store, o statusOptions) error {
	names, err := s.List(ctx)
	if err != nil {
		return storeError(err)
	}
	var all []*store.Status
	for _, n := range names {
		st, err := s.Status(ctx, n)
		if err != nil {
			return storeError(err)
		}
		all = append(all, st)
	}
	if o.json {
		return json.NewEncoder(a.stdout).Encode(all)
	}
	if len(all) == 0 {
		fmt.Fprintln(a.stdout, "No campaigns in this environment. Stage one with: tidings send CAMPAIGN.yaml --env ENV")
		return nil
	}
	fmt.Fprintf(a.stdout, "%-32s %-18s %10s %10s %8s\n", "CAMPAIGN", "STATE", "SENT", "TOTAL", "DONE")
	for _, st := range all {
		fmt.Fprintf(a.stdout, "%-32s %-18s %10d %10d %7.1f%%\n", st.Campaign, st.State, st.Counts[store.OutcomeSent], st.Total, pct(store.Terminal(st.Counts), st.Total))
	}
	return nil
}

func (a *app) showStatus(ctx context.Context, s *store.Store, c string, o statusOptions) error {
	tty := false
	if f, ok := a.stdout.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	for {
		st, err := s.Status(ctx, c)
		if err != nil {
			return storeError(err)
		}
		switch {
		case o.json:
			if err := json.NewEncoder(a.stdout).Encode(st); err != nil {
				return err
			}
		case o.watch && !tty:
			fmt.Fprintln(a.stdout, statusLine(st))
		default:
			if o.watch {
				fmt.Fprint(a.stdout, "\033[H\033[2J")
			}
			writeStatus(a.stdout, st)
		}
		if !o.watch || st.State == store.StateDone || st.State == store.StateCancelled {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.interval):
		}
	}
}

func pct(n, total int64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}

// bar draws a progress bar of width w.
func bar(done, total int64, w int) string {
	if total <= 0 {
		return "[" + strings.Repeat(" ", w) + "]"
	}
	n := int(int64(w) * done / total)
	if n > w {
		n = w
	}
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", w-n) + "]"
}

// statusLine is the one-line form for --watch when not on a terminal.
func statusLine(st *store.Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s state=%s", time.Now().UTC().Format(time.RFC3339), st.Campaign, st.State)
	for _, o := range store.Outcomes {
		fmt.Fprintf(&b, " %s=%d", o, st.Counts[o])
	}
	fmt.Fprintf(&b, " rate=%.1f/s", st.Rate)
	if st.Reason != "" {
		fmt.Fprintf(&b, " reason=%q", st.Reason)
	}
	return b.String()
}

func writeStatus(w io.Writer, st *store.Status) {
	fmt.Fprintf(w, "Campaign %s (environment %s)\n", st.Campaign, st.Env)
	state := strings.ToUpper(string(st.State))
	switch st.State {
	case store.StatePaused:
		fmt.Fprintf(w, "State:    %s by %s at %s: %s\n", state, st.By, st.At.Local().Format(time.DateTime), st.Reason)
		fmt.Fprintf(w, "          resume with: tidings resume %s --env %s\n", st.Campaign, st.Env)
	case store.StateAwaitingApproval:
		fmt.Fprintf(w, "State:    %s: the canary batch is done; check it, then run:\n          tidings approve %s --env %s\n", state, st.Campaign, st.Env)
	case store.StateCancelled:
		fmt.Fprintf(w, "State:    %s by %s at %s: %s\n", state, st.By, st.At.Local().Format(time.DateTime), st.Reason)
	default:
		fmt.Fprintf(w, "State:    %s\n", state)
	}
	done := store.Terminal(st.Counts)
	fmt.Fprintf(w, "Progress: %s %d/%d recipients finished (%.1f%%), %d sent\n", bar(done, st.Total, 30), done, st.Total, pct(done, st.Total), st.Counts[store.OutcomeSent])
	eta := "-"
	if st.ETASeconds > 0 {
		eta = (time.Duration(st.ETASeconds) * time.Second).String()
	}
	fmt.Fprintf(w, "Rate:     %.1f msg/s over the last 10 s   ETA %s\n", st.Rate, eta)
	var parts []string
	for _, o := range store.Outcomes {
		parts = append(parts, fmt.Sprintf("%s %d", o, st.Counts[o]))
	}
	fmt.Fprintf(w, "Outcomes: %s\n", strings.Join(parts, " · "))
	if st.Retries > 0 {
		fmt.Fprintf(w, "          %d temporary failures waiting for their retry\n", st.Retries)
	}
	if len(st.Batches) > 0 {
		fmt.Fprintln(w, "\nBatches:")
		shown := 0
		for _, b := range st.Batches {
			// Show finished batches briefly, the current ones in full.
			if b.Done && b.Batch < st.CurBatch-2 && !b.Canary {
				continue
			}
			if shown >= 8 {
				fmt.Fprintf(w, "  ... %d more batches\n", len(st.Batches)-b.Batch)
				break
			}
			shown++
			name := fmt.Sprintf("batch %d", b.Batch)
			if b.Canary {
				name = "canary"
			}
			state := "waiting"
			switch {
			case b.Done:
				state = "done"
			case b.Released:
				state = "sending"
			}
			fmt.Fprintf(w, "  %-10s %s %5d/%-5d %-8s sent %d, failed %d, refused %d, in-doubt %d\n", name, bar(int64(b.Attempted), int64(b.Size), 20), b.Attempted, b.Size, state, b.Sent, b.Failed, b.Refused, b.InDoubt)
		}
	}
	if len(st.Languages) > 0 {
		fmt.Fprintln(w, "\nLanguages:")
		langs := append([]store.LangStatus(nil), st.Languages...)
		sort.Slice(langs, func(i, j int) bool { return langs[i].Lang < langs[j].Lang })
		for _, l := range langs {
			ld := int64(0)
			for _, o := range store.Outcomes {
				if o != store.OutcomePending {
					ld += l.Counts[o]
				}
			}
			fmt.Fprintf(w, "  %-8s %s %6d/%-6d sent %d, failed %d\n", l.Lang, bar(ld, l.Staged, 20), ld, l.Staged, l.Counts[store.OutcomeSent], l.Counts[store.OutcomeFailed])
		}
	}
	if len(st.Errors) > 0 {
		fmt.Fprintln(w, "\nRecent errors (by SMTP response):")
		for _, e := range st.Errors {
			kind := "permanent"
			if e.Temporary {
				kind = "temporary"
			}
			fmt.Fprintf(w, "  %4dx %s %s (%s, last %s)\n", e.Count, e.Code, e.Response, kind, e.Last.Local().Format(time.TimeOnly))
		}
	}
	if len(st.Audit) > 0 {
		fmt.Fprintln(w, "\nAudit log:")
		for _, e := range st.Audit {
			reason := ""
			if e.Reason != "" {
				reason = ": " + e.Reason
			}
			fmt.Fprintf(w, "  %s  %-8s by %s@%s (%s)%s\n", e.At.Local().Format(time.DateTime), e.Action, e.Who, e.Host, e.Env, reason)
		}
	}
}
