package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
)

// TestPlanRecipientsFile: a recipients file with a header and no row is an
// operator error (exit 2), never "0 rows: 0 accepted" and exit 0; a file with CR
// line endings (an old spreadsheet export) is read row by row.
func TestPlanRecipientsFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, recipients string
		wantCode         int
		wantOut, wantErr string
	}{
		{"header only", "email,name,locale,posts\n", 2, "", "no recipient rows: the file has a header row but no row below it: add one row per recipient"},
		{"header only, CR", "email,name,locale,posts\r", 2, "", "no recipient rows"},
		{"CR line endings", "email,name,locale,posts\rada@example.org,Ada,en,1\rjuerg@example.org,Jürg,de-CH,3\r", 0, "2 rows: 2 accepted, 0 refused, 0 invalid", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := writeCampaign(t, campaignFile{})
			fixture.Write(t, filepath.Join(filepath.Dir(file), "recipients.csv"), tt.recipients)
			r := cli(t, nil, "plan", file)
			if r.code != tt.wantCode || !strings.Contains(r.stdout, tt.wantOut) || !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("want exit %d, stdout with %q, stderr with %q\n%s", tt.wantCode, tt.wantOut, tt.wantErr, r)
			}
		})
	}
}
