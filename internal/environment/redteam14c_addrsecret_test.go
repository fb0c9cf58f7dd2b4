package environment_test

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redisconn"
)

// TestRedteam14CSecretInClusterOrSentinelAddressIsRefused: README
// (Configuration reference): "Secrets come only from variables or files: a
// password, token or webhook URL written in the config file is an error
// with its line ... Secrets are never printed — not in logs, errors,
// `status` or JSON." A password inside redis.url is refused with its line
// (internal/environment/file.go literalSecrets).
//
// What happens: the same password written the same way in a seed node of
// redis.cluster, or in a sentinel address (redis.sentinel.addrs), as
// "redis://:PASSWORD@10.0.0.1:6379" (an operator used to redis.url's form),
// is accepted by Load without a word: no error with its line, and the
// address (password included) is what every later message quotes: doctor's
// "redis reachable" line and the CLI's unreachable error print
// redisconn.Addrs, the addresses as written ("[redis://:PASSWORD@...]:
// dial tcp: address ...: too many colons").
//
// Guessed cause: internal/environment/environment.go validate checks
// redis.url (and file.go literalSecrets refuses its password) but never
// checks that redis.cluster and redis.sentinel.addrs entries are host:port,
// so a URL with userinfo there is neither refused nor redacted.
func TestRedteam14CSecretInClusterOrSentinelAddressIsRefused(t *testing.T) {
	t.Parallel()
	const pw = "hunter2-14c"
	for _, tt := range []struct{ name, cfg string }{
		{"cluster", "environments:\n  production:\n    redis:\n      cluster: [\"redis://:" + pw + "@10.0.0.1:6379\", \"10.0.0.2:6379\"]\n"},
		{"sentinel", "environments:\n  production:\n    redis:\n      sentinel: {master: mymaster, addrs: [\"redis://:" + pw + "@10.0.0.1:26379\"]}\n"},
	} {
		e, err := environment.Load([]byte(tt.cfg), "tidings.yaml", "production", func(k string) string {
			if k == "HOME" {
				return t.TempDir()
			}
			return ""
		})
		if err == nil {
			// What the operator is then shown (doctor's "redis reachable"
			// line and every command's unreachable error start with it).
			_, derr := redisconn.Dial(t.Context(), e)
			t.Errorf("%s: a password written in an address of the config file is accepted (no error with its line); connecting then says %q", tt.name, derr)
			if derr != nil && strings.Contains(derr.Error(), pw) {
				t.Errorf("%s: and that message prints the password", tt.name)
			}
			continue
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("%s: the error prints the password: %v", tt.name, err)
		}
		if !strings.Contains(err.Error(), "tidings.yaml:4") {
			t.Errorf("%s: the error does not name the line: %v", tt.name, err)
		}
	}
}
