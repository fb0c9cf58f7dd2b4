package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
)

// TestRecipientsFileAdvice: preview of a campaign whose recipients file
// cannot be used says what is wrong with it, and points to the campaign
// file's recipients: only when the path is what is wrong (no such file):
// a file that is there with a header and no row was told to "fix
// 'recipients:' in the campaign file", sending the operator to a path
// that was right.
func TestRecipientsFileAdvice(t *testing.T) {
	t.Parallel()
	const pathAdvice = "fix 'recipients:' in the campaign file"
	const noFile = "\x00" // no recipients file at all
	for _, tt := range []struct {
		name       string
		recipients string // noFile removes the file
		want       string
		pathAdvice bool
	}{
		{"header only", "email,name,locale,posts\n", "no recipient rows: the file has a header row but no row below it: add one row per recipient", false},
		{"header without email", "mail,name,locale,posts\nada@example.org,Ada,en,1\n", "the header lacks the column(s) email", false},
		// (fx43f) What is wrong is the file's content, which its error
		// says how to fix; the path is right.
		{"empty file", "", "the file is empty: add a header row", false},
		{"semicolons", "email;name;locale;posts\nada@example.org;Ada;en;1\n", "the header is one column", false},
		{"Latin-1", "email,name,locale,posts\na@example.org,Jos\xe9,en,1\nb@example.org,Ren\xe9,en,1\n", "the file looks like Latin-1 or Windows-1252", false},
		{"header again", "email,name,locale,posts\na@example.org,A,en,1\nlocale,email,name,posts\n", "this row is a header row again", false},
		{"no such file", noFile, "does not exist", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := writeCampaign(t, campaignFile{})
			rcp := filepath.Join(filepath.Dir(file), "recipients.csv")
			if tt.recipients == noFile {
				if err := os.Remove(rcp); err != nil {
					t.Fatal(err)
				}
			} else {
				fixture.Write(t, rcp, tt.recipients)
			}
			r := cli(t, nil, "preview", file, "--out", t.TempDir())
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("want exit 2 saying %q\n%s", tt.want, r)
			}
			if got := strings.Contains(r.stderr, pathAdvice); got != tt.pathAdvice {
				t.Errorf("advice to fix the campaign file's recipients: %v, want %v\n%s", got, tt.pathAdvice, r)
			}
		})
	}
}
