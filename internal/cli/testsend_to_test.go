package cli

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestTestSendToSaysWhatIsWrongWithIt: a --to that is not a bare address
// is refused for that, exit 2, with or without an allowlist, and nothing
// is sent; only a well-formed address outside the allowlist is refused as
// outside it. With an allowlist, every malformed --to was "not in the
// allowlist" (a display name, a list of two, surrounding spaces, a line
// break printed as is), which sent QA to the environment's settings. The
// refusal of one outside the allowlist says what to do: it did not.
func TestTestSendToSaysWhatIsWrongWithIt(t *testing.T) {
	t.Parallel()
	smtp := startSMTP(t, smtpcapture.Config{})
	file := writeCampaign(t, campaignFile{rows: []string{"ada@example.org,Ada,en,1"}})
	tests := []struct{ name, to, want string }{
		{"no domain", "qa", `the QA inbox "qa" is not an email address: write it as local@domain`},
		{"a display name", "QA <qa@example.org>", `the QA inbox "QA <qa@example.org>" is not a bare address`},
		{"two addresses", "qa@example.org, boss@example.org", `the QA inbox "qa@example.org, boss@example.org" is not a bare address`},
		{"spaces", " qa@example.org ", `the QA inbox " qa@example.org " is not a bare address`},
		{"a line break", "qa@example.org\r\nBcc: x@evil.example", `the QA inbox "qa@example.org\r\nBcc: x@evil.example" holds the control character U+000D`},
		{"outside the allowlist", "qa@other.example", "qa@other.example is not in the allowlist of environment staging; test messages go only to allowed addresses: give --to an address it admits, or add this one to the environment's allow (TIDINGS_ALLOW)"},
	}
	for _, allow := range []string{"example.org", ""} {
		env := merge(smtpEnv(smtp), map[string]string{"TIDINGS_ALLOW": allow})
		for _, tt := range tests {
			if allow == "" && tt.name == "outside the allowlist" {
				continue
			}
			r := cli(t, env, "test-send", file, "--env", "staging", "--to", tt.to)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("allowlist %q, --to %q (%s): want exit 2 and %q\n%s", allow, tt.to, tt.name, tt.want, r)
			}
		}
	}
	if n := len(smtp.Messages()); n != 0 {
		t.Errorf("%d messages sent, want none", n)
	}
}
