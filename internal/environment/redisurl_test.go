package environment_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/environment"
)

// pw is the Redis password in the URLs of
// TestRedisURLErrorsNameTheSettingAndHideThePassword.
const pw = "s3cret-pw-17c"

// TestRedisURLErrorsNameTheSettingAndHideThePassword: a Redis URL that is
// malformed, has no host, names an unknown scheme or a database that is
// not a number is refused when the environment loads, by an error that
// names where it was written (the config file's line and key, or
// TIDINGS_REDIS_URL), says what is wrong and shows a valid URL; the
// password it may hold appears nowhere in the error. A URL without a host
// used to be taken as localhost, and a database that is not a number
// passed Load and failed at the first connection.
func TestRedisURLErrorsNameTheSettingAndHideThePassword(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, url string
		want      string // what the error says is wrong
	}{
		{"no host", "redis://:" + pw + "@:6379/0", "has no host"},
		{"no host nor port", "redis://:" + pw + "@/0", "has no host"},
		{"port not a number", "redis://:" + pw + "@10.0.0.1:63x9/0", "cannot be parsed"},
		{"space in the host", "redis://:" + pw + "@redis host:6379/0", "cannot be parsed"},
		{"no scheme", "10.0.0.1:6379", "has no scheme"},
		{"host alone", "redis.example", "scheme"},
		{"unknown scheme", "http://:" + pw + "@10.0.0.1:6379/0", `scheme "http" is not one tidings reads`},
		{"database not a number", "redis://:" + pw + "@10.0.0.1:6379/zero", `database "zero" is not a number`},
		{"path too deep", "redis://:" + pw + "@10.0.0.1:6379/0/1", "database"},
		{"escape in the password", "redis://:" + pw + "%zz@10.0.0.1:6379/0", "cannot be parsed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			check := func(where string, err error, wantAt string) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s: %q is accepted; want an error saying %q", where, tt.url, tt.want)
				}
				msg := err.Error()
				for _, w := range []string{wantAt, tt.want, "redis://10.0.0.1:6379/0"} {
					if !strings.Contains(msg, w) {
						t.Errorf("%s: the error does not say %q: %s", where, w, msg)
					}
				}
				if strings.Contains(msg, pw) {
					t.Errorf("%s: the error prints the password: %s", where, msg)
				}
			}
			vars := map[string]string{"HOME": dir, "TIDINGS_REDIS_URL": tt.url}
			_, err := environment.Load(nil, "", "staging", func(k string) string { return vars[k] })
			check("TIDINGS_REDIS_URL", err, "TIDINGS_REDIS_URL: ")
			if strings.Contains(tt.url, pw) {
				return // the file refuses any password, with its own error
			}
			cfgFile := filepath.Join(dir, "tidings.yaml")
			cfg := "environments:\n  staging:\n    redis:\n      url: \"" + tt.url + "\"\n"
			_, err = environment.Load([]byte(cfg), cfgFile, "staging", func(k string) string { return map[string]string{"HOME": dir}[k] })
			check("the config file", err, cfgFile+":4: environments.staging.redis.url: ")
		})
	}
}

// TestRedisURLOfSentinelOrClusterNeedsNoHost: with Sentinel or Cluster the
// URL's address is not dialled (it gives the database, user and TLS), so
// redis:///2 is accepted there, and refused alone.
func TestRedisURLOfSentinelOrClusterNeedsNoHost(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		vars map[string]string
		ok   bool
	}{
		{"sentinel", map[string]string{"TIDINGS_REDIS_SENTINEL_MASTER": "mymaster", "TIDINGS_REDIS_SENTINEL_ADDRS": "10.0.0.1:26379"}, true},
		{"cluster", map[string]string{"TIDINGS_REDIS_CLUSTER_ADDRS": "10.0.0.1:6379"}, true},
		{"alone", nil, false},
	} {
		vars := map[string]string{"HOME": t.TempDir(), "TIDINGS_REDIS_URL": "redis:///2"}
		for k, v := range tt.vars {
			vars[k] = v
		}
		_, err := environment.Load(nil, "", "staging", func(k string) string { return vars[k] })
		if (err == nil) != tt.ok {
			t.Errorf("%s: redis:///2 gives %v; want accepted %v", tt.name, err, tt.ok)
		}
	}
}
