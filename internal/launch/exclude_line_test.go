package launch_test

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/report"
)

// TestExcludeNamesTheLineOfTheRow: send --exclude-delivered reads a
// CSV report and refuses a row whose outcome is none of a report's, or that
// is another campaign's, naming its line. A report tidings writes holds
// multi-line cells: an SMTP reply of several lines (textproto joins them
// with "\n": "250-2.0.0 Ok\n250 queued as ABC") is written as one quoted
// cell over two lines (report.WriteCSV through encoding/csv); a report
// edited by hand may also have a blank line (encoding/csv skips it).
//
// The README: "an outcome that is none of a report's (snet, in doubt, an
// empty cell) is refused as report.csv:3: outcome: "snet" is not an
// outcome ..."; "a report of another campaign ... is refused, a CSV with
// its line"; and the house rule that bad input names file, line and field.
//
// Found by red team 10: the line named was the number of the record plus
// one, not the line of the file: after a two-line response or a blank
// line, every later row was named one line too early (the operator opened
// the file at the wrong row, in a file of a million). readCSV counted
// records instead of asking the csv.Reader (FieldPos) where the record
// starts.
func TestExcludeNamesTheLineOfTheRow(t *testing.T) {
	t.Parallel()
	// Rows as report.WriteCSV writes them (its header, csv.Writer).
	write := func(rows ...[]string) string {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		_ = w.Write(report.Columns)
		for _, r := range rows {
			_ = w.Write(r)
		}
		w.Flush()
		return b.String()
	}
	row := func(line, id, outcome, response, campaign string) []string {
		return []string{line, id, id + "@x.example", "de", "de", outcome, "250", response, "2026-12-03T02:00:00Z", "1", "1", campaign, "tpj7k9-00ab990e3ffccc18", "", "test"}
	}
	multi := write(
		row("2", "a", "sent", "2.0.0 Ok\nqueued as 4F2A1", "rt10"), // lines 2-3 of the file
		row("3", "b", "snet", "", "rt10"),                          // line 4
	)
	other := write(
		row("2", "a", "sent", "2.0.0 Ok\nqueued as 4F2A1", "rt10"), // lines 2-3
		row("3", "b", "sent", "", "beta"),                          // line 4
	)
	blank := "id,email,outcome,campaign\n\na,a@x.example,sent,rt10\n\nb,b@x.example,snet,rt10\n" // the bad row is line 5
	tests := []struct {
		name, body, want string
	}{
		{"an outcome after a two-line SMTP reply", multi, "r.csv:4: outcome:"},
		{"another campaign's row after a two-line SMTP reply", other, "r.csv:4: campaign:"},
		{"an outcome after blank lines", blank, "r.csv:5: outcome:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if n := strings.Count(tt.body, "\n"); n < 4 {
				t.Fatalf("the file has %d lines", n)
			}
			p := filepath.Join(t.TempDir(), "r.csv")
			if err := os.WriteFile(p, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := launch.LoadDelivered("rt10", []string{p})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadDelivered: %v\nwant an error naming %q (the line of the file the row is on); the file:\n%s", err, tt.want, tt.body)
			}
		})
	}
}
