package cli

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestTestSendExitsAsPreviewDoes: for a campaign some of whose
// recipients have a locale no catalog covers, test-send exits as preview
// does for the same campaign, and says that those recipients get nothing.
//
// The promise (`tidings test-send --help`, internal/cli/help/test-send.txt):
// "Exit 1 when a language was skipped (incomplete) or failed, as preview
// does for the same campaign"; `preview` help: "Exit 1 if any language that
// the recipients need is not covered"; PRODUCT.md, the locale rule: "A
// recipient whose locale is not covered is refused: never sent the default
// language."
//
// What happens: recipients ada (en) and daan (nl; no nl catalog). `tidings
// preview` prints `REFUSED 1 not-covered: no catalog for nl` and exits 1;
// `tidings test-send` of the same campaign sends the nine catalog
// languages, prints "9 test messages sent", never mentions nl or that a
// recipient will be refused, and exits 0. QA, who test-sends to sign off
// "every language", is told all is well while a recipient's language has no
// message at all.
//
// The cause was: internal/testsend/testsend.go (Run) iterated over
// b.Engine.Languages() (the catalogs) only, and ignores the plan's refused
// rows (examples comes from b.Samples, which keeps only per-language
// samples); internal/cli/testsend.go:43-52 decides the exit code from
// skipped and failed catalog languages alone.
func TestTestSendExitsAsPreviewDoes(t *testing.T) {
	t.Parallel()
	file := writeCampaign(t, campaignFile{name: "rt14e-nl", rows: []string{"ada@example.org,Ada,en,1", "daan@example.org,Daan,nl,2"}})
	p := cli(t, nil, "preview", file, "--out", t.TempDir())
	if p.code != 1 || !strings.Contains(p.stdout, "no catalog for nl") {
		t.Fatalf("setup: preview must refuse the nl recipient and exit 1\n%s", p)
	}
	smtp := startSMTP(t, smtpcapture.Config{})
	env := merge(smtpEnv(smtp), map[string]string{"TIDINGS_ALLOW": "example.org"})
	r := cli(t, env, "test-send", file, "--env", "staging", "--to", "qa@example.org")
	if r.code != p.code {
		t.Errorf("test-send exit %d, preview of the same campaign exit %d (a recipient's locale nl is covered by no catalog)\n%s", r.code, p.code, r)
	}
	if !regexp.MustCompile(`\bnl\b`).MatchString(r.stdout + r.stderr) {
		t.Errorf("test-send does not say that the nl recipient is refused (gets no message)\n%s", r)
	}
}
