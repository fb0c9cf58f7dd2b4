package console_test

import (
	"encoding/json"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

var (
	rowRE  = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	langRE = regexp.MustCompile(`(?s)<table class="langs">.*?</table>`)
	tdRE   = regexp.MustCompile(`(?s)<td[^>]*\sdata-label="([^"]+)"[^>]*>(.*?)</td>`)
)

// tableRows is each row of table (HTML) as its cells' text by data-label.
func tableRows(table string) []map[string]string {
	var rows []map[string]string
	for _, r := range rowRE.FindAllStringSubmatch(table, -1) {
		row := map[string]string{}
		for _, c := range tdRE.FindAllStringSubmatch(r[1], -1) {
			row[c[1]] = strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(c[2], ""))), " ")
		}
		if len(row) > 0 {
			rows = append(rows, row)
		}
	}
	return rows
}

// TestLanguagesTableCountsEveryOutcome: a campaign cancelled after its
// canary (per language: 1 sent, 2 cancelled). The campaign page's
// Languages table must give, per language, the counts `tidings status
// --json` gives, every outcome of them: before, it had no Cancelled
// column, so "de: staged 3, sent 1, failed 0, in doubt 0, pending 0" left
// two recipients unaccounted for, where `tidings status` says
// "cancelled 2".
func TestLanguagesTableCountsEveryOutcome(t *testing.T) {
	t.Parallel()
	w, _, op := cancelledAfterCanary(t)
	out, code := w.CLI(t, "status", "stopped", "--env", consoletest.EnvName, "--json")
	if code != 0 {
		t.Fatalf("tidings status --json: exit %d\n%s", code, out)
	}
	var st struct {
		Languages []struct {
			Lang   string           `json:"lang"`
			Staged int64            `json:"staged"`
			Counts map[string]int64 `json:"counts"`
		} `json:"languages"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("tidings status --json: %v\n%s", err, out)
	}
	_, page, _ := op.get("/c/stopped")
	rows := map[string]map[string]string{}
	for _, r := range tableRows(langRE.FindString(page)) {
		rows[r["Lang"]] = r
	}
	labels := map[string]string{store.OutcomeInDoubt: "In doubt"}
	for _, l := range st.Languages {
		t.Run(l.Lang, func(t *testing.T) {
			row, ok := rows[l.Lang]
			if !ok {
				t.Fatalf("no row for %s in the Languages table:\n%s", l.Lang, langRE.FindString(page))
			}
			if row["Staged"] != strconv.FormatInt(l.Staged, 10) {
				t.Errorf("Staged %q, tidings status says %d", row["Staged"], l.Staged)
			}
			for _, o := range store.Outcomes {
				label, ok := labels[o]
				if !ok {
					label = strings.ToUpper(o[:1]) + o[1:]
				}
				n := l.Counts[o]
				got, shown := row[label]
				if !shown && n == 0 {
					continue // an outcome no recipient of a language can have
				}
				if got != strconv.FormatInt(n, 10) {
					t.Errorf("%s: the console says %q (shown: %v), tidings status --json says %d\nrow: %v", label, got, shown, n, row)
				}
			}
		})
	}
}
