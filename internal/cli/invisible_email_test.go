package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanInvisibleCharacterInEmailIsInvalid: a recipient whose address
// holds a character a spreadsheet does not show (here a zero-width space
// after "ada") is an invalid row, not a second mailbox beside
// ada@example.org: plan counts it invalid, names the character and its
// byte and says to remove it, and writes it to the rejects file as
// invalid-email.
func TestPlanInvisibleCharacterInEmailIsInvalid(t *testing.T) {
	t.Parallel()
	file := writeCampaign(t, campaignFile{rows: []string{
		"ada@example.org,Ada,en,1",
		"ada\u200b@example.org,Ada,en,1",
		"bob@exam\u00adple.org,Bob,en,2",
	}})
	rejects := filepath.Join(filepath.Dir(file), "rejects.csv")
	r := cli(t, nil, "plan", file, "--rejects", rejects)
	const todo = ", which a spreadsheet does not show, so it is not the address it looks like: remove the character"
	for _, want := range []string{
		"3 rows: 1 accepted, 0 refused, 2 invalid",
		`recipients.csv:3: email: "ada\u200b@example.org" holds the invisible character U+200B at byte 3` + todo,
		`recipients.csv:4: email: "bob@exam\u00adple.org" holds the invisible character U+00AD at byte 8` + todo,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan output lacks %q\n%s", want, r)
		}
	}
	if r.code != 1 {
		t.Errorf("exit %d, want 1 (invalid rows)\n%s", r.code, r)
	}
	b, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(b), "invalid-email"); got != 2 {
		t.Errorf("rejects file has %d invalid-email rows, want 2:\n%s", got, b)
	}
}

// TestTestSendToWithInvisibleCharacterIsRefused: test-send --to follows the
// same rule as a recipients file: an address holding a character a
// spreadsheet does not show is refused (exit 2) before anything is sent,
// also in an environment without an allowlist (where --to was not parsed
// at all).
func TestTestSendToWithInvisibleCharacterIsRefused(t *testing.T) {
	t.Parallel()
	file := writeCampaign(t, campaignFile{})
	r := cli(t, nil, "test-send", file, "--env", "staging", "--to", "qa\u200b@example.org")
	want := `the QA inbox "qa\u200b@example.org" holds the invisible character U+200B at byte 2, which a spreadsheet does not show, so it is not the address it looks like: remove the character`
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Errorf("want exit 2 and %q on stderr\n%s", want, r)
	}
}
