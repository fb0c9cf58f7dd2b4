package environment

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestMaxmemoryPolicyDeclared: redis.maxmemory_policy (or
// TIDINGS_REDIS_MAXMEMORY_POLICY) declares noeviction for a Redis that
// does not say its policy; unset it declares nothing; any other value is
// refused where it was written, since tidings sends on no other policy.
func TestMaxmemoryPolicyDeclared(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "tidings.yaml")
	for _, tt := range []struct {
		name, config string
		vars         map[string]string
		want         string // the policy declared, or part of the error
		fails        bool
	}{
		{name: "none", config: "environments:\n  dev: {}\n", want: ""},
		{name: "in the file", config: "environments:\n  dev:\n    redis: {maxmemory_policy: noeviction}\n", want: "noeviction"},
		{name: "by variable", vars: map[string]string{"TIDINGS_REDIS_MAXMEMORY_POLICY": "noeviction"}, want: "noeviction"},
		{name: "another in the file", config: "environments:\n  dev:\n    redis: {maxmemory_policy: allkeys-lru}\n", fails: true,
			want: `tidings.yaml:3: environments.dev.redis.maxmemory_policy: "allkeys-lru": declare noeviction`},
		{name: "another by variable", vars: map[string]string{"TIDINGS_REDIS_MAXMEMORY_POLICY": "volatile-lru"}, fails: true,
			want: `TIDINGS_REDIS_MAXMEMORY_POLICY: "volatile-lru": declare noeviction`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := Load([]byte(tt.config), file, "dev", vars(tt.vars))
			switch {
			case tt.fails && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Load: %v; want an error with %q", err, tt.want)
			case !tt.fails && err != nil:
				t.Fatal(err)
			case !tt.fails && e.Redis.MaxmemoryPolicy != tt.want:
				t.Errorf("MaxmemoryPolicy = %q, want %q", e.Redis.MaxmemoryPolicy, tt.want)
			}
		})
	}
}
