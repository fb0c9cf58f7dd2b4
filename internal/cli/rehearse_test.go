package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/demo"
)

// TestRehearseSaysWhatTheCanarySent: with canary_per_locale 2 the canary
// sends two per covered language, and the rehearsal says so (it said "one
// per covered language" whatever the setting).
func TestRehearseSaysWhatTheCanarySent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		perLocale string
		rows      []string
		want      string
	}{
		{"2", rowsIn(3, "en", "de", "ja"), "The canary batch sent 6 message(s), 2 per covered language, before the rest."},
		{"1", rowsIn(3, "en", "de"), "The canary batch sent 2 message(s), one per covered language, before the rest."},
		{"2", append(rowsIn(3, "en"), rowsIn(1, "de")...), "The canary batch sent 3 message(s), by language: de 1, en 2, before the rest."},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			file := writeCampaign(t, campaignFile{rows: tt.rows, batches: "  canary_per_locale: " + tt.perLocale + "\n  approve_after_canary: true"})
			r := cli(t, nil, "rehearse", file, "--out", filepath.Join(t.TempDir(), "out"))
			if r.code != 0 || !strings.Contains(r.stdout, tt.want) {
				t.Errorf("want exit 0 and %q\n%s", tt.want, r)
			}
		})
	}
}

// TestDemoHelpIsTrue: demo --help names the sample's complete and
// incomplete languages, and they are what the engine built from the
// written sample finds.
func TestDemoHelpIsTrue(t *testing.T) {
	t.Parallel()
	b, err := demo.Load(filepath.Join(t.TempDir(), "demo"))
	if err != nil {
		t.Fatal(err)
	}
	var complete, incomplete []string
	for _, c := range b.Engine.Languages() {
		if c.Covered {
			complete = append(complete, c.Lang)
		} else {
			incomplete = append(incomplete, c.Lang)
		}
	}
	if !slices.Equal(complete, demo.Complete) || !slices.Equal(incomplete, demo.Incomplete) {
		t.Errorf("the sample's engine has complete %v, incomplete %v; demo says %v, %v", complete, incomplete, demo.Complete, demo.Incomplete)
	}
	r := cli(t, nil, "demo", "--help")
	for _, want := range []string{
		"10 catalog languages",
		"complete:   " + strings.Join(complete, ", ") + "\n",
		"incomplete: " + strings.Join(incomplete, ", ") + " (deliberately",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo --help lacks %q\n%s", want, r)
		}
	}
}

// TestDemoNamesTheConsole: the demo ends with the command that opens its
// campaign in the web console.
func TestDemoNamesTheConsole(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "demo")
	r := cli(t, nil, "demo", "--out", out)
	want := "tidings console --campaign " + filepath.Join(out, "campaign", demo.CampaignFile) + "\n"
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("want exit 0 and %q\n%s", want, r)
	}
}
