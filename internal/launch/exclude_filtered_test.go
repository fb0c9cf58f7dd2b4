package launch_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/launch"
)

// TestLoadDeliveredRefusesAFilteredReport: a report that lists some rows
// only (report --outcome failed,in-doubt) records nobody it left out, the
// sent ones among them: read as a full report, they would be mailed again.
// It is refused, naming the file and what it keeps: a CSV or JSON report
// that says it is filtered (its filter column or field), and a JSON report
// whose rows hold fewer deliveries than its counts say (one written before
// reports said so) or that says Redis had lost chunks of the campaign
// (lost_chunks: their rows are in neither its rows nor its counts), and a
// CSV report with a row saying so (outcome unknown, code lost-chunk: their
// rows are missing), naming that row's line. A full report is read.
func TestLoadDeliveredRefusesAFilteredReport(t *testing.T) {
	t.Parallel()
	const head = "line,id,email,locale,lang,outcome,code,response,at,attempts,batch,campaign"
	tests := []struct {
		name, file, body string
		refused          string // in the error; "" when read
	}{
		{"a CSV report with its filter column", "on-call.csv",
			head + ",filter\n3,b,b@example.org,de,de,failed,550,no such user,,1,0,alpha,\"outcome=failed,in-doubt\"\n", "outcome=failed,in-doubt"},
		{"a JSON report with its filter field", "on-call.json",
			`{"campaign":"alpha","counts":{"sent":8,"failed":1},"filter":"outcome=failed","recipients":[{"id":"b","email":"b@example.org","outcome":"failed"}]}`, "outcome=failed"},
		{"a JSON report with fewer sent rows than its counts", "old.json",
			`{"campaign":"alpha","counts":{"sent":8,"in-doubt":1},"recipients":[{"id":"b","email":"b@example.org","outcome":"in-doubt"}]}`, "its counts say 8 sent, its recipients hold 0"},
		{"a JSON report written while Redis had lost a chunk", "lost.json",
			`{"campaign":"alpha","recipients":[{"id":"a","email":"a@example.org","outcome":"sent"}],"counts":{"sent":1},"lost_chunks":[0]}`, "lost chunk(s) [0]"},
		{"a CSV report written while Redis had lost a chunk", "lost.csv",
			head + "\n2,a,a@example.org,de,de,sent,250,ok,,1,0,alpha\n,,,,, Unknown ,lost-chunk,Redis lost chunk 0,,,,alpha\n", "lost.csv:3 is a report that lists some rows only (outcome unknown: Redis had lost a chunk"},
		{"a full CSV report", "full.csv",
			head + "\n2,a,a@example.org,de,de,sent,250,ok,,1,0,alpha\n3,b,b@example.org,de,de,failed,550,no such user,,1,0,alpha\n", ""},
		{"a full JSON report", "full.json",
			`{"campaign":"alpha","counts":{"sent":1,"failed":1,"pending":0},"recipients":[{"id":"a","email":"a@example.org","outcome":"sent"},{"id":"b","email":"b@example.org","outcome":"failed"}]}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), tt.file)
			fixture.Write(t, path, tt.body)
			d, err := launch.LoadDelivered("alpha", []string{path})
			var fe *launch.FilteredReportError
			switch {
			case tt.refused == "" && (err != nil || d.Sent != 1):
				t.Errorf("LoadDelivered(%s) = %+v, %v; want 1 sent", tt.file, d, err)
			case tt.refused != "" && (!errors.As(err, &fe) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.refused)):
				t.Errorf("LoadDelivered(%s) = %v; want a *FilteredReportError naming %s and %q", tt.file, err, path, tt.refused)
			}
		})
	}
}
