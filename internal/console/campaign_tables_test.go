package console_test

import (
	"encoding/json"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
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
	var st struct {
		Languages []struct {
			Lang   string           `json:"lang"`
			Staged int64            `json:"staged"`
			Counts map[string]int64 `json:"counts"`
		} `json:"languages"`
	}
	statusJSON(t, w, "stopped", &st)
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

// statusJSON decodes `tidings status c --env test --json` into v, and
// returns it as printed.
func statusJSON(t *testing.T, w *consoletest.World, c string, v any) string {
	t.Helper()
	out, code := w.CLI(t, "status", c, "--env", consoletest.EnvName, "--json")
	if code != 0 {
		t.Fatalf("tidings status --json: exit %d\n%s", code, out)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("tidings status --json: %v\n%s", err, out)
	}
	return out
}

var (
	batchTableRE = regexp.MustCompile(`(?s)<table class="batches">.*?</table>`)
	batchLineRE  = regexp.MustCompile(`(?m)^\s+(canary|batch \d+)\s+\[[^\]]*\]\s+\d+/\d+\s+(\w+)`)
	curBatchRE   = regexp.MustCompile(`(?s)<dt>Batch</dt><dd>(.*?)</dd>`)
)

// TestBatchesTableSaysWhatStatusSays: each batch's row on the campaign
// page says where the batch is in `tidings status`'s word (done,
// retrying, sending, waiting, cancelled). Before, its Done column said
// "yes" once every recipient of the batch had been attempted: a canary
// whose 3 first attempts all failed with 451 and wait for their retry
// read "Done: yes" where `tidings status` says "retrying" (0/3), and a
// cancelled campaign's batch never released read "Released: no, Done:
// no", as if it were still to come, where `tidings status` says
// "cancelled".
func TestBatchesTableSaysWhatStatusSays(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		campaign func(t *testing.T) (*consoletest.World, *client, string)
		want     map[string]string // batch -> state
	}{
		{"cancelled after the canary", func(t *testing.T) (*consoletest.World, *client, string) {
			w, _, op := cancelledAfterCanary(t)
			return w, op, "stopped"
		}, map[string]string{"0 (canary)": "done", "1": "cancelled"}},
		{"canary failing temporarily", func(t *testing.T) (*consoletest.World, *client, string) {
			w, _ := deferredCanary(t, "deferred") // retried after an hour: they wait for it while the page is read
			return w, newSite(t, w, false).signIn(t, viewerToken), "deferred"
		}, map[string]string{"0 (canary)": "retrying", "1": "waiting"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, c, name := tc.campaign(t)
			cli, _ := w.CLI(t, "status", name, "--env", consoletest.EnvName)
			status := map[string]string{}
			for _, m := range batchLineRE.FindAllStringSubmatch(cli, -1) {
				b := strings.TrimPrefix(m[1], "batch ")
				if b == "canary" {
					b = "0 (canary)"
				}
				status[b] = m[2]
			}
			_, page, _ := c.get("/c/" + name)
			rows := tableRows(batchTableRE.FindString(page))
			if len(rows) != len(tc.want) {
				t.Fatalf("%d rows in the batches table, want %d:\n%s", len(rows), len(tc.want), batchTableRE.FindString(page))
			}
			// The batch the summary names is the table's (and status's)
			// batch: batches count from 0, the canary. Before, the summary
			// counted from 1: "Batch 1 of 2 (canary)" beside the table's
			// "0 (canary)", "Batch 3 of 9" while the table's batch 2 sent.
			if m := curBatchRE.FindStringSubmatch(page); m == nil || !strings.HasPrefix(m[1], "0 (canary) of 0–1") {
				t.Errorf("the summary's current batch %q, want the canary named as the table names it (0 (canary) of 0–1)", m)
			}
			for _, row := range rows {
				b := row["Batch"]
				if status[b] != tc.want[b] {
					t.Errorf("setup: tidings status says batch %s is %q, want %q:\n%s", b, status[b], tc.want[b], cli)
				}
				if row["State"] != status[b] {
					t.Errorf("batch %s: the console's row %v, tidings status says %q:\n%s", b, row, status[b], cli)
				}
			}
		})
	}
}

// TestBatchesTableCountsEveryOutcome: a campaign whose relay drops the
// connection after the message of one recipient of batch 1 (in doubt:
// it may have been delivered). Each row of the campaign page's batch
// table must give that batch's counts as `tidings status --json` gives
// them: sent, failed, in doubt and refused, so that the row adds up to
// its Attempted. Before, it had no In doubt column (nor Refused), so
// "batch 1: Attempted 3, Sent 2, Failed 0" left one recipient
// unaccounted for, where `tidings status` says "in-doubt 1".
func TestBatchesTableCountsEveryOutcome(t *testing.T) {
	t.Parallel()
	const c = "doubts"
	doubt := consoletest.Email(2, "en")
	w := consoletest.NewWithSMTP(t, redistest.Start(t), smtpcapture.Config{Drop: func(rcpt string) bool { return rcpt == doubt }})
	w.Stage(t, consoletest.Spec{Name: c, N: 4, Locales: []string{"en"}, Canary: 1})
	w.StartWorker(t)
	w.WaitState(t, c, store.StateDone, 60*time.Second)

	var st struct {
		Batches []struct {
			Batch     int   `json:"batch"`
			Canary    bool  `json:"canary"`
			Attempted int64 `json:"attempted"`
			Sent      int64 `json:"sent"`
			Failed    int64 `json:"failed"`
			InDoubt   int64 `json:"in_doubt"`
			Refused   int64 `json:"refused"`
		} `json:"batches"`
	}
	out := statusJSON(t, w, c, &st)
	inDoubt := int64(0)
	for _, b := range st.Batches {
		inDoubt += b.InDoubt
	}
	if inDoubt != 1 {
		t.Fatalf("setup: tidings status --json counts %d in doubt, want 1 (%s dropped after DATA):\n%s", inDoubt, doubt, out)
	}

	_, page, _ := newSite(t, w, false).signIn(t, viewerToken).get("/c/" + c)
	rows := map[string]map[string]string{}
	for _, r := range tableRows(batchTableRE.FindString(page)) {
		rows[r["Batch"]] = r
	}
	for _, b := range st.Batches {
		name := strconv.Itoa(b.Batch)
		if b.Canary {
			name += " (canary)"
		}
		t.Run(name, func(t *testing.T) {
			row, ok := rows[name]
			if !ok {
				t.Fatalf("no row for batch %s in the batches table:\n%s", name, batchTableRE.FindString(page))
			}
			for _, col := range []struct {
				label string
				n     int64
			}{{"Attempted", b.Attempted}, {"Sent", b.Sent}, {"Failed", b.Failed}, {"In doubt", b.InDoubt}, {"Refused", b.Refused}} {
				if got, shown := row[col.label]; got != strconv.FormatInt(col.n, 10) {
					t.Errorf("%s: the console says %q (shown: %v), tidings status --json says %d\nrow: %v", col.label, got, shown, col.n, row)
				}
			}
		})
	}
}
