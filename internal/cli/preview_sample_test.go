package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestPreviewNeverCallsACompleteLanguageIncomplete: the static
// gallery of `tidings preview` must not tell QA that a complete language is
// incomplete and that its recipients "would be refused" because the made-up
// sample data lacks a column of the recipients file.
//
// The promise (README, "QA: sign off every language"): "A language with no
// recipient in the campaign is shown with sample data; if that cannot render
// its message (the template prints a column the sample lacks), the card says
// `nothing to show` rather than `NOT SENT`, which only a language whose
// recipients are refused is." and "An incomplete or refused language is a
// red card with the reason". CHANGELOG (red team 14A) fixed it in the
// console's gallery: "sample data that cannot render says `nothing to show`,
// never NOT SENT".
//
// What happens: the template prints .Fields.plan, a column every row of the
// recipients file has; the only recipient is English. `tidings preview`
// prints every other catalog language (all complete: `check` passes) as
// `INCOMPLETE  render error: ... this recipient has no column "plan": add it
// to the recipients file` (the file has it), and index.html shows each as a
// red card "NOT SENT — render error ... Recipients of this language would be
// refused." A German recipient added to the file would be sent, not refused.
//
// The cause was: internal/preview/preview.go (Run) turned any render
// error of a language, sample data included, into Covered=false with
// "render error: ...", which WriteTable prints as INCOMPLETE and the gallery
// template as a NOT SENT banner; the console's Server.card
// (internal/console/gallery.go:383-391) got the "nothing to show" case, the
// static preview did not.
func TestPreviewNeverCallsACompleteLanguageIncomplete(t *testing.T) {
	t.Parallel()
	file := sampleLacksColumn(t)
	root, dir := repoRoot(t), filepath.Dir(file)
	if r := cli(t, nil, "check", "--templates", filepath.Join(dir, "templates"), "--locales", filepath.Join(root, "locales")); r.code != 0 {
		t.Fatalf("setup: check must pass (every catalog complete)\n%s", r)
	}

	out := filepath.Join(t.TempDir(), "preview")
	r := cli(t, nil, "preview", file, "--out", out)
	var de string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "de ") {
			de = line
		}
	}
	if de == "" {
		t.Fatalf("preview lists no German line\n%s", r)
	}
	if strings.Contains(de, "INCOMPLETE") || strings.Contains(de, "render error") {
		t.Errorf("preview calls German, a complete catalog nobody in the campaign needs, incomplete because the sample data lacks a column:\n%s", de)
	}
	if !strings.Contains(de, "nothing to show") {
		t.Errorf("preview's German line does not say it has nothing to show:\n%s", de)
	}
	if r.code != 0 {
		t.Errorf("preview exit %d, want 0: every language the recipients need is covered\n%s", r.code, r)
	}
	b, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	card := string(b)
	i := strings.Index(card, `id="de"`)
	if i < 0 {
		t.Fatalf("the gallery has no German card")
	}
	card = card[i:]
	card = card[:strings.Index(card, "</section>")]
	if !strings.Contains(card, "nothing to show") {
		t.Errorf("the gallery's German card does not say it has nothing to show:\n%s", card)
	}
	if strings.Contains(card, "NOT SENT") || strings.Contains(card, "would be refused") {
		t.Errorf("the gallery shows German as NOT SENT, its recipients refused, though the catalog is complete and a German row of this file would be sent:\n%s", card)
	}
}

// TestTestSendSaysNothingToShowOfSampleData: test-send of the same campaign
// as TestPreviewNeverCallsACompleteLanguageIncomplete says of German that it
// has nothing to show, not FAIL, and exits 0 as preview does.
func TestTestSendSaysNothingToShowOfSampleData(t *testing.T) {
	t.Parallel()
	file := sampleLacksColumn(t)
	smtp := startSMTP(t, smtpcapture.Config{})
	env := merge(smtpEnv(smtp), map[string]string{"TIDINGS_ALLOW": "example.org"})
	r := cli(t, env, "test-send", file, "--env", "staging", "--to", "qa@example.org")
	if r.code != 0 || !regexp.MustCompile(`(?m)^none +de +nothing to show`).MatchString(r.stdout) {
		t.Errorf("test-send: want exit 0 and German \"nothing to show\" (the sample data lacks a column; no German recipient)\n%s", r)
	}
	if smtp.Count() != 1 {
		t.Errorf("test-send sent %d messages, want 1 (English, the only language with a recipient)", smtp.Count())
	}
}

// sampleLacksColumn writes a campaign whose template prints .Fields.plan, a
// column of its recipients file (one English recipient) that the sample
// data lacks, and returns its file.
func sampleLacksColumn(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	tpl := filepath.Join(dir, "templates", "welcome")
	for _, f := range []string{"subject.tmpl", "html.tmpl", "text.tmpl"} {
		b, err := os.ReadFile(filepath.Join(root, "templates", "welcome", f))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if f == "text.tmpl" {
			s += "\n{{.Fields.plan}}\n"
		}
		fixture.Write(t, filepath.Join(tpl, f), s)
	}
	file := filepath.Join(dir, "campaign.yaml")
	fixture.Write(t, file, `name: rt14e-sample
environment: staging
template: welcome
templates_dir: templates
locales_dir: `+filepath.Join(root, "locales")+`
default_locale: en
recipients: recipients.csv
from: "Altea Community <community@altea.example>"
batches:
  interval: 0s
data:
  reregister_url: "https://altea.example/re-register"
`)
	fixture.Write(t, filepath.Join(dir, "recipients.csv"), "email,name,locale,posts,plan\nada@example.org,Ada,en,1,gold\n")
	return file
}
