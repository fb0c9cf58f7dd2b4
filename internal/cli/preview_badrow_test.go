package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestPreviewShowsALanguageWithItsFirstAcceptedRow: QA previews a
// campaign (bundled catalogs, all complete) whose recipients file has, as
// its first German row, one whose posts column is not a number ("lots"):
// plan counts that row invalid (render-error) and the other German
// recipient, lena, accepted; send mails her the German message.
//
// The README: `preview` renders "the template in every catalog language
// (sample data from the recipients file, one real recipient per locale where
// present, else testdata samples) ... flags every incomplete locale"; "A
// language is covered only if its catalog holds every key the template
// uses, with every plural form that language needs"; the gallery's red card
// is for "an incomplete or refused language".
//
// Found by red team 10: preview listed de as INCOMPLETE with 2 recipients
// needing it and the render error of that one row, and the gallery's de
// section said "NOT SENT — render error ... 2 recipient(s) of this language
// are refused" with no German message at all: QA could not see the German
// message lena gets, and was told nobody German is mailed. The language
// was rendered with the first row of it the reader accepts
// (bundle.FirstPerLanguage), before the plan's render check; now with the
// first row the plan accepts, and the invalid row is said.
func TestPreviewShowsALanguageWithItsFirstAcceptedRow(t *testing.T) {
	t.Parallel()
	file := writeCampaign(t, campaignFile{name: "rt10-prev", rows: []string{
		"eve@example.org,Eve,en,1",
		"jonas@example.org,Jonas,de,lots", // invalid: render-error
		"lena@example.org,Lena,de,3",
	}})
	dir := filepath.Dir(file)
	plan := cli(t, nil, "plan", file, "--rejects", filepath.Join(dir, "rejects.csv"))
	if !strings.Contains(plan.stdout, "3 rows: 2 accepted, 0 refused, 1 invalid") || !regexp.MustCompile(`(?m)^de\s+de\s+exact\s+1\s+0`).MatchString(plan.stdout) {
		t.Fatalf("plan does not accept lena in de\n%s", plan)
	}
	out := filepath.Join(t.TempDir(), "out")
	r := cli(t, nil, "preview", file, "--out", out)
	if m := regexp.MustCompile(`(?m)^de\s+(\S+)\s+(\d+)\s+(.*)$`).FindStringSubmatch(r.stdout); m == nil || m[1] != "ok" {
		t.Errorf("preview's line for de: %q; want de ok with the German subject (de's catalog is complete, and lena is sent the German message)\n%s", m, r)
	} else if !strings.Contains(m[3], "1 row(s) of de invalid, not sent; the first: ") || !strings.Contains(m[3], "recipients.csv:3: ") {
		t.Errorf("preview's line for de does not say that jonas's row (line 3) is invalid: %q", m[3])
	}
	index, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if i := strings.Index(string(index), "NOT SENT"); i >= 0 {
		t.Errorf("the gallery says a language is not sent: %q", string(index)[i:min(len(index), i+200)])
	}
	if !strings.Contains(string(index), "Lena") || !strings.Contains(string(index), "1 row(s) of this language are invalid and not sent") {
		t.Errorf("the gallery's German card is not lena's, or does not say that one German row is invalid")
	}
}

// TestTestSendSendsALanguageWithItsFirstAcceptedRow: the same recipients file
// (the first German row's posts is "lots"; lena, the second, is accepted
// and sent German) given to `tidings test-send`.
//
// The README: test-send "sends one message per covered language to a QA
// inbox, the subject prefixed [TEST de]; exit 1 when a language was
// skipped (incomplete) or failed".
//
// Found by red team 10: no German test message reached the QA inbox; the
// output said "FAIL de render: ..." and test-send exited 1, though German
// is covered and is sent to lena: each language was rendered with the
// first row of it the reader accepts, whether or not the template can
// render it, and that row's render error counted as the language's.
func TestTestSendSendsALanguageWithItsFirstAcceptedRow(t *testing.T) {
	t.Parallel()
	smtp := startSMTP(t, smtpcapture.Config{})
	env := merge(smtpEnv(smtp), map[string]string{"TIDINGS_ALLOW": "example.org"})
	file := writeCampaign(t, campaignFile{name: "rt10-ts", rows: []string{
		"eve@example.org,Eve,en,1",
		"jonas@example.org,Jonas,de,lots", // invalid: render-error
		"lena@example.org,Lena,de,3",
	}})
	r := cli(t, env, "test-send", file, "--env", "staging", "--to", "qa@example.org")
	german := false
	for _, m := range smtp.Messages() {
		if strings.Contains(m.Body, "[TEST de]") || strings.Contains(string(m.Data), "TEST de") {
			german = true
		}
	}
	if r.code != 0 || !german || !strings.Contains(r.stdout, "sent  de ") || !strings.Contains(r.stdout, "1 row(s) of de invalid, not sent; the first: ") {
		t.Errorf("test-send: exit %d, a German test message received: %v; want exit 0 and the German message (de is covered; lena is sent it)\n%s", r.code, german, r)
	}
}

// TestPreviewAndTestSendFlagALanguageNoRowOfWhichRenders: every German row
// of the recipients file is one the template cannot be rendered with (posts
// is not a number): the plan sends nobody German, so preview flags de
// (INVALID, exit 1) and test-send fails it (exit 1), each naming the
// first row and why, rather than showing a German message nobody gets.
func TestPreviewAndTestSendFlagALanguageNoRowOfWhichRenders(t *testing.T) {
	t.Parallel()
	smtp := startSMTP(t, smtpcapture.Config{})
	env := merge(smtpEnv(smtp), map[string]string{"TIDINGS_ALLOW": "example.org"})
	file := writeCampaign(t, campaignFile{name: "all-bad-de", rows: []string{
		"eve@example.org,Eve,en,1",
		"jonas@example.org,Jonas,de,lots",
		"lena@example.org,Lena,de,many",
	}})
	for _, tt := range []struct {
		name string
		args []string
		line *regexp.Regexp
	}{
		{"preview", []string{"preview", file, "--out", filepath.Join(t.TempDir(), "out")},
			regexp.MustCompile(`(?m)^de\s+INVALID\s+2\s+invalid: none of its 2 row\(s\) can be rendered, so none is sent \(the first: \S+recipients.csv:3: `)},
		{"test-send", []string{"test-send", file, "--env", "staging", "--to", "qa@example.org"},
			regexp.MustCompile(`(?m)^FAIL\s+de\s+not sent: none of the 2 row\(s\) of de can be rendered \(the first: \S+recipients.csv:3: `)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := cli(t, env, tt.args...)
			if r.code != 1 || !tt.line.MatchString(r.stdout) {
				t.Errorf("%s: exit %d; want exit 1 and a line matching %s\n%s", tt.name, r.code, tt.line, r)
			}
		})
	}
}
