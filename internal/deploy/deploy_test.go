package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// repo returns the path of a file at the top of the repository.
func repo(t *testing.T, path string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", path))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(repo(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compose is the part of docker-compose.yml the tests look at.
type compose struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Volumes     []string          `yaml:"volumes"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		DependsOn   map[string]any    `yaml:"depends_on"`
		Healthcheck map[string]any    `yaml:"healthcheck"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func TestComposeFile(t *testing.T) {
	t.Parallel()
	var c compose
	dec := yaml.NewDecoder(strings.NewReader(string(read(t, "docker-compose.yml"))))
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("docker-compose.yml is not valid YAML (or has an unexpected shape): %v", err)
	}
	for _, name := range []string{"redis", "mailpit", "worker"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("docker-compose.yml has no service %q (services: %v)", name, keys(c.Services))
		}
	}

	redis := c.Services["redis"]
	if len(redis.Command) == 0 || redis.Command[0] != "redis-server" {
		t.Errorf("redis command %v: want redis-server CONFIG", redis.Command)
	}
	// The command's config file must be deploy/redis.conf, mounted.
	mounted := false
	for _, v := range redis.Volumes {
		src, dst, _ := strings.Cut(v, ":")
		dst, _, _ = strings.Cut(dst, ":")
		if filepath.Clean(src) == "deploy/redis.conf" && slices.Contains(redis.Command, dst) {
			mounted = true
			if _, err := os.Stat(repo(t, src)); err != nil {
				t.Errorf("redis volume %s: %v", v, err)
			}
		}
	}
	if !mounted {
		t.Errorf("redis does not run with deploy/redis.conf: command %v, volumes %v", redis.Command, redis.Volumes)
	}
	// deploy/redis.conf names no data directory (a "dir" line would fail
	// the README's host command), so the compose command must put the
	// data on the volume mounted at /data.
	if i := slices.Index(redis.Command, "--dir"); i < 0 || i+1 >= len(redis.Command) || redis.Command[i+1] != "/data" ||
		!slices.ContainsFunc(redis.Volumes, func(v string) bool { return strings.HasSuffix(v, ":/data") }) {
		t.Errorf("redis keeps its data outside the /data volume: command %v, volumes %v", redis.Command, redis.Volumes)
	}
	if redis.Healthcheck == nil {
		t.Errorf("redis has no healthcheck: the worker's depends_on needs one")
	}

	mailpit := c.Services["mailpit"]
	if !strings.HasPrefix(mailpit.Image, "axllent/mailpit") {
		t.Errorf("mailpit image %q", mailpit.Image)
	}

	w := c.Services["worker"]
	cmd := strings.Join(w.Command, " ")
	if !strings.HasPrefix(cmd, "worker --env local") || !slices.Contains(w.Command, "--metrics-addr") {
		t.Errorf("worker command %q: want worker --env local ... --metrics-addr ADDR", cmd)
	}
	for _, dep := range []string{"redis", "mailpit"} {
		if _, ok := w.DependsOn[dep]; !ok {
			t.Errorf("worker does not depend on %s", dep)
		}
	}
	if w.Build == nil {
		t.Errorf("worker has no build")
	}
	if _, err := os.Stat(repo(t, "deploy/Dockerfile")); err != nil {
		t.Errorf("deploy/Dockerfile: %v", err)
	}
	// The worker reads deploy/tidings.yaml through TIDINGS_CONFIG.
	cfg := w.Environment["TIDINGS_CONFIG"]
	found := false
	for _, v := range w.Volumes {
		src, dst, _ := strings.Cut(v, ":")
		dst, _, _ = strings.Cut(dst, ":")
		found = found || filepath.Clean(src) == "deploy/tidings.yaml" && dst == cfg
	}
	if cfg == "" || !found {
		t.Errorf("worker's TIDINGS_CONFIG %q is not deploy/tidings.yaml mounted (volumes %v)", cfg, w.Volumes)
	}
	// Workers and consoles both post notifications: they are configured
	// alike, so an event is announced whichever process sees it first.
	con, ok := c.Services["console"]
	if !ok {
		t.Fatalf("docker-compose.yml has no console service")
	}
	for _, k := range []string{"TIDINGS_NOTIFY_SLACK_WEBHOOK_URL", "TIDINGS_NOTIFY_WEBHOOK_URL", "TIDINGS_CONSOLE_URL"} {
		if _, ok := w.Environment[k]; !ok || w.Environment[k] != con.Environment[k] {
			t.Errorf("%s: worker has %q, console %q; want both set alike", k, w.Environment[k], con.Environment[k])
		}
	}
	for _, v := range w.Environment {
		if strings.Contains(strings.ToLower(v), "password") {
			t.Errorf("worker environment holds a password-like value %q", v)
		}
	}
}

