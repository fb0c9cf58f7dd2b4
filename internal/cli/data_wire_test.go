package cli

// The tests of this file were red team 11's: each comment says what
// happened before the campaign's data was decoded once, as every worker
// gets it (campaign.workerData), and tc took a count given as a number.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
)

// countFromDataCampaign writes a campaign whose template is the bundled
// welcome template with the plural count of welcome.posts taken from the
// campaign's data (.Data.n, n: 3 in the YAML) instead of a recipients
// column, and one Russian recipient.
func countFromDataCampaign(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	tdir := t.TempDir()
	for _, f := range []string{"subject.tmpl", "html.tmpl", "text.tmpl"} {
		b, err := os.ReadFile(filepath.Join(root, "templates", "welcome", f))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), `{{tc "welcome.posts" .Fields.posts .}}`, `{{tc "welcome.posts" .Data.n .}}`)
		fixture.Write(t, filepath.Join(tdir, "welcome", f), s)
	}
	return writeCampaign(t, campaignFile{tmpls: tdir, rows: []string{"anna@altea.example,Anna,ru,1"}, extra: "  n: 3\n"})
}

// TestWorkerRendersACountFromCampaignData: a template takes a
// plural count from the campaign's data, `{{tc "welcome.posts" .Data.n .}}`
// with `data: {n: 3}`. The README says tc's COUNT is "a whole number or a
// decimal such as `1.5`, as a number or text", that plan "checks that every
// accepted row renders as the worker will render it", and that the gallery
// shows the message "exactly as a worker composes the message". Preview
// renders it (Russian "Ваши 3 публикации ...") and plan accepts the row;
// then the worker refuses the recipient: `refused, render-error ... count 3
// (json.Number) is not a whole number or a decimal given as text`. The
// definition staged in Redis is decoded with json.Decoder.UseNumber
// (internal/campaign/definition.go FromDefinition), so .Data.n reaches the
// worker as a json.Number, which internal/render/plural.go toCount does not
// take (it takes a string or an integer kind only). Every recipient of such
// a campaign is refused by the worker after QA signed off on a gallery that
// rendered them.
func TestWorkerRendersACountFromCampaignData(t *testing.T) {
	t.Parallel()
	file := countFromDataCampaign(t)
	out := t.TempDir()
	p := cli(t, nil, "preview", file, "--out", filepath.Join(out, "preview"))
	txt, err := os.ReadFile(filepath.Join(out, "preview", "ru.txt"))
	if p.code != 0 || err != nil || !strings.Contains(string(txt), "Ваши 3 публикации") {
		t.Fatalf("preview should render ru with the count 3 (err %v)\n%s\n%s", err, p, txt)
	}
	r := cli(t, nil, "rehearse", file, "--out", filepath.Join(out, "rehearse"))
	report, err := os.ReadFile(filepath.Join(out, "rehearse", "report.csv"))
	if err != nil {
		t.Fatalf("rehearse wrote no report: %v\n%s", err, r)
	}
	if !strings.Contains(string(report), ",ru,ru,sent,") {
		t.Errorf("the worker did not send what preview showed and plan accepted; report:\n%s\n%s", report, r)
	}
	mails, _ := filepath.Glob(filepath.Join(out, "rehearse", "mail", "ru", "*.eml"))
	if len(mails) != 1 {
		t.Errorf("want 1 captured ru message, got %d", len(mails))
	}
}

