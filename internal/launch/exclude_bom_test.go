package launch_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/launch"
)

// TestExcludeReadsAReportSavedWithABOM: a report opened and saved by a
// spreadsheet as "CSV UTF-8" (or a JSON one from an editor that writes
// it) starts with a byte order mark. Read as text, it made the first
// column "\ufeffid": the id column was dropped and recipients were matched
// by address only, so one delivered in the lost run whose address was
// corrected since (same id) was sent again (red team 8).
func TestExcludeReadsAReportSavedWithABOM(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, file, body string }{
		{"a journal report", "journal-report.csv", "\ufeffid,email,lang,outcome,code,at,attempts,run,worker,campaign\r\n" +
			"u7,old@x.example,en,sent,,2026-01-01T00:00:00Z,1,run1,w1,rt8\r\n"},
		{"a report", "report.csv", "\ufeffline,id,email,locale,lang,outcome\r\n2,u7,old@x.example,en,en,sent\r\n"},
		{"a JSON report", "report.json", "\ufeff" + `{"campaign":"rt8","recipients":[{"id":"u7","email":"old@x.example","outcome":"sent"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(p, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := launch.LoadDelivered("rt8", []string{p})
			if err != nil {
				t.Fatalf("LoadDelivered of a report with a BOM: %v", err)
			}
			if d.Sent != 1 {
				t.Errorf("%d sent, want 1", d.Sent)
			}
			// Matched by id under the address it has now.
			if _, ok := d.Match("u7", "new@x.example"); !ok {
				t.Errorf("recipient u7, sent in the lost run according to %s, is not excluded by id when the report starts with a BOM", p)
			}
		})
	}
}

// TestExcludeRefusesAnotherCampaignsReportSavedWithABOM: a report whose
// columns were reordered to put campaign first and saved with a BOM had
// the header "\ufeffcampaign": the column was not found, and the report of
// another campaign was accepted, excluding its recipients from this one
// (red team 8). It is refused with its line and field.
func TestExcludeRefusesAnotherCampaignsReportSavedWithABOM(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "other.csv")
	body := "\ufeffcampaign,outcome,id,email\r\n" +
		"someone-else,sent,a,a@x.example\r\n" +
		"someone-else,sent,b,b@x.example\r\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDelivered("rt8", []string{p})
	if err == nil {
		t.Fatalf("the report of campaign someone-else (BOM, campaign column first) was accepted for rt8: it excludes %d recipients", d.Len())
	}
	if want := p + ":2: campaign: the row of campaign someone-else, not rt8"; !strings.Contains(err.Error(), want) {
		t.Errorf("refused with %q, want it to contain %q", err, want)
	}
}
