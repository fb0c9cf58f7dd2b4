package campaign

import (
	"strings"
	"testing"
)

// TestEnvironmentPinIsAnEnvironmentsName (red team 33d): a campaign file
// (which someone with write access to it can change) pinned to
// "staging\x1b[31m" was parsed; plan without --env showed nothing, and
// plan or send with --env staging answered `use --env staging<ESC>[31m`,
// the escape written raw to the operator's terminal in a command to type.
// No environment can have such a name (package envname: 1-63 ASCII
// letters, digits, '-', '_' and '.', beginning with a letter or digit),
// so the pin is refused at its line, quoted.
func TestEnvironmentPinIsAnEnvironmentsName(t *testing.T) {
	t.Parallel()
	const rest = "template: welcome\nrecipients: r.csv\nfrom: a@b.example\n"
	for _, tc := range []struct{ env, want string }{
		{`"staging\e[31mRED"`, `c.yaml:2: environment: "staging\x1b[31mRED" is no environment's name: an environment's name is 1-63 ASCII letters, digits, '-', '_' and '.', beginning with a letter or digit; pin the campaign to the environment it may be sent in, e.g. environment: staging`},
		{`"stag ing"`, `c.yaml:2: environment: "stag ing" is no environment's name`},
		{`"pre\u0301prod"`, "c.yaml:2: environment: \"pre\u0301prod\" is no environment's name"},
		{`../prod`, `c.yaml:2: environment: "../prod" is no environment's name`},
		{"staging", ""},
		{"eu-west.qa_2", ""},
	} {
		c, err := Parse([]byte("name: ok\nenvironment: "+tc.env+"\n"+rest), "c.yaml")
		if tc.want == "" {
			if err != nil || c.Environment != tc.env {
				t.Errorf("environment: %s: %v, want it parsed", tc.env, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.ContainsRune(err.Error(), '\x1b') {
			t.Errorf("environment: %s: %v\nwant refused saying %s (no raw escape)", tc.env, err, tc.want)
		}
	}
}
