package environment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const config = `environments:
  staging:
    redis:
      url: redis://redis.staging:6380/2
      password_file: redis.pw
    smtp:
      host: smtp.staging.example
      username: tidings
      password_file: smtp.pw
      helo: tidings.staging.example
    allow: [Example.com, "*.qa.example", boss@altea.example]
    concurrency: 4
  production:
    redis:
      url: rediss://redis.prod:6379/0
      sentinel: { master: main, addrs: ["s1:26379", "s2:26379"] }
    smtp: { host: smtp.prod.example, port: 465, tls: tls, connections: 16 }
  shadow:
    production: true
`

func vars(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeSecrets(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, v := range map[string]string{"redis.pw": "r3dis-s3cret\n", "smtp.pw": "smtp-s3cret\r\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "tidings.yaml")
}

func TestLoad(t *testing.T) {
	t.Parallel()
	file := writeSecrets(t)
	tests := []struct {
		name  string
		env   string
		vars  map[string]string
		check func(t *testing.T, e *Environment)
	}{
		{"staging from file", "staging", nil, func(t *testing.T, e *Environment) {
			if e.Production || e.Redis.URL != "redis://redis.staging:6380/2" || e.Redis.Password.Reveal() != "r3dis-s3cret" {
				t.Errorf("redis = %+v production=%v", e.Redis, e.Production)
			}
			if e.SMTP.Addr() != "smtp.staging.example:587" || e.SMTP.TLS != TLSStartTLS || e.SMTP.Password.Reveal() != "smtp-s3cret" || e.SMTP.Connections != 8 {
				t.Errorf("smtp = %+v", e.SMTP)
			}
			if e.Concurrency != 4 || len(e.Warnings()) != 0 || e.RefusalCode() != "not-allowed-in-staging" {
				t.Errorf("concurrency %d warnings %q", e.Concurrency, e.Warnings())
			}
		}},
		{"variables override", "staging", map[string]string{
			"TIDINGS_SMTP_HOST": "127.0.0.1", "TIDINGS_SMTP_PORT": "2525", "TIDINGS_SMTP_TLS": "none",
			"TIDINGS_SMTP_PASSWORD": "from-env", "TIDINGS_ALLOW": "a.example, b@c.example",
			"TIDINGS_REDIS_URL": "redis://:url-pw@10.0.0.1:6379/3", "TIDINGS_REDIS_PASSWORD": "",
		}, func(t *testing.T, e *Environment) {
			if e.SMTP.Addr() != "127.0.0.1:2525" || e.SMTP.TLS != TLSNone || e.SMTP.Password.Reveal() != "from-env" {
				t.Errorf("smtp = %+v", e.SMTP)
			}
			if strings.Join(e.Allow, ";") != "a.example;b@c.example" {
				t.Errorf("allow = %q", e.Allow)
			}
			// The file's password_file wins over the URL's; the URL loses its password.
			if e.Redis.URL != "redis://10.0.0.1:6379/3" || e.Redis.Password.Reveal() != "r3dis-s3cret" {
				t.Errorf("redis = %q %q", e.Redis.URL, e.Redis.Password.Reveal())
			}
		}},
		{"production by name", "production", nil, func(t *testing.T, e *Environment) {
			if !e.Production || !e.Redis.TLS || e.SMTP.TLS != TLSImplicit || e.Concurrency != 16 {
				t.Errorf("env = %+v", e)
			}
			o, err := e.RedisOptions()
			if err != nil {
				t.Fatal(err)
			}
			if o.MasterName != "main" || len(o.Addrs) != 2 || o.TLSConfig == nil {
				t.Errorf("options = %+v", o)
			}
		}},
		{"production by flag", "shadow", nil, func(t *testing.T, e *Environment) {
			if !e.Production || e.SMTP.Addr() != "127.0.0.1:1025" || e.SMTP.TLS != TLSNone {
				t.Errorf("env = %+v", e)
			}
		}},
	}
	data := []byte(config)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := Load(data, file, tt.env, vars(tt.vars))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, e)
		})
	}
}

