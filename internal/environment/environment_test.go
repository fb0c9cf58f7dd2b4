package environment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"go.yaml.in/yaml/v4"

	"github.com/tidings-mail/tidings/internal/yamlnode"
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
    suppression_files: [unsubscribed.txt]
    concurrency: 4
    claim_window: 8
  production:
    redis:
      url: rediss://redis.prod:6379/0
      sentinel: { master: main, addrs: ["s1:26379", "s2:26379"] }
    smtp: { host: smtp.prod.example, port: 465, tls: tls, connections: 16 }
  shadow:
    production: true
`

// vars returns a getenv over m; HOME is /home/op unless m sets it.
func vars(m map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := m[k]; ok || k != "HOME" {
			return v
		}
		return "/home/op"
	}
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
			if e.ClaimWindow != 8 {
				t.Errorf("claim window %d, want the file's 8", e.ClaimWindow)
			}
			if want := filepath.Join(filepath.Dir(file), "unsubscribed.txt"); len(e.SuppressionFiles) != 1 || e.SuppressionFiles[0] != want {
				t.Errorf("suppression files %q, want the file's [%s] (relative to it)", e.SuppressionFiles, want)
			}
		}},
		{"variables override", "staging", map[string]string{
			"TIDINGS_SMTP_HOST": "127.0.0.1", "TIDINGS_SMTP_PORT": "2525", "TIDINGS_SMTP_TLS": "none",
			"TIDINGS_SMTP_PASSWORD": "from-env", "TIDINGS_ALLOW": "a.example, b@c.example",
			"TIDINGS_REDIS_URL": "redis://:url-pw@10.0.0.1:6379/3", "TIDINGS_REDIS_PASSWORD": "",
			"TIDINGS_CLAIM_WINDOW": "32", "TIDINGS_SUPPRESSION_FILES": "/lists/bounces.csv, optout.txt",
		}, func(t *testing.T, e *Environment) {
			// A list variable replaces the file's list, as TIDINGS_ALLOW
			// does (README, Suppression lists); its paths are as written.
			if strings.Join(e.SuppressionFiles, ";") != "/lists/bounces.csv;optout.txt" {
				t.Errorf("suppression files %q, want the variable's alone", e.SuppressionFiles)
			}
			if e.ClaimWindow != 32 {
				t.Errorf("claim window %d, want the variable's 32", e.ClaimWindow)
			}
			if e.SMTP.Addr() != "127.0.0.1:2525" || e.SMTP.TLS != TLSNone || e.SMTP.Password.Reveal() != "from-env" {
				t.Errorf("smtp = %+v", e.SMTP)
			}
			if strings.Join(e.Allow, ";") != "a.example;b@c.example" {
				t.Errorf("allow = %q", e.Allow)
			}
			// The variable's URL password wins over the file's password_file
			// (red team 14c); the URL loses its password.
			if e.Redis.URL != "redis://10.0.0.1:6379/3" || e.Redis.Password.Reveal() != "url-pw" {
				t.Errorf("redis = %q %q", e.Redis.URL, e.Redis.Password.Reveal())
			}
		}},
		{"production by name", "production", nil, func(t *testing.T, e *Environment) {
			if !e.Production || !e.Redis.TLS || e.SMTP.TLS != TLSImplicit || e.Concurrency != 16 || e.ClaimWindow != DefaultClaimWindow {
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
		{"unknown env", config, "prod", nil, []string{"tidings.yaml:2: environments: no environment \"prod\" (it defines production, shadow, staging)"}},
		{"unknown key", "environments:\n  staging:\n    smtp:\n      hots: x\n", "staging", nil, []string{"tidings.yaml:4: environments.staging.smtp.hots: unknown key", "known keys here are host, port"}},
		{"unknown key in another environment", "environments:\n  staging: {}\n  prod:\n    smpt: {}\n", "staging", nil, []string{"tidings.yaml:4: environments.prod.smpt: unknown key"}},
		{"syntax", "environments:\n  staging: [\n", "staging", nil, []string{"tidings.yaml:3:", "fix the YAML syntax"}},
		{"wrong type", "environments:\n  staging:\n    smtp: {port: smtp}\n", "staging", nil, []string{`tidings.yaml:3: environments.staging.smtp.port: "smtp" is not a whole number`}},
		{"duplicate key", "environments:\n  staging:\n    concurrency: 2\n    concurrency: 3\n", "staging", nil, []string{"tidings.yaml:4: environments.staging.concurrency: written twice (first at line 3)"}},
		{"literal password", "environments:\n  staging:\n    smtp:\n      password: hunter2\n", "staging", nil,
			[]string{"tidings.yaml:4: environments.staging.smtp.password: secrets are not read from the config file", "TIDINGS_SMTP_PASSWORD"}},
		{"literal password in another environment", "environments:\n  staging: {}\n  production:\n    smtp:\n      password: hunter2\n", "staging", nil,
			[]string{"tidings.yaml:5: environments.production.smtp.password: secrets are not read from the config file", "TIDINGS_SMTP_PASSWORD"}},
		{"literal token", "environments:\n  staging:\n    console:\n      operator_token: hunter2\n", "staging", nil,
			[]string{"tidings.yaml:4: environments.staging.console.operator_token: secrets are not read", "console.operator_token_file or TIDINGS_CONSOLE_OPERATOR_TOKEN"}},
		{"literal webhook", "environments:\n  staging:\n    notify: {slack_webhook_url: \"https://hooks.example/hunter2\"}\n", "staging", nil,
			[]string{"tidings.yaml:3: environments.staging.notify.slack_webhook_url: secrets are not read"}},
		{"password in url", "environments:\n  staging:\n    redis: {url: \"redis://:hunter2@h:6379\"}\n", "staging", nil, []string{"tidings.yaml:3: environments.staging.redis.url: holds a password"}},
		{"missing password file", "environments:\n  staging:\n    smtp: {password_file: nope}\n", "staging", nil, []string{"tidings.yaml:3: environments.staging.smtp.password_file: cannot read the secret file: ", "nope: the file does not exist"}},
		{"missing password file by var", "", "dev", map[string]string{"TIDINGS_SMTP_PASSWORD_FILE": "/nonexistent/pw"}, []string{"TIDINGS_SMTP_PASSWORD_FILE: read secret file: /nonexistent/pw: the file does not exist"}},
		{"unmark production", "environments:\n  production:\n    production: false\n", "production", nil, []string{"tidings.yaml:3: environments.production.production: false: the environment named production is always production"}},
		{"unmark production by var", "", "production", map[string]string{"TIDINGS_PRODUCTION": "false"}, []string{"TIDINGS_PRODUCTION: false cannot unmark"}},
		{"bad bool", "", "dev", map[string]string{"TIDINGS_REDIS_TLS": "maybe"}, []string{`TIDINGS_REDIS_TLS: "maybe" is not a boolean`}},
		{"bad port by var", "", "dev", map[string]string{"TIDINGS_SMTP_PORT": "99999"}, []string{"TIDINGS_SMTP_PORT: 99999 is out of range"}},
		{"bad port in file", "environments:\n  dev:\n    smtp:\n      port: 0\n      tls: none\n      host: h\n      connections: -1\n", "dev", nil, []string{"tidings.yaml:7: environments.dev.smtp.connections: -1: use 1 or more"}},
		{"claim window too large", "", "dev", map[string]string{"TIDINGS_CLAIM_WINDOW": "500"}, []string{"TIDINGS_CLAIM_WINDOW: 500 is out of range: use 1-128 (0 or unset: the default, 16)"}},
		{"claim window negative in file", "environments:\n  dev:\n    claim_window: -2\n", "dev", nil, []string{"tidings.yaml:3: environments.dev.claim_window: -2 is out of range"}},
		{"bad tls", "", "dev", map[string]string{"TIDINGS_SMTP_TLS": "ssl3"}, []string{`TIDINGS_SMTP_TLS: "ssl3" is unknown`}},
		{"bad tls in file", "environments:\n  dev:\n    smtp: {tls: ssl3}\n", "dev", nil, []string{`tidings.yaml:3: environments.dev.smtp.tls: "ssl3" is unknown`}},
		{"bad redis url", "", "dev", map[string]string{"TIDINGS_REDIS_URL": "http://:hunter2@x"}, []string{"TIDINGS_REDIS_URL:", `scheme "http" is not one tidings reads`}},
		{"half sentinel", "", "dev", map[string]string{"TIDINGS_REDIS_SENTINEL_MASTER": "m"}, []string{"TIDINGS_REDIS_SENTINEL_MASTER: Redis Sentinel needs both a master name and addresses"}},
		{"bad allow", "", "dev", map[string]string{"TIDINGS_ALLOW": "@x.example"}, []string{"TIDINGS_ALLOW: entry \"@x.example\""}},
		// A variable set to commas alone overrode the file's allowlist with
		// none: staging could mail everyone.
		{"allow of commas alone", "environments:\n  staging:\n    allow: [qa.example]\n", "staging", map[string]string{"TIDINGS_ALLOW": " , "}, []string{`TIDINGS_ALLOW: entry 1 of "," is empty`, "remove the extra comma", "or unset the variable"}},
		{"allow with an empty entry", "", "dev", map[string]string{"TIDINGS_ALLOW": "qa.example,,b.example"}, []string{`TIDINGS_ALLOW: entry 2 of "qa.example,,b.example" is empty`}},
		{"cluster of commas alone", "", "dev", map[string]string{"TIDINGS_REDIS_CLUSTER_ADDRS": ","}, []string{`TIDINGS_REDIS_CLUSTER_ADDRS: entry 1 of "," is empty`}},
		{"replica acks", "environments:\n  dev:\n    redis: {min_replica_acks: some}\n", "dev", nil, []string{`tidings.yaml:3: environments.dev.redis.min_replica_acks: "some" is neither auto nor a number`}},
		{"replica acks by var", "", "dev", map[string]string{"TIDINGS_REDIS_MIN_REPLICA_ACKS": "-1"}, []string{`TIDINGS_REDIS_MIN_REPLICA_ACKS: "-1" is neither auto`}},
		{"replica timeout", "environments:\n  dev:\n    redis:\n      replica_ack_timeout: soon\n", "dev", nil, []string{`tidings.yaml:4: environments.dev.redis.replica_ack_timeout: "soon" is not a duration`}},
		{"negative timeout", "", "dev", map[string]string{"TIDINGS_REDIS_REPLICA_ACK_TIMEOUT": "-1s"}, []string{"TIDINGS_REDIS_REPLICA_ACK_TIMEOUT: -1s is negative"}},
		{"fsync", "environments:\n  dev:\n    journal: {fsync: never}\n", "dev", nil, []string{`tidings.yaml:3: environments.dev.journal.fsync: "never" is neither always nor a duration`}},
		{"fsync zero by var", "", "dev", map[string]string{"TIDINGS_JOURNAL_FSYNC": "0s"}, []string{"TIDINGS_JOURNAL_FSYNC:", "neither always nor a duration above 0"}},
		{"console addr", "", "dev", map[string]string{"TIDINGS_CONSOLE_ADDR": "8080"}, []string{`TIDINGS_CONSOLE_ADDR: "8080" is not host:port`}},
		{"console url", "environments:\n  dev:\n    console: {url: \"tidings.example\"}\n", "dev", nil, []string{`tidings.yaml:3: environments.dev.console.url: "tidings.example" is not an http(s) URL`}},
		{"same tokens", "", "dev", map[string]string{"TIDINGS_CONSOLE_VIEWER_TOKEN": "hunter2", "TIDINGS_CONSOLE_OPERATOR_TOKEN": "hunter2"}, []string{"TIDINGS_CONSOLE_OPERATOR_TOKEN: the operator token is the viewer token"}},
		{"slack webhook not https", "", "dev", map[string]string{"TIDINGS_NOTIFY_SLACK_WEBHOOK_URL": "http://hooks.example/hunter2"}, []string{"TIDINGS_NOTIFY_SLACK_WEBHOOK_URL: the webhook is not an https:// URL"}},
		{"webhook not a URL", "", "dev", map[string]string{"TIDINGS_NOTIFY_WEBHOOK_URL": "hunter2"}, []string{"TIDINGS_NOTIFY_WEBHOOK_URL: the webhook is not an http(s) URL"}},
		{"no progress", "environments:\n  dev:\n    notify: {no_progress_after: 10}\n", "dev", nil, []string{`tidings.yaml:3: environments.dev.notify.no_progress_after: "10" is not a duration`}},
		{"env name as state dir", "", "../x", map[string]string{"HOME": "/home/op"}, []string{`--env "../x": an environment's name is 1-63 ASCII letters`}},
		{"control bytes quoted", "", "dev", map[string]string{"TIDINGS_SMTP_PORT": "2\x00"}, []string{`TIDINGS_SMTP_PORT: "2\x00" is not a whole number`}},
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
			for _, r := range err.Error() {
				if r != '\n' && unicode.IsControl(r) {
					t.Errorf("error %q holds the control character %U", err, r)
				}
			}
			for _, e := range unjoin(err) {
				var ye *yamlnode.Error
				if !errors.As(e, &ye) {
					t.Errorf("error %v (%T) is not a *yamlnode.Error", e, e)
				}
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

// TestAllowedSpellings: an allowlist entry and a recipient are compared as
// the mailboxes they are, whichever spelling each uses: a domain in
// A-labels or U-labels, any case, an address in NFC or NFD. An entry
// allowed xn--bcher-kva.test refused josé@bücher.test before.
func TestAllowedSpellings(t *testing.T) {
	t.Parallel()
	e, err := Load(nil, "", "staging", vars(map[string]string{"TIDINGS_ALLOW": "xn--bcher-kva.test, *.XN--MNCHEN-3YA.test, Jose\u0301@Zürich.test"}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		email string
		want  bool
	}{
		{"josé@bücher.test", true},
		{"user@XN--BCHER-KVA.test", true},
		{"user@Bücher.test", true},
		{"user@bucher.test", false},
		{"a@sub.münchen.test", true},
		{"a@sub.xn--mnchen-3ya.test", true},
		{"a@münchen.test", false},
		{"josé@zürich.test", true},        // NFC, the entry NFD
		{"JOSÉ@xn--zrich-kva.test", true}, // case, A-labels
		{"jose@zürich.test", false},
	}
	for _, tt := range tests {
		if got := e.Allowed(tt.email); got != tt.want {
			t.Errorf("Allowed(%q) = %v, want %v (allowlist %q)", tt.email, got, tt.want, e.Allow)
		}
	}
	if _, err := Load(nil, "", "staging", vars(map[string]string{"TIDINGS_ALLOW": "a@b..example"})); err == nil || !strings.Contains(err.Error(), `entry "a@b..example"`) {
		t.Errorf("an entry that is no address: %v, want an error naming it", err)
	}

	// Domains IDNA tells apart never match, though case folding would
	// take them for one (final sigma ς and σ); one-label suffixes are
	// entries like any other; entries written into the struct, not
	// loaded, are compared the same way.
	e, err = Load(nil, "", "staging", vars(map[string]string{"TIDINGS_ALLOW": "aσ.test, *.рф, *.test"}))
	if err != nil {
		t.Fatalf("one-label suffixes: %v", err)
	}
	lit := &Environment{Name: "staging", Allow: []string{"aσ.test", "Boss@Altea.Example", " *.XN--P1AI ", "İnternet.test"}}
	for _, tt := range []struct {
		email string
		want  bool
	}{
		{"x@aσ.test", true},
		{"x@AΣ.test", true},
		{"x@aς.test", false},
		{"x@sub.aς.test", false},
		{"x@пример.рф", true},
		{"boss@altea.example", true},
		{"x@İnternet.test", true},
		{"x@internet.test", false}, // Go's lower case of İ is i; IDNA's is i̇: another domain
	} {
		if got := lit.Allowed(tt.email); got != tt.want {
			t.Errorf("literal allowlist: Allowed(%q) = %v, want %v", tt.email, got, tt.want)
		}
		if strings.HasPrefix(tt.email, "boss") || strings.Contains(tt.email, "nternet") {
			continue
		}
		want := tt.want || strings.HasSuffix(tt.email, ".test") && strings.Count(tt.email, ".") > 0
		if got := e.Allowed(tt.email); got != want {
			t.Errorf("loaded allowlist %q: Allowed(%q) = %v, want %v", e.Allow, tt.email, got, want)
		}
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	t.Parallel()
	const pw = "hunter2-very-secret"
	e, err := Load(nil, "", "staging", vars(map[string]string{
		"TIDINGS_SMTP_PASSWORD": pw, "TIDINGS_REDIS_PASSWORD": pw, "TIDINGS_REDIS_SENTINEL_PASSWORD": pw,
		"TIDINGS_REDIS_SENTINEL_MASTER": "m", "TIDINGS_REDIS_SENTINEL_ADDRS": "s:26379",
		"TIDINGS_CONSOLE_VIEWER_TOKEN": pw + "-v", "TIDINGS_CONSOLE_OPERATOR_TOKEN": pw,
		"TIDINGS_NOTIFY_SLACK_WEBHOOK_URL": "https://hooks.example/" + pw, "TIDINGS_NOTIFY_WEBHOOK_URL": "https://hooks.example/" + pw,
	}))
	if err != nil {
		t.Fatal(err)
	}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s"} {
		outputs = append(outputs, fmt.Sprintf(verb, e), fmt.Sprintf(verb, *e), fmt.Sprintf(verb, e.SMTP.Password), fmt.Sprintf(verb, e.SMTP),
			fmt.Sprintf(verb, e.Console), fmt.Sprintf(verb, e.Notify))
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
		log.Info("env", "env", e, "password", e.SMTP.Password, "smtp", e.SMTP, "console", e.Console, "notify", e.Notify)
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
	if e.SMTP.Password.Reveal() != pw || e.Console.OperatorToken.Reveal() != pw || e.Notify.WebhookURL.Reveal() != "https://hooks.example/"+pw {
		t.Error("Reveal lost the value")
	}
}

func TestReference(t *testing.T) {
	t.Parallel()
	ref := Reference()
	for _, s := range settings {
		for _, name := range []string{s.key, s.variable} {
			if name != "" && !strings.Contains(ref, "  "+name+" ") {
				t.Errorf("Reference lacks %s", name)
			}
		}
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestLoadNoName(t *testing.T) {
	t.Parallel()
	if _, err := Load(nil, "", " ", vars(nil)); !errors.Is(err, ErrNoName) {
		t.Errorf("Load without a name = %v, want ErrNoName", err)
	}
}

func TestSettingsForDeliveryRecordsConsoleAndNotify(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, v := range map[string]string{"viewer": "v-token\n", "operator": "o-token\n", "slack": "https://hooks.slack.example/T1\n", "hook": "http://hooks.internal/x\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "tidings.yaml")
	const full = `environments:
  staging:
    redis: {min_replica_acks: 2, replica_ack_timeout: 2s}
    state_dir: state
    journal: {fsync: always}
    console:
      addr: 0.0.0.0:9090
      viewer_token_file: viewer
      operator_token_file: operator
    notify: {slack_webhook_url_file: slack, webhook_url_file: hook, no_progress_after: 30m}
  bare: {}
`
	tests := []struct {
		name, env string
		vars      map[string]string
		check     func(t *testing.T, e *Environment)
	}{
		{"defaults", "bare", map[string]string{"HOME": "/home/op"}, func(t *testing.T, e *Environment) {
			if !e.Redis.AutoReplicaAcks() || e.Redis.ReplicaAckTimeout != 500*time.Millisecond {
				t.Errorf("redis = %+v", e.Redis)
			}
			if e.StateDir != "/home/op/.local/state/tidings/bare" || e.Journal.Dir != "/home/op/.local/state/tidings/bare/journal" || e.Journal.Fsync() != "200ms" {
				t.Errorf("state %q journal %+v", e.StateDir, e.Journal)
			}
			if e.Console.Addr != "127.0.0.1:8080" || e.Console.URL != "http://127.0.0.1:8080" || e.Console.ViewerToken.IsSet() {
				t.Errorf("console = %+v", e.Console)
			}
			if e.Notify.NoProgressAfter != 10*time.Minute || e.Notify.SlackWebhookURL.IsSet() || e.Notify.WebhookURL.IsSet() {
				t.Errorf("notify = %+v", e.Notify)
			}
		}},
		{"XDG state home wins over HOME", "bare", map[string]string{"HOME": "/home/op", "XDG_STATE_HOME": "/xdg"}, func(t *testing.T, e *Environment) {
			if e.StateDir != "/xdg/tidings/bare" {
				t.Errorf("state dir = %q", e.StateDir)
			}
		}},
		{"relative XDG state home is ignored", "bare", map[string]string{"HOME": "/home/op", "XDG_STATE_HOME": "xdg"}, func(t *testing.T, e *Environment) {
			if e.StateDir != "/home/op/.local/state/tidings/bare" {
				t.Errorf("state dir = %q", e.StateDir)
			}
		}},
		{"no home: no state dir, and a warning", "bare", map[string]string{"HOME": ""}, func(t *testing.T, e *Environment) {
			if e.StateDir != "" || e.Journal.Dir != "" || !strings.Contains(strings.Join(e.Warnings(), "\n"), "no state directory") {
				t.Errorf("state %q journal %q warnings %q", e.StateDir, e.Journal.Dir, e.Warnings())
			}
		}},
		{"from the file", "staging", map[string]string{"HOME": "/home/op"}, func(t *testing.T, e *Environment) {
			if e.Redis.AutoReplicaAcks() || e.Redis.MinReplicaAcks != 2 || e.Redis.ReplicaAckTimeout != 2*time.Second {
				t.Errorf("redis = %+v", e.Redis)
			}
			if e.StateDir != filepath.Join(dir, "state") || e.Journal.Dir != filepath.Join(dir, "state", "journal") || !e.Journal.FsyncAlways || e.Journal.Fsync() != "always" {
				t.Errorf("state %q journal %+v", e.StateDir, e.Journal)
			}
			if e.Console.Addr != "0.0.0.0:9090" || e.Console.URL != "http://localhost:9090" ||
				e.Console.ViewerToken.Reveal() != "v-token" || e.Console.OperatorToken.Reveal() != "o-token" {
				t.Errorf("console = %+v", e.Console)
			}
			if e.Notify.SlackWebhookURL.Reveal() != "https://hooks.slack.example/T1" || e.Notify.WebhookURL.Reveal() != "http://hooks.internal/x" || e.Notify.NoProgressAfter != 30*time.Minute {
				t.Errorf("notify = %+v", e.Notify)
			}
		}},
		{"variables override the file", "staging", map[string]string{
			"TIDINGS_REDIS_MIN_REPLICA_ACKS": "auto", "TIDINGS_REDIS_REPLICA_ACK_TIMEOUT": "1s",
			"TIDINGS_STATE_DIR": "/srv/tidings", "TIDINGS_JOURNAL_DIR": "/fast/journal", "TIDINGS_JOURNAL_FSYNC": "50ms",
			"TIDINGS_CONSOLE_ADDR": "127.0.0.1:7000", "TIDINGS_CONSOLE_URL": "https://tidings.example", "TIDINGS_CONSOLE_VIEWER_TOKEN": "v2",
			"TIDINGS_NOTIFY_WEBHOOK_URL": "https://hooks.example/2", "TIDINGS_NOTIFY_NO_PROGRESS_AFTER": "5m",
		}, func(t *testing.T, e *Environment) {
			if !e.Redis.AutoReplicaAcks() || e.Redis.ReplicaAckTimeout != time.Second {
				t.Errorf("redis = %+v", e.Redis)
			}
			if e.StateDir != "/srv/tidings" || e.Journal.Dir != "/fast/journal" || e.Journal.FsyncAlways || e.Journal.FsyncInterval != 50*time.Millisecond {
				t.Errorf("state %q journal %+v", e.StateDir, e.Journal)
			}
			if e.Console.Addr != "127.0.0.1:7000" || e.Console.URL != "https://tidings.example" || e.Console.ViewerToken.Reveal() != "v2" {
				t.Errorf("console = %+v", e.Console)
			}
			if e.Notify.WebhookURL.Reveal() != "https://hooks.example/2" || e.Notify.NoProgressAfter != 5*time.Minute {
				t.Errorf("notify = %+v", e.Notify)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := Load([]byte(full), file, tt.env, vars(tt.vars))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, e)
		})
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	names, err := Names([]byte(config), "tidings.yaml")
	if err != nil || strings.Join(names, ",") != "production,shadow,staging" {
		t.Errorf("Names = %q, %v", names, err)
	}
	if names, err := Names(nil, ""); err != nil || names != nil {
		t.Errorf("Names(no file) = %q, %v", names, err)
	}
	if _, err := Names([]byte("environments: [\n"), "t.yaml"); err == nil {
		t.Error("Names of a broken file succeeded")
	}
}

// TestAnchorsAndMerges: a config file may share settings between
// environments with YAML anchors and merge keys.
func TestAnchorsAndMerges(t *testing.T) {
	t.Parallel()
	const shared = `common: &common
  smtp: {host: smtp.example, port: 2525}
  allow: [example.com]
environments:
  staging:
    <<: *common
    concurrency: 2
  qa:
    <<: *common
    smtp: {host: qa.example}
`
	e, err := Load([]byte(shared), "t.yaml", "staging", vars(nil))
	if err == nil {
		t.Fatalf("a top-level key other than environments was accepted: %+v", e)
	}
	if !strings.Contains(err.Error(), "t.yaml:1: common: unknown key") {
		t.Errorf("error = %v", err)
	}
	const inside = `environments:
  staging: &staging
    smtp: {host: smtp.example, port: 2525}
    allow: [example.com]
  qa:
    <<: *staging
    concurrency: 2
`
	e, err = Load([]byte(inside), "t.yaml", "qa", vars(nil))
	if err != nil {
		t.Fatal(err)
	}
	if e.SMTP.Addr() != "smtp.example:2525" || strings.Join(e.Allow, ",") != "example.com" || e.Concurrency != 2 {
		t.Errorf("merged environment = %+v", e)
	}
}
