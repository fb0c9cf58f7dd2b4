package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/store"
)

type reportOptions struct {
	env      string
	format   string
	outcomes string
	out      string
}

func (a *app) cmdReport() *cobra.Command {
	var o reportOptions
	c := &cobra.Command{
		Use:   "report CAMPAIGN --env ENV",
		Short: "Every recipient's outcome, as CSV or JSON",
		Long: `report lists every recipient row of a campaign with its outcome: sent,
refused, invalid, failed, skipped, cancelled, pending or in-doubt (the SMTP
server may have accepted it just before a worker crashed; it is never re-sent
automatically). Columns: line, id, email, locale (as requested), lang (the
matched catalog language), outcome, code (SMTP code or refusal code),
response (SMTP response or reason), at (RFC 3339), attempts, batch (-1 for
rows rejected before staging).

--format json writes one object: campaign, counts, audit (every pause,
resume, approve, cancel with who, where, when and why) and recipients.`,
		Example: `  tidings report altea-reregistration --env production > outcomes.csv
  tidings report altea-reregistration --env production --outcome failed,in-doubt
  tidings report altea-reregistration --env production --format json --out report.json`,
		Args: argsExact(1, "one campaign name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, _, err := a.openStore(cmd.Context(), o.env)
			if err != nil {
				return err
			}
			defer s.Client().Close()
			w := a.stdout
			if o.out != "" {
				f, err := os.Create(o.out)
				if err != nil {
					return configError(fmt.Errorf("create report file: %w", err))
				}
				defer f.Close()
				w = f
			}
			if err := writeReport(cmd.Context(), s, args[0], w, o.format, o.outcomes); err != nil {
				return err
			}
			if o.out != "" {
				fmt.Fprintf(a.stderr, "report written to %s\n", absPath(o.out))
			}
			return nil
		},
	}
	c.Flags().StringVar(&o.env, "env", "", "environment of the campaign (required)")
	c.Flags().StringVar(&o.format, "format", "csv", "csv or json")
	c.Flags().StringVar(&o.outcomes, "outcome", "", "only these outcomes, comma-separated (e.g. failed,in-doubt)")
	c.Flags().StringVar(&o.out, "out", "", "write to this file instead of standard output")
	return c
}

// writeReport writes the report of campaign c in format to w.
func writeReport(ctx context.Context, s *store.Store, c string, w io.Writer, format, outcomes string) error {
	keep := map[string]bool{}
	for _, o := range strings.Split(outcomes, ",") {
		if o = strings.TrimSpace(o); o != "" {
			valid := false
			for _, v := range store.Outcomes {
				valid = valid || v == o
			}
			if !valid {
				return configError(fmt.Errorf("--outcome %q: not an outcome; use %s", o, strings.Join(store.Outcomes, ", ")))
			}
			keep[o] = true
		}
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	defer bw.Flush()
	switch format {
	case "csv":
		cw := csv.NewWriter(bw)
		_ = cw.Write([]string{"line", "id", "email", "locale", "lang", "outcome", "code", "response", "at", "attempts", "batch"})
		err := s.Report(ctx, c, func(r store.Row) error {
			if len(keep) > 0 && !keep[r.Outcome] {
				return nil
			}
			at := ""
			if !r.At.IsZero() {
				at = r.At.UTC().Format(time.RFC3339Nano)
			}
			return cw.Write([]string{strconv.Itoa(r.Line), r.ID, r.Email, r.Locale, r.Lang, r.Outcome, r.Code, r.Response, at, strconv.Itoa(r.Attempts), strconv.Itoa(r.Batch)})
		})
		cw.Flush()
		if err != nil {
			return storeError(err)
		}
		return cw.Error()
	case "json":
		st, err := s.Status(ctx, c)
		if err != nil {
			return storeError(err)
		}
		head, _ := json.Marshal(struct {
			Campaign string             `json:"campaign"`
			State    store.State        `json:"state"`
			Counts   map[string]int64   `json:"counts"`
			Audit    []store.AuditEntry `json:"audit"`
		}{c, st.State, st.Counts, st.Audit})
		// Stream the recipients so that a million rows need no memory.
		bw.Write(head[:len(head)-1])
		bw.WriteString(`,"recipients":[`)
		first := true
		err = s.Report(ctx, c, func(r store.Row) error {
			if len(keep) > 0 && !keep[r.Outcome] {
				return nil
			}
			if !first {
				bw.WriteByte(',')
			}
			first = false
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			_, err = bw.Write(b)
			return err
		})
		if err != nil {
			return storeError(err)
		}
		bw.WriteString("]}\n")
		return nil
	default:
		return configError(fmt.Errorf("--format %q: use csv or json", format))
	}
}