func TestLoadWithoutFile(t *testing.T) {
	t.Parallel()
	e, err := Load(nil, "", "dev", vars(nil))
	if err != nil {
		t.Fatal(err)
	}
	if e.Production || e.Redis.URL != DefaultRedisURL || e.SMTP.Addr() != "127.0.0.1:1025" || e.SMTP.TLS != TLSNone {
		t.Errorf("defaults = %+v", e)
	}
	if len(e.Warnings()) != 1 {
		t.Errorf("want a no-allowlist warning, got %q", e.Warnings())
	}
	o, err := e.RedisOptions()
	if err != nil {
		t.Fatal(err)
	}
	if o.Addrs[0] != "127.0.0.1:6379" || o.DB != 0 || o.Password != "" || o.TLSConfig != nil {
		t.Errorf("options = %+v", o)
	}

	e, err = Load(nil, "", "production", vars(map[string]string{
		"TIDINGS_REDIS_URL": "rediss://u:pw@r.example:6390/1", "TIDINGS_REDIS_CLUSTER_ADDRS": "n1:6379,n2:6379",
	}))
	if err != nil {
		t.Fatal(err)
	}
	o, err = e.RedisOptions()
	if err != nil {
		t.Fatal(err)
	}
	if !e.Production || !o.IsClusterMode || len(o.Addrs) != 2 || o.Username != "u" || o.Password != "pw" || o.TLSConfig == nil {
		t.Errorf("options = %+v", o)
	}
	if strings.Contains(e.Redis.URL, "pw") {
		t.Errorf("URL keeps the password: %s", e.Redis.URL)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	file := writeSecrets(t)
	tests := []struct {
		name, config, env string
		vars              map[string]string
		want              []string
	}{
		{"no name", "", "", nil, []string{"choose one with --env"}},
		{"unknown env", config, "prod", nil, []string{"no environment \"prod\" (it defines production, shadow, staging)"}},
		{"unknown key", "environments:\n  staging:\n    smtp:\n      hots: x\n", "staging", nil, []string{"tidings.yaml:4: unknown key hots", "known keys here are host, port"}},
		{"literal password", "environments:\n  staging:\n    smtp:\n      password: hunter2\n", "staging", nil,
			[]string{":4: environments.staging.smtp.password: secrets are not read from the config file", "TIDINGS_SMTP_PASSWORD"}},
		{"password in url", "environments:\n  staging:\n    redis: {url: \"redis://:hunter2@h:6379\"}\n", "staging", nil, []string{"redis.url holds a password"}},
		{"missing password file", "environments:\n  staging:\n    smtp: {password_file: nope}\n", "staging", nil, []string{"read SMTP password file"}},
		{"unmark production", "environments:\n  production:\n    production: false\n", "production", nil, []string{"always production"}},
		{"unmark production by var", "", "production", map[string]string{"TIDINGS_PRODUCTION": "false"}, []string{"cannot unmark"}},
		{"bad bool", "", "dev", map[string]string{"TIDINGS_REDIS_TLS": "maybe"}, []string{"TIDINGS_REDIS_TLS=\"maybe\""}},
		{"bad port", "", "dev", map[string]string{"TIDINGS_SMTP_PORT": "99999"}, []string{"out of range"}},
		{"bad tls", "", "dev", map[string]string{"TIDINGS_SMTP_TLS": "ssl3"}, []string{"SMTP TLS \"ssl3\" is unknown"}},
		{"bad redis url", "", "dev", map[string]string{"TIDINGS_REDIS_URL": "http://:hunter2@x"}, []string{"is not redis://"}},
		{"half sentinel", "", "dev", map[string]string{"TIDINGS_REDIS_SENTINEL_MASTER": "m"}, []string{"both a master name and addresses"}},
		{"bad allow", "", "dev", map[string]string{"TIDINGS_ALLOW": "@x.example"}, []string{"allow entry"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load([]byte(tt.config), file, tt.env, vars(tt.vars))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error reveals the secret: %v", err)
			}
		})
	}
}

func TestAllowed(t *testing.T) {
	t.Parallel()
	e := &Environment{Name: "staging", Allow: []string{"example.com", "*.qa.example", "boss@altea.example"}}
	tests := []struct {
		email string
		want  bool
	}{
		{"a@example.com", true},
		{"A@EXAMPLE.COM", true},
		{"a@sub.example.com", false},
		{"a@x.qa.example", true},
		{"a@qa.example", false},
		{"a@evilqa.example", false},
		{"Boss@Altea.Example", true},
		{"other@altea.example", false},
		{"a@example.com.evil", false},
		{"not-an-address", false},
	}
	for _, tt := range tests {
		if got := e.Allowed(tt.email); got != tt.want {
			t.Errorf("Allowed(%q) = %v, want %v", tt.email, got, tt.want)
		}
	}
	if !(&Environment{}).Allowed("anyone@anywhere.example") || !(*Environment)(nil).Allowed("x@y.z") {
		t.Error("an empty allowlist must allow everyone")
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	t.Parallel()
	const pw = "hunter2-very-secret"
	e, err := Load(nil, "", "staging", vars(map[string]string{
		"TIDINGS_SMTP_PASSWORD": pw, "TIDINGS_REDIS_PASSWORD": pw, "TIDINGS_REDIS_SENTINEL_PASSWORD": pw,
		"TIDINGS_REDIS_SENTINEL_MASTER": "m", "TIDINGS_REDIS_SENTINEL_ADDRS": "s:26379",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s"} {
		outputs = append(outputs, fmt.Sprintf(verb, e), fmt.Sprintf(verb, *e), fmt.Sprintf(verb, e.SMTP.Password), fmt.Sprintf(verb, e.SMTP))
	}
	outputs = append(outputs, fmt.Sprint(e.SMTP.Password), fmt.Sprintln(e.Redis))
	j, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(j))
	y, err := yaml.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(y))
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		log := slog.New(h(&buf))
		log.Info("env", "env", e, "password", e.SMTP.Password, "smtp", e.SMTP)
		outputs = append(outputs, buf.String())
	}
	for _, out := range outputs {
		if strings.Contains(out, pw) || strings.Contains(out, fmt.Sprintf("%x", pw)) {
			t.Errorf("secret revealed in %q", out)
		}
	}
	if !strings.Contains(string(j), `"Password":"***"`) {
		t.Errorf("json = %s", j)
	}
	if e.SMTP.Password.Reveal() != pw {
		t.Error("Reveal lost the value")
	}
}

func TestReference(t *testing.T) {
	t.Parallel()
	ref := Reference()
	for _, v := range variables {
		if !strings.Contains(ref, v.name) {
			t.Errorf("Reference lacks %s", v.name)
		}
	}
}
