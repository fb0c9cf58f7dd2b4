package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
)

// completions runs cobra's hidden __complete command and returns the
// candidates it prints (its last line is the directive).
func completions(t *testing.T, env map[string]string, args ...string) []string {
	t.Helper()
	r := cli(t, env, append([]string{"__complete"}, args...)...)
	if r.code != 0 {
		t.Fatalf("__complete %v\n%s", args, r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	return lines[:len(lines)-1]
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	renv, _ := redisEnv(t)
	config := filepath.Join(t.TempDir(), "tidings.yaml")
	fixture.Write(t, config, fmt.Sprintf("environments:\n  staging:\n    redis:\n      url: %s\n  production:\n    production: true\n", renv["TIDINGS_REDIS_URL"]))
	env := map[string]string{"TIDINGS_CONFIG": config, "TIDINGS_STATE_DIR": renv["TIDINGS_STATE_DIR"]}
	stageCampaign(t, merge(env, map[string]string{"TIDINGS_REDIS_URL": renv["TIDINGS_REDIS_URL"]}), "alpha")

	if got := strings.Join(completions(t, env, "status", "--env", ""), " "); got != "production staging" {
		t.Errorf("--env completes %q, want the config file's environments", got)
	}
	if got := strings.Join(completions(t, env, "pause", "--env", "staging", "al"), " "); got != "alpha" {
		t.Errorf("a campaign name completes %q, want alpha", got)
	}
	// Unreachable Redis: nothing, and no error.
	host, port := closedPort(t)
	down := merge(env, map[string]string{"TIDINGS_REDIS_URL": fmt.Sprintf("redis://%s:%d/0", host, port)})
	if got := completions(t, down, "pause", "--env", "staging", ""); len(got) != 0 {
		t.Errorf("with Redis unreachable, completion offers %v", got)
	}
	if r := cli(t, nil, "completion", "bash"); r.code != 0 || !strings.Contains(r.stdout, "__start_tidings") {
		t.Errorf("completion bash\n%.300s", r)
	}
}