// TestWorkerSendsWhatPreviewShowsForAZeroInData: a template shows
// a sentence only when a campaign data value is set, `{{if .Data.n}}{{t
// "welcome.signature" .}}{{end}}`, with `data: {n: 0}`. Preview (and the
// gallery QA signs off) leave the signature out, as text/template treats 0
// as false; the worker sends it ("Ihr Altea-Team"), because the data it
// renders with is decoded from the staged definition as json.Number("0"),
// a non-empty string, which is true (internal/campaign/definition.go
// FromDefinition's UseNumber; render never converts it back). Promised:
// the gallery shows each language "exactly as a worker composes the
// message", `preview` "writes, per language, the message a worker sends to
// the recipient it names", and after `send` the gallery renders "what the
// workers will actually send". Here the wire carries text QA never saw.
// (`{{if gt .Data.n 2}}` fails the same way in the other direction: the
// worker refuses everyone with "incompatible types for comparison:
// json.Number and int" where preview rendered.)
func TestWorkerSendsWhatPreviewShowsForAZeroInData(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	tdir := t.TempDir()
	for _, f := range []string{"subject.tmpl", "html.tmpl", "text.tmpl"} {
		b, err := os.ReadFile(filepath.Join(root, "templates", "welcome", f))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), `{{t "welcome.signature" .}}`, `{{if .Data.n}}{{t "welcome.signature" .}}{{end}}`)
		fixture.Write(t, filepath.Join(tdir, "welcome", f), s)
	}
	file := writeCampaign(t, campaignFile{tmpls: tdir, rows: []string{"anna@altea.example,Anna,de,1"}, extra: "  n: 0\n"})
	out := t.TempDir()
	if r := cli(t, nil, "preview", file, "--out", filepath.Join(out, "p")); r.code != 0 {
		t.Fatalf("preview\n%s", r)
	}
	if r := cli(t, nil, "rehearse", file, "--out", filepath.Join(out, "r")); r.code != 0 {
		t.Fatalf("rehearse\n%s", r)
	}
	pb, err := os.ReadFile(filepath.Join(out, "p", "de.eml"))
	if err != nil {
		t.Fatal(err)
	}
	mails, _ := filepath.Glob(filepath.Join(out, "r", "mail", "de", "*.eml"))
	if len(mails) != 1 {
		t.Fatalf("want 1 captured de message, got %d", len(mails))
	}
	wb, err := os.ReadFile(mails[0])
	if err != nil {
		t.Fatal(err)
	}
	p, w := decodeMail(t, pb), decodeMail(t, wb)
	if p.text != w.text {
		t.Errorf("the worker sent another text than preview shows for the same recipient\npreview: %q\nworker:  %q", p.text, w.text)
	}
	if p.html != w.html {
		t.Errorf("the worker sent another HTML part than preview shows for the same recipient\npreview: %q\nworker:  %q", p.html, w.html)
	}
}

// TestNullCampaignDataIsRefused: a campaign data key written
// without a value (`promo_code:`, YAML null, as an operator leaves a value
// to fill in later) and printed by the template (`{{.Data.promo_code}}`).
// Promised (README, Writing a template): "Missing data is an error
// (`missingkey=error`), never `<no value>`, and it says where and what to
// do ... (also for ... a key the campaign's `data` lacks)". Instead plan
// and preview accept it and the worker mails the text part with the literal
// "<no value>" where the code should be. text/template's missingkey=error
// covers absent keys only; a present key holding nil prints "<no value>"
// (guessed cause: internal/campaign validate.go lets a null data value
// through, and internal/render never treats a nil value as missing).
func TestNullCampaignDataIsRefused(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	tdir := t.TempDir()
	for _, f := range []string{"subject.tmpl", "html.tmpl", "text.tmpl"} {
		b, err := os.ReadFile(filepath.Join(root, "templates", "welcome", f))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), `{{t "welcome.signature" .}}`, `{{t "welcome.signature" .}} {{.Data.promo_code}}`)
		fixture.Write(t, filepath.Join(tdir, "welcome", f), s)
	}
	file := writeCampaign(t, campaignFile{tmpls: tdir, rows: []string{"anna@altea.example,Anna,de,1"}, extra: "  promo_code:\n"})
	out := filepath.Join(t.TempDir(), "r")
	r := cli(t, nil, "rehearse", file, "--out", out)
	mails, _ := filepath.Glob(filepath.Join(out, "mail", "*", "*.eml"))
	for _, m := range mails {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		d := decodeMail(t, b)
		for part, s := range map[string]string{"subject": d.subject, "text": d.text, "html": d.html} {
			if strings.Contains(s, "<no value>") || strings.Contains(s, "&lt;no value&gt;") {
				t.Errorf("the worker mailed %s with <no value> in its %s part (rehearse exit %d)", filepath.Base(m), part, r.code)
			}
		}
	}
	if len(mails) > 0 && r.code == 0 {
		t.Errorf("rehearse sent the null data value without a word\n%s", r)
	}
}

