package environment_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/environment"
)

// TestRedisURLPasswordPrecedence: a password in TIDINGS_REDIS_URL
// overrides the file's redis.password_file (variables override the file),
// and one that differs from TIDINGS_REDIS_PASSWORD(_FILE)'s is refused
// without showing either: one of the two is wrong, and choosing would
// answer WRONGPASS with advice about the other.
func TestRedisURLPasswordPrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "redis.pw"), []byte("file-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "var.pw"), []byte("var-file-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "tidings.yaml")
	withFile := "environments:\n  staging:\n    redis:\n      url: redis://10.0.0.9:6379/0\n      password_file: redis.pw\n"
	for _, tt := range []struct {
		name, cfg string
		vars      map[string]string
		want      string // the password; "" when refused
		wantErr   []string
	}{
		{"file alone", withFile, nil, "file-pw", nil},
		{"URL variable over the file", withFile, map[string]string{"TIDINGS_REDIS_URL": "redis://:url-pw@10.0.0.1:6379/0"}, "url-pw", nil},
		{"URL variable without a password keeps the file's", withFile, map[string]string{"TIDINGS_REDIS_URL": "redis://10.0.0.1:6379/0"}, "file-pw", nil},
		{"password variable over the file", withFile, map[string]string{"TIDINGS_REDIS_PASSWORD": "var-pw"}, "var-pw", nil},
		{"URL and password variables agree", withFile, map[string]string{"TIDINGS_REDIS_URL": "redis://:same-pw@10.0.0.1:6379/0", "TIDINGS_REDIS_PASSWORD": "same-pw"}, "same-pw", nil},
		// An empty password (redis://:@host) is none: refused nowhere,
		// contradicting nothing, and gone from the URL.
		{"empty URL password in the file", "environments:\n  staging:\n    redis:\n      url: redis://:@10.0.0.9:6379/0\n", nil, "", nil},
		{"empty URL password in the file keeps its password file", "environments:\n  staging:\n    redis:\n      url: redis://:@10.0.0.9:6379/0\n      password_file: redis.pw\n", nil, "file-pw", nil},
		{"empty URL password in the variable", "", map[string]string{"TIDINGS_REDIS_URL": "redis://:@10.0.0.1:6379/0"}, "", nil},
		{"empty URL password beside the password variable", "", map[string]string{"TIDINGS_REDIS_URL": "redis://:@10.0.0.1:6379/0", "TIDINGS_REDIS_PASSWORD": "var-pw"}, "var-pw", nil},
		{"URL and password variables differ", withFile, map[string]string{"TIDINGS_REDIS_URL": "redis://:url-pw@10.0.0.1:6379/0", "TIDINGS_REDIS_PASSWORD": "var-pw"}, "",
			[]string{"TIDINGS_REDIS_URL", "holds a password and TIDINGS_REDIS_PASSWORD gives another", "keep one"}},
		{"URL and password file variables differ", "", map[string]string{"TIDINGS_REDIS_URL": "redis://:url-pw@10.0.0.1:6379/0", "TIDINGS_REDIS_PASSWORD_FILE": filepath.Join(dir, "var.pw")}, "",
			[]string{"TIDINGS_REDIS_URL", "TIDINGS_REDIS_PASSWORD_FILE gives another"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{"HOME": dir}
			for k, v := range tt.vars {
				vars[k] = v
			}
			e, err := environment.Load([]byte(tt.cfg), cfgFile, "staging", func(k string) string { return vars[k] })
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got := e.Redis.Password.Reveal(); got != tt.want {
					t.Errorf("Redis password %q, want %q", got, tt.want)
				}
				if strings.Contains(e.Redis.URL, "@") {
					t.Errorf("the URL %q still holds a user part", e.Redis.URL)
				}
				if o, err := e.RedisOptions(); err != nil || o.Password != tt.want || o.Username != "" {
					t.Errorf("go-redis is given user %q and password %q (%v), want no user and password %q", o.Username, o.Password, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("loaded with password %q; want an error saying %q", e.Redis.Password.Reveal(), tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not say %q: %v", w, err)
				}
			}
			for _, pw := range []string{"url-pw", "var-pw", "var-file-pw", "file-pw"} {
				if strings.Contains(err.Error(), pw) {
					t.Errorf("the error prints a password (%s): %v", pw, err)
				}
			}
		})
	}
}
