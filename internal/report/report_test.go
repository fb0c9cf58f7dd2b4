package report_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/journal/journaltest"
	"github.com/tidings-mail/tidings/internal/report"
)

func TestParseOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		list    string
		want    []string
		unknown string
	}{
		{"", nil, ""},
		{"failed,in-doubt", []string{"failed", "in-doubt"}, ""},
		{" pending , ,sent", []string{"pending", "sent"}, ""},
		{"sent,bogus", nil, "bogus"},
	}
	for _, tt := range tests {
		got, err := report.ParseOutcomes(tt.list)
		var oe *report.OutcomeError
		switch {
		case tt.unknown != "" && (!errors.As(err, &oe) || oe.Outcome != tt.unknown):
			t.Errorf("ParseOutcomes(%q): err = %v, want an *OutcomeError for %q", tt.list, err, tt.unknown)
		case tt.unknown == "" && (err != nil || !slices.Equal(got, tt.want)):
			t.Errorf("ParseOutcomes(%q) = %v, %v; want %v", tt.list, got, err, tt.want)
		}
	}
}

// TestReadJournal reads the journals of two workers (one killed mid-line)
// and checks one row per recipient: a delivery wins over a later failure,
// a retry after a temporary failure is the outcome, other campaigns'
// lines are left out.
func TestReadJournal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	e := func(id, outcome string, sec int) journal.Entry {
		return journal.Entry{At: t0.Add(time.Duration(sec) * time.Second), Campaign: "alpha", Run: "r1", ID: id, Email: id + "@example.org", Lang: "de", Outcome: outcome, Code: "250"}
	}
	// g was claimed and its worker died before its outcome's line (the
	// message may have gone); h was claimed and given back unsent.
	journaltest.Write(t, dir, "w1", e("a", "sent", 1), e("b", "temp", 2), e("c", "in-doubt", 3), e("d", "refused", 4),
		e("g", journal.OutcomeClaimed, 8), e("h", journal.OutcomeClaimed, 8), e("h", journal.OutcomeUnclaimed, 9))
	journaltest.Write(t, dir, "w2", e("b", "sent", 5), e("c", "failed", 6), e("e", "temp", 7),
		journal.Entry{At: t0, Campaign: "beta", Run: "r9", ID: "z", Email: "z@example.org", Outcome: "sent"})
	// A worker killed while writing its last line.
	f, err := os.OpenFile(filepath.Join(dir, "alpha", "r1.w2.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"at":"2026-12-01T10:00:09Z","campaign":"alpha","id":"f","outc`)
	f.Close()

	j, err := report.ReadJournal(dir, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range j.Rows {
		got[r.ID] = fmt.Sprintf("%s/%d", r.Outcome, r.Attempts)
	}
	// f's line was cut after its id: f may have received the message.
	want := map[string]string{"a": "sent/1", "b": "sent/2", "c": "in-doubt/2", "d": "refused/1", "e": "pending/1", "f": "in-doubt/1", "g": "in-doubt/1"}
	if !maps.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	for _, r := range j.Rows {
		if r.ID == "g" && r.Code != journal.ClaimedCode {
			t.Errorf("g: code %q, want %q", r.Code, journal.ClaimedCode)
		}
	}
	if j.Counts["sent"] != 2 || j.Counts["in-doubt"] != 3 || j.Counts["pending"] != 1 {
		t.Errorf("counts %v", j.Counts)
	}
	if len(j.Truncated) != 1 || !strings.HasSuffix(j.Truncated[0], "r1.w2.jsonl") {
		t.Errorf("truncated %v, want r1.w2.jsonl", j.Truncated)
	}

	var csvOut, jsonOut strings.Builder
	if err := report.WriteJournal(j, &csvOut, report.Options{Outcomes: []string{"sent", "in-doubt"}}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(csvOut.String()), "\n")
	if len(lines) != 6 || lines[0] != strings.Join(report.JournalColumns, ",")+","+report.FilterColumn || !strings.HasPrefix(lines[1], "a,a@example.org,de,sent,250,2026-12-01T10:00:01Z,1,r1,") {
		t.Errorf("CSV (filtered: the filter column last):\n%s", csvOut.String())
	}
	if err := report.WriteJournal(j, &jsonOut, report.Options{Format: report.FormatJSON}); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Campaign   string              `json:"campaign"`
		Recipients []report.JournalRow `json:"recipients"`
	}
	if err := json.Unmarshal([]byte(jsonOut.String()), &back); err != nil || back.Campaign != "alpha" || len(back.Recipients) != 7 {
		t.Errorf("JSON %v: %s", err, jsonOut.String())
	}

	var nj *report.NoJournalError
	if _, err := report.ReadJournal(dir, "gamma"); !errors.As(err, &nj) {
		t.Errorf("a campaign without journal: err = %v, want *NoJournalError", err)
	}
}
