package rehearsal_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/demo"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/rehearsal"
	"github.com/tidings-mail/tidings/internal/report"
	"github.com/tidings-mail/tidings/internal/store"
)

// demoBundle loads the bundled demo campaign into a new directory and
// returns it and that directory.
func demoBundle(t *testing.T) (*bundle.Bundle, string) {
	t.Helper()
	dir := t.TempDir()
	b, err := demo.Load(filepath.Join(dir, "demo"))
	if err != nil {
		t.Fatal(err)
	}
	return b, dir
}

// TestRunTheDemo rehearses the bundled demo campaign without cobra: every
// covered recipient's message captured in its language's folder, the
// refusals counted, the reports and the summary written, the canary told.
func TestRunTheDemo(t *testing.T) {
	t.Parallel()
	b, dir := demoBundle(t)
	out := filepath.Join(dir, "out")
	res, err := rehearsal.Run(t.Context(), rehearsal.Config{Bundle: b, Out: out, Who: "test", Host: "here"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Captured != 24 || res.Status.Counts[store.OutcomeSent] != 24 || res.Plan.Refused != 5 || res.Plan.Invalid != 1 || !res.Problems() {
		t.Errorf("captured %d, counts %v, plan %d refused %d invalid", res.Captured, res.Status.Counts, res.Plan.Refused, res.Plan.Invalid)
	}
	if b.Campaign.Batches.Interval == 0 || b.Campaign.Rate.Unlimited() {
		t.Errorf("the rehearsal changed the caller's campaign: %+v", b.Campaign.Batches)
	}
	// QA is told to open the captured mail of every language the README
	// promises: each complete catalog language has a recipient.
	for _, lang := range demo.Complete {
		if res.Mails[lang] == 0 {
			t.Errorf("the demo captured no mail in %s (captured %v): give it a recipient in internal/demo/assets/recipients.csv", lang, res.Mails)
		}
	}
	for lang, n := range res.Mails {
		files, _ := filepath.Glob(filepath.Join(out, "mail", lang, "*.eml"))
		if len(files) != n || lang == "unknown" {
			t.Errorf("mail/%s holds %d files, the result says %d", lang, len(files), n)
		}
	}
	for _, f := range []string{res.Gallery, res.ReportJSON, res.Summary} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
	csv, err := os.ReadFile(res.ReportCSV)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(csv), strings.Join(report.Columns, ",")+"\n") || strings.Count(string(csv), "\n") != 31 {
		t.Errorf("report.csv: want the header and 30 rows\n%s", csv)
	}
	var text bytes.Buffer
	res.WriteText(&text)
	for _, want := range []string{"30 recipient rows: 24 sent, 5 refused, 1 invalid.", "The canary batch sent 9 message(s), one per covered language", "mail"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the story lacks %q\n%s", want, text.String())
		}
	}
}

// TestRunSaysWhoseAllowlistApplied: a campaign that names an environment
// which could not be loaded is rehearsed without an allowlist, and the
// rehearsal says so.
func TestRunSaysWhoseAllowlistApplied(t *testing.T) {
	t.Parallel()
	b, dir := demoBundle(t)
	res, err := rehearsal.Run(t.Context(), rehearsal.Config{Bundle: b, Out: filepath.Join(dir, "out"), Who: "test", Host: "here",
		EnvErr: errors.New("no such environment")})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	res.WriteText(&text)
	want := "environment production, which the campaign names, not loaded (no such environment): no allowlist or suppression list applied"
	if !strings.Contains(text.String(), want) {
		t.Errorf("the rehearsal does not say %q\n%s", want, text.String())
	}
}

