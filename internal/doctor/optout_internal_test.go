package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/environment"
)

// TestUnsubscribe: doctor fails the List-Unsubscribe URLs plan and send
// refuse (naming no recipient, {token} without the environment's secret)
// before a send does, and says what the others mean.
func TestUnsubscribe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, tmpl string
		secret     bool
		status     string
		says       string
	}{
		{"none", "", false, Pass, "none set (list_unsubscribe)"},
		{"mailto", "mailto:unsubscribe@altea.example?subject={id}", false, Pass, `"mailto:unsubscribe@altea.example?subject={id}"`},
		{"https naming nobody", "https://altea.example/unsubscribe", false, Fail, `"https://altea.example/unsubscribe" names no recipient`},
		{"https with id, no token", "https://altea.example/u?id={id}", false, Pass, "without {token}, anyone who knows or guesses"},
		{"token without a secret", "https://altea.example/u?id={id}&token={token}", false, Fail, "has {token}, and environment staging has no unsubscribe secret"},
		{"token with a secret", "https://altea.example/u?id={id}&token={token}", true, Pass, `"https://altea.example/u?id={id}&token={token}"`},
		{"unknown placeholder", "https://altea.example/u?id={ID}", false, Fail, "{ID}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &environment.Environment{Name: "staging"}
			if tc.secret {
				e.UnsubscribeSecret = environment.Secret("0123456789abcdef0123")
			}
			c := Unsubscribe(e, tc.tmpl)
			if c.Status != tc.status || !strings.Contains(c.Message, tc.says) {
				t.Errorf("%s %q, want %s saying %q", c.Status, c.Message, tc.status, tc.says)
			}
		})
	}
}

// TestSuppression: doctor reads the environment's suppression lists as
// plan and send do: one that cannot be read, or a bad line, fails; a list
// that holds no address (an export that came out empty) is a warning; the
// count of addresses is said.
func TestSuppression(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("unsubscribed.txt", "# opted out\nana@example.org\nBo@Example.org\n")
	empty := write("bounces.csv", "email\n")
	bad := write("bad.txt", "ana@example.org\nn/a\n")
	for _, tc := range []struct {
		name   string
		files  []string
		status string
		says   string
	}{
		{"none", nil, Pass, "none (suppression_files)"},
		{"one list", []string{good}, Pass, "2 addresses never mailed, from " + good + " (2)"},
		{"an empty list", []string{good, empty}, Warn, empty + " holds no address"},
		{"a missing list", []string{filepath.Join(dir, "missing.txt")}, Fail, "missing.txt"},
		{"a bad line", []string{bad}, Fail, bad + ":2: email:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Suppression(&environment.Environment{Name: "staging", SuppressionFiles: tc.files})
			if c.Status != tc.status || !strings.Contains(c.Message, tc.says) {
				t.Errorf("%s %q, want %s saying %q", c.Status, c.Message, tc.status, tc.says)
			}
		})
	}
}
