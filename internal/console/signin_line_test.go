package console_test

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestSignInWithTheTokensLine: docker-compose.yml and the README say to
// sign in with TIDINGS_CONSOLE_OPERATOR_TOKEN, whose value is the line
// "NAME TOKEN" (export TIDINGS_CONSOLE_OPERATOR_TOKEN="alice $(openssl rand
// -hex 24)"). That line pasted whole into the token box signs in as NAME,
// only when NAME is the token's own person; any other name, or a wrong
// token after the right name, is not recognised. No token reaches the log.
// Red team 40f found the whole line refused ("That token is not
// recognised.") while the comment said to use it.
func TestSignInWithTheTokensLine(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	s := newSite(t, w, false)
	tests := []struct {
		name, pasted string
		who          string // signed in as; "" when refused
	}{
		{"the operator variable's whole line", "alice " + operatorToken, "alice"},
		{"the viewer's line with a tab and a newline", "quinn\t" + viewerToken + "\n", "quinn"},
		{"the line with two spaces", "alice  " + operatorToken, "alice"},
		{"another person's name before a token", "quinn " + operatorToken, ""},
		{"the right name and a wrong token", "alice not-a-token-at-all-1234", ""},
		{"a name, the token and more", "alice " + operatorToken + " x", ""},
	}
	for _, tt := range tests {
		problem := ""
		if tt.who == "" {
			problem = "That token is not recognised."
		}
		checkPastedSignIn(t, s, tt.name, tt.pasted, tt.who, problem)
	}
	for _, secret := range []string{viewerToken, operatorToken} {
		if strings.Contains(s.log(), secret) {
			t.Errorf("the log prints a token:\n%s", s.log())
		}
	}
}
