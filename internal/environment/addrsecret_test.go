package environment_test

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redisconn"
)

// TestSecretInClusterOrSentinelAddressIsRefused (red team 14c): README
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
// The cause was that validate checked redis.url (and literalSecrets
// refused its password) but never that redis.cluster and
// redis.sentinel.addrs entries are host:port. Now an entry with a user or
// password is refused with its line, without the secret, pointing at the
// password file.
func TestSecretInClusterOrSentinelAddressIsRefused(t *testing.T) {
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
		if !strings.Contains(err.Error(), "password_file") {
			t.Errorf("%s: the error does not say where the password goes: %v", tt.name, err)
		}
	}
}

// TestClusterAndSentinelAddressesAreHostPort: an entry of redis.cluster or
// redis.sentinel.addrs, from the file or from its variable, is host:port;
// anything else is refused naming the key (or the variable) and the
// entry, and an entry with a password is refused without showing it.
func TestClusterAndSentinelAddressesAreHostPort(t *testing.T) {
	t.Parallel()
	const pw = "s3cret-var-14c"
	for _, tt := range []struct {
		name, cfg string
		vars      map[string]string
		want      []string // in the error; "" cases load
	}{
		{"cluster host:port", "environments:\n  production:\n    redis:\n      cluster: [10.0.0.1:6379, \"[2001:db8::1]:6379\", redis-2.example:6380]\n", nil, nil},
		{"sentinel host:port", "environments:\n  production:\n    redis:\n      sentinel: {master: m, addrs: [s1:26379]}\n", nil, nil},
		{"cluster without port", "environments:\n  production:\n    redis:\n      cluster: [10.0.0.1]\n", nil, []string{"tidings.yaml:4", "redis.cluster", "entry 1", `"10.0.0.1" is not host:port`}},
		{"cluster URL without password", "environments:\n  production:\n    redis:\n      cluster: [10.0.0.1:6379, \"redis://10.0.0.2:6379\"]\n", nil, []string{"tidings.yaml:4", "entry 2", "is a URL: write host:port alone"}},
		{"sentinel bad port", "environments:\n  production:\n    redis:\n      sentinel: {master: m, addrs: [\"s1:0\"]}\n", nil, []string{"tidings.yaml:4", "redis.sentinel.addrs", "no valid port"}},
		{"cluster variable with password", "", map[string]string{"TIDINGS_REDIS_CLUSTER_ADDRS": "10.0.0.1:6379,redis://:" + pw + "@10.0.0.2:6379"}, []string{"TIDINGS_REDIS_CLUSTER_ADDRS", "entry 2 holds a user or password (not shown)", "redis.password_file"}},
		{"sentinel variable with password", "", map[string]string{"TIDINGS_REDIS_SENTINEL_MASTER": "m", "TIDINGS_REDIS_SENTINEL_ADDRS": "redis://:" + pw + "@s1:26379"}, []string{"TIDINGS_REDIS_SENTINEL_ADDRS", "entry 1 holds a user or password", "redis.sentinel.password_file"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			home := t.TempDir()
			_, err := environment.Load([]byte(tt.cfg), "tidings.yaml", "production", func(k string) string {
				if k == "HOME" {
					return home
				}
				return tt.vars[k]
			})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("host:port entries are refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("loaded; want an error saying %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not say %q: %v", w, err)
				}
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("the error prints the password: %v", err)
			}
		})
	}
}
