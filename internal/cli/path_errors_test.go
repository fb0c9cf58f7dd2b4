package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPathErrorsNameTheirLine: "2 usage or configuration error (the
// message names the file, line and field and what to do)" (README, Commands
// and exit codes). A campaign file whose templates_dir, locales_dir,
// template or recipients names nothing is a configuration error (exit 2),
// but the message has no line (bundle.DirError, render's unknown template,
// bundle.RecipientsError carry none), and the unknown template's message
// names "templates/nope/" whatever templates_dir says.
func TestPathErrorsNameTheirLine(t *testing.T) {
	t.Parallel()
	rows := []string{"ada@example.org,Ada,en,1"}
	for _, tt := range []struct {
		name, field string
		line        int
		camp        campaignFile
		recipients  bool // remove the recipients file
	}{
		{name: "templates_dir", field: "templates_dir", line: 4, camp: campaignFile{tmpls: "tmpl", rows: rows}},
		{name: "locales_dir", field: "locales_dir", line: 5, camp: campaignFile{locales: "catalogs", rows: rows}},
		{name: "template", field: "template", line: 3, camp: campaignFile{tmpl: "welcom", rows: rows}},
		{name: "recipients", field: "recipients", line: 7, camp: campaignFile{rows: rows}, recipients: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := writeCampaign(t, tt.camp)
			if tt.recipients {
				if err := os.Remove(filepath.Join(filepath.Dir(file), "recipients.csv")); err != nil {
					t.Fatal(err)
				}
			}
			r := cli(t, nil, "plan", file, "--rejects", filepath.Join(filepath.Dir(file), "rejects.csv"))
			want := file + ":" + itoa(tt.line) + ": " + tt.field + ": "
			if r.code != 2 || !strings.Contains(r.stderr, want) {
				t.Errorf("want exit 2 and %q\n%s", want, r)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