func TestRedisConf(t *testing.T) {
	t.Parallel()
	r := redistest.StartServer(t, repo(t, "deploy/redis.conf"))
	c := r.Client()
	for key, want := range map[string]string{
		"appendonly":       "yes",
		"appendfsync":      "everysec",
		"maxmemory-policy": "noeviction",
	} {
		got, err := c.ConfigGet(t.Context(), key).Result()
		if err != nil {
			t.Fatalf("CONFIG GET %s: %v", key, err)
		}
		if got[key] != want {
			t.Errorf("CONFIG GET %s = %q, want %q", key, got[key], want)
		}
	}
	save, err := c.ConfigGet(t.Context(), "save").Result()
	if err != nil || save["save"] == "" {
		t.Errorf("RDB snapshots off: save = %q (%v)", save["save"], err)
	}
	// The server works: a write survives in the append-only file.
	if err := c.Set(t.Context(), "tidings-deploy-test", "1", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	info, err := c.Info(t.Context(), "persistence").Result()
	if err != nil || !strings.Contains(info, "aof_enabled:1") {
		t.Errorf("INFO persistence: aof_enabled is not 1 (%v)\n%s", err, info)
	}
}

func TestWorkerConfig(t *testing.T) {
	t.Parallel()
	data := read(t, "deploy/tidings.yaml")
	e, err := environment.Load(data, repo(t, "deploy/tidings.yaml"), "local", func(string) string { return "" })
	if err != nil {
		t.Fatalf("deploy/tidings.yaml, environment local: %v", err)
	}
	if e.Production {
		t.Errorf("local is marked production")
	}
	if e.SMTP.Port != 1025 {
		t.Errorf("SMTP port %d, want Mailpit's 1025", e.SMTP.Port)
	}
	if e.SMTP.TLS != environment.TLSNone {
		t.Errorf("SMTP TLS %q, want none for Mailpit", e.SMTP.TLS)
	}
	if e.SMTP.Password.Reveal() != "" || e.Redis.Password.Reveal() != "" {
		t.Errorf("deploy/tidings.yaml yields a password")
	}
	// docker-compose overrides the addresses with these variables; the
	// result must still load.
	vars := map[string]string{"TIDINGS_REDIS_URL": "redis://redis:6379/0", "TIDINGS_SMTP_HOST": "mailpit", "TIDINGS_SMTP_PORT": "1025"}
	e, err = environment.Load(data, "deploy/tidings.yaml", "local", func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("with docker-compose's variables: %v", err)
	}
	if e.SMTP.Host != "mailpit" || !strings.Contains(e.Redis.URL, "redis:6379") {
		t.Errorf("variables not applied: smtp %s redis %s", e.SMTP.Host, e.Redis.URL)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestAlertRules runs Prometheus's own rule checker and the rules' unit
// tests (deploy/prometheus/alerts_test.yml: when each alert fires and when
// it must not, such as a failing campaign that is done or a campaign
// approved after an hour's wait) with promtool, from Debian's prometheus
// package. Without promtool the test skips, and fails under CI=true.
func TestAlertRules(t *testing.T) {
	t.Parallel()
	bin := fixture.Tool(t, "promtool", "prometheus")
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		cmd := exec.CommandContext(t.Context(), bin, args...)
		cmd.Dir = repo(t, "deploy/prometheus")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestEveryAlertRuleIsUnitTested: on-call trusts the shipped rules to page
// on a storm and to keep quiet otherwise, and only a promtool unit test
// shows either. Every rule of alerts.yml must have, in alerts_test.yml, an
// evaluation at which it fires (exp_alerts not empty) and one at which it
// must not (exp_alerts empty), and say what to run (its description names
// a tidings command). Red team 37e found TidingsCampaignAwaitingApproval
// and TidingsConsoleCannotReadRedis had neither (TestAlertRules's comment
// named the approval's test, which did not exist).
func TestEveryAlertRuleIsUnitTested(t *testing.T) {
	t.Parallel()
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(read(t, "deploy/prometheus/alerts.yml"), &rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(read(t, "deploy/prometheus/alerts_test.yml"), &tests); err != nil {
		t.Fatalf("alerts_test.yml: %v", err)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if !fires[r.Alert] {
				t.Errorf("alerts_test.yml has no evaluation at which %s fires", r.Alert)
			}
			if !quiet[r.Alert] {
				t.Errorf("alerts_test.yml has no evaluation at which %s must not fire", r.Alert)
			}
			if !strings.Contains(r.Annotations["description"], "tidings ") {
				t.Errorf("alerts.yml %s: its description names no tidings command to run: %q", r.Alert, r.Annotations["description"])
			}
		}
	}
	if n == 0 {
		t.Fatal("alerts.yml has no rule")
	}
}