// TestARehearsalsFilesAreTheirOwnersAlone: a rehearsal's captured
// messages (mail/<lang>/*.eml), reports, summary and gallery hold real
// recipients' addresses and data, so every file it writes is readable by
// its owner alone (0600) and every directory it creates is its owner's
// alone (0700), whatever the umask; a second rehearsal into the same
// directory leaves none otherwise. They were 0644 and 0755.
func TestARehearsalsFilesAreTheirOwnersAlone(t *testing.T) {
	t.Parallel()
	b, dir := demoBundle(t)
	out := filepath.Join(dir, "out")
	for _, run := range []string{"first", "second"} {
		if _, err := rehearsal.Run(t.Context(), rehearsal.Config{Bundle: b, Out: out, Who: "test", Host: "here"}); err != nil {
			t.Fatalf("%s rehearsal: %v", run, err)
		}
		files := 0
		if err := filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			want := fs.FileMode(0o600)
			if d.IsDir() {
				want = 0o700
			} else {
				files++
			}
			if got := fixture.Perm(t, path); got != want {
				t.Errorf("%s rehearsal: %s: mode %v, want %v", run, path, got, want)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if files < 30 {
			t.Errorf("%s rehearsal: %d files under %s, want the mail, the reports and the gallery", run, files, out)
		}
	}
}

// TestRunAppliesTheEnvironmentsSuppressionList: a rehearsal skips the
// addresses on the campaign's environment's suppression lists, and on the
// lists given for this rehearsal (rehearse --suppress: beside the
// environment's, or alone when no environment was loaded), as a send
// would: nothing is captured for them, and the report holds them as
// skipped, code suppressed.
func TestRunAppliesTheEnvironmentsSuppressionList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		env, extra bool // the environment's list (ada), the rehearsal's own (grace)
		suppressed []string
	}{
		{name: "environment's", env: true, suppressed: []string{"ada@altea.example"}},
		{name: "rehearsal's, no environment", extra: true, suppressed: []string{"grace@altea.example"}},
		{name: "both", env: true, extra: true, suppressed: []string{"ada@altea.example", "grace@altea.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, dir := demoBundle(t)
			cfg := rehearsal.Config{Bundle: b, Out: filepath.Join(dir, "out"), Who: "test", Host: "here"}
			if tt.env {
				list := filepath.Join(dir, "optout.txt")
				fixture.Write(t, list, "# unsubscribed\nADA@Altea.example\n")
				cfg.Env = &environment.Environment{Name: "production", Production: true, SuppressionFiles: []string{list}}
			}
			if tt.extra {
				list := filepath.Join(dir, "bounces.csv")
				fixture.Write(t, list, "email,why\ngrace@altea.example,550\n")
				cfg.Suppress = []string{list}
			}
			res, err := rehearsal.Run(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(tt.suppressed); res.Captured != 24-n || res.Plan.Skipped != n {
				t.Errorf("captured %d messages with %d rows skipped, want %d and %d (%v suppressed)", res.Captured, res.Plan.Skipped, 24-n, n, tt.suppressed)
			}
			csv, err := os.ReadFile(res.ReportCSV)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(csv), "\n") {
				want := slices.ContainsFunc(tt.suppressed, func(a string) bool { return strings.Contains(strings.ToLower(line), ","+a+",") })
				if got := strings.Contains(line, ",skipped,suppressed,"); got != want {
					t.Errorf("report.csv: skipped as suppressed %v, want %v: %s", got, want, line)
				}
			}
		})
	}
}

// TestRunWithTheEnvironmentsUnsubscribeSecret: a rehearsal in an
// environment holding an unsubscribe secret stages a {token} campaign with
// that secret's fingerprint, and its own worker, holding the same secret,
// sends every message (it does not take itself for a worker with another
// secret and pause the campaign).
func TestRunWithTheEnvironmentsUnsubscribeSecret(t *testing.T) {
	t.Parallel()
	b, dir := demoBundle(t)
	camp := *b.Campaign
	camp.ListUnsubscribe = "https://altea.example/unsubscribe?id={id}&token={token}"
	b.Campaign = &camp
	env := &environment.Environment{Name: "production", Production: true, UnsubscribeSecret: "k9F2-unsubscribe-secret-of-the-site"}
	res, err := rehearsal.Run(t.Context(), rehearsal.Config{Bundle: b, Out: filepath.Join(dir, "out"), Who: "test", Host: "here", Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if res.Captured != 24 || res.Status.Counts[store.OutcomeSent] != 24 {
		t.Errorf("captured %d, counts %v, want 24 sent", res.Captured, res.Status.Counts)
	}
}
