package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
)

// TestPlanRecipientsFile: a recipients file with a header and no row is an
// operator error (exit 2), never "0 rows: 0 accepted" and exit 0; a file with CR
// line endings (an old spreadsheet export) is read row by row. A count
// below 0 in a column a plural message counts makes its row invalid, named
// by file, line and field, and accounted for: it was rendered, in the form
// of its absolute value ("Ihr -1 Beitrag wartet auf Sie."); 0, -0, -0.0, a
// decimal and +3 remain counts.
func TestPlanRecipientsFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, recipients string
		wantCode         int
		wantOut, wantErr string
	}{
		{"header only", "email,name,locale,posts\n", 2, "", "no recipient rows: the file has a header row but no row below it: add one row per recipient"},
		{"header only, CR", "email,name,locale,posts\r", 2, "", "no recipient rows"},
		{"count -1", counted("-1"), 1, "2 rows: 1 accepted, 0 refused, 1 invalid\n", belowZero("-1")},
		{"count -0.5", counted("-0.5"), 1, "2 rows: 1 accepted, 0 refused, 1 invalid\n", belowZero("-0.5")},
		{"count 0", counted("0"), 0, "2 rows: 2 accepted", ""},
		{"count -0", counted("-0"), 0, "2 rows: 2 accepted", ""},
		{"count -0.0", counted("-0.0"), 0, "2 rows: 2 accepted", ""},
		{"count 1.5", counted("1.5"), 0, "2 rows: 2 accepted", ""},
		{"count +3", counted("+3"), 0, "2 rows: 2 accepted", ""},
		{"CR line endings", "email,name,locale,posts\rada@example.org,Ada,en,1\rjuerg@example.org,Jürg,de-CH,3\r", 0, "2 rows: 2 accepted, 0 refused, 0 invalid", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := writeCampaign(t, campaignFile{})
			fixture.Write(t, filepath.Join(filepath.Dir(file), "recipients.csv"), tt.recipients)
			r := cli(t, nil, "plan", file, "--rejects", filepath.Join(filepath.Dir(file), "rejects.csv")) // not the default, in the package directory
			if r.code != tt.wantCode || !strings.Contains(r.stdout, tt.wantOut) || !strings.Contains(r.stderr+r.stdout, tt.wantErr) {
				t.Errorf("want exit %d, stdout with %q, stderr with %q\n%s", tt.wantCode, tt.wantOut, tt.wantErr, r)
			}
		})
	}
}

// counted is a recipients file whose second row, line 3, a German one, has
// posts, the count of welcome.posts.
func counted(posts string) string {
	return "email,name,locale,posts\nada@example.org,Ada,en,1\njonas@example.org,Jonas,de," + posts + "\n"
}

// belowZero is the plan's reason for counted(posts), a count below 0.
func belowZero(posts string) string {
	return `recipients.csv:3: the template cannot be rendered with this row: templates/welcome/html.tmpl:19: de: .Fields.posts: count "` + posts + `" is below 0: a count is 0 or more (the count of message welcome.posts): fix the value in column "posts" of the recipients file`
}