// TestWorkerPrintsCampaignDataAsPreviewShows: the campaign's data
// holds a value that YAML reads as other than text, printed by the
// template after the signature (`{{.Data.v}}`):
//   - a date, `v: 2026-01-01` (a re-registration deadline is the first
//     thing such a notice carries). Preview, the gallery and plan render it
//     from the YAML, where it is a time.Time: "2026-01-01 00:00:00 +0000
//     UTC"; the worker sends "2026-01-01T00:00:00Z".
//   - a decimal, `v: 1000000.0`: preview shows "1e+06", the worker sends
//     "1000000" (the reverse of the 1e+06 problem definition.go's comment
//     says UseNumber fixed).
//   - a price, `v: 9.99`, formatted `{{printf "%.2f" .Data.v}}` (printf's
//     verbs are not prose, the README says): preview shows "9.99", the
//     worker mails "%!f(json.Number=9.)".
//
// The worker renders from the staged definition, where data went through
// JSON: every YAML value that is not text, an integer, a boolean or a
// list/map of those comes back changed. Promised: preview "writes, per
// language, the message a worker sends to the recipient it names", the
// gallery shows each language "exactly as a worker composes the message".
// Guessed cause: internal/campaign/definition.go Definition/FromDefinition
// (the JSON round trip of Campaign.Data), with preview and plan rendering
// the YAML's values instead of the definition's.
func TestWorkerPrintsCampaignDataAsPreviewShows(t *testing.T) {
	t.Parallel()
	tests := []struct{ value, print string }{
		{"2026-01-01", "{{.Data.v}}"},
		{"1000000.0", "{{.Data.v}}"},
		{"9.99", `{{printf "%.2f" .Data.v}}`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Parallel()
			previewEqualsWorker(t, tt.print, "  v: "+tt.value+"\n")
		})
	}
}

// previewEqualsWorker writes a campaign whose template prints the
// action print after the signature, with the data lines extra, and checks
// that the worker (rehearse) sends the de recipient what preview shows for
// them.
func previewEqualsWorker(t *testing.T, print, extra string) {
	t.Helper()
	root := repoRoot(t)
	tdir := t.TempDir()
	for _, f := range []string{"subject.tmpl", "html.tmpl", "text.tmpl"} {
		b, err := os.ReadFile(filepath.Join(root, "templates", "welcome", f))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), `{{t "welcome.signature" .}}`, `{{t "welcome.signature" .}} `+print)
		fixture.Write(t, filepath.Join(tdir, "welcome", f), s)
	}
	file := writeCampaign(t, campaignFile{tmpls: tdir, rows: []string{"anna@altea.example,Anna,de,1"}, extra: extra})
	out := t.TempDir()
	if r := cli(t, nil, "preview", file, "--out", filepath.Join(out, "p")); r.code != 0 {
		t.Fatalf("preview\n%s", r)
	}
	if r := cli(t, nil, "rehearse", file, "--out", filepath.Join(out, "r")); r.code != 0 {
		t.Fatalf("rehearse\n%s", r)
	}
	pb, err := os.ReadFile(filepath.Join(out, "p", "de.eml"))
	if err != nil {
		t.Fatal(err)
	}
	mails, _ := filepath.Glob(filepath.Join(out, "r", "mail", "de", "*.eml"))
	if len(mails) != 1 {
		t.Fatalf("want 1 captured de message, got %d", len(mails))
	}
	wb, err := os.ReadFile(mails[0])
	if err != nil {
		t.Fatal(err)
	}
	p, w := decodeMail(t, pb), decodeMail(t, wb)
	line := func(s string) string {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "Altea-Team") {
				return l
			}
		}
		return ""
	}
	if p.text != w.text {
		t.Errorf("the worker sent another text than preview shows for the same recipient\npreview: %q\nworker:  %q", line(p.text), line(w.text))
	}
	if p.html != w.html {
		t.Errorf("the worker sent another HTML part than preview shows for the same recipient")
	}
}
