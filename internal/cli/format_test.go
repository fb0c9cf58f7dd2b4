package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
)

// TestMachineOutput: every command with machine output takes --format json
// and its alias --json, and prints one JSON object (status without a
// campaign: a list) on standard output; a format it does not have is a
// usage error.
func TestMachineOutput(t *testing.T) {
	t.Parallel()
	renv, _ := redisEnv(t)
	env := merge(renv, map[string]string{"TIDINGS_SMTP_PORT": "1", "TIDINGS_SMTP_TLS": "none"})
	c := stageCampaign(t, env, "machine")
	incomplete := filepath.Join(repoRoot(t), "testdata", "locales-incomplete")
	file := writeCampaign(t, campaignFile{locales: incomplete, rows: []string{"ada@example.org,Ada,en,1", "joao@example.org,João,pt,2"}})
	tests := []struct {
		args []string
		code int
		keys []string // top-level keys of the object
	}{
		{[]string{"plan", file, "--rejects", filepath.Join(t.TempDir(), "rejects.csv")}, 1, []string{"campaign", "rows", "accepted", "refused", "per_locale", "rejects", "batches", "estimate_ns"}},
		{[]string{"status", c, "--env", "staging"}, 0, []string{"campaign", "state", "counts", "batches", "languages", "audit"}},
		{[]string{"report", c, "--env", "staging"}, 0, []string{"campaign", "state", "counts", "audit", "recipients"}},
		{[]string{"doctor", "--env", "staging", file}, 3, []string{"environment", "checks", "failed"}},
		{[]string{"check", "--templates", filepath.Join(repoRoot(t), "templates"), "--locales", incomplete}, 1, []string{"templates", "problems", "languages", "errors", "warnings", "counted"}},
	}
	for _, tt := range tests {
		for _, spelling := range [][]string{{"--format", "json"}, {"--json"}} {
			r := cli(t, env, append(append([]string{}, tt.args...), spelling...)...)
			var obj map[string]json.RawMessage
			if r.code != tt.code || strings.Count(strings.TrimSpace(r.stdout), "\n") != 0 || json.Unmarshal([]byte(r.stdout), &obj) != nil {
				t.Errorf("%v %v: want exit %d and one JSON object\n%s", tt.args, spelling, tt.code, r)
				continue
			}
			for _, k := range tt.keys {
				if _, ok := obj[k]; !ok {
					t.Errorf("%v %v: the object lacks %q", tt.args, spelling, k)
				}
			}
		}
		if r := cli(t, env, append(append([]string{}, tt.args...), "--format", "xml")...); r.code != 2 || !strings.Contains(r.stderr, `--format "xml"`) {
			t.Errorf("%v --format xml: want exit 2\n%s", tt.args, r)
		}
	}
	r := cli(t, env, "status", "--env", "staging", "--json")
	var list []map[string]any
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &list) != nil || len(list) != 1 {
		t.Errorf("status --json without a campaign: want a list of one\n%s", r)
	}
}

// TestEnvRequired: --env is required where it is, exit 2 with what to do
// and the environments the config file has.
func TestEnvRequired(t *testing.T) {
	t.Parallel()
	config := filepath.Join(t.TempDir(), "tidings.yaml")
	fixture.Write(t, config, "environments:\n  staging: {}\n  production:\n    production: true\n")
	for _, args := range [][]string{
		{"status"}, {"pause", "c", "--reason", "x"}, {"resume", "c"}, {"report", "c"}, {"retry", "c"},
		{"worker"}, {"doctor"}, {"send", "c.yaml"}, {"test-send", "c.yaml", "--to", "qa@example.org"},
	} {
		r := cli(t, map[string]string{"TIDINGS_CONFIG": config}, args...)
		want := "--env is required: name the environment to work in (the config file has production, staging)"
		if r.code != 2 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "Run 'tidings "+args[0]+" --help' for usage.") {
			t.Errorf("%v: want exit 2 and %q\n%s", args, want, r)
		}
	}
}
