package doctor

import (
	"errors"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestEvictionReadsAsTheWorkersRead: doctor judges maxmemory-policy from
// what the workers read (INFO memory, else CONFIG GET) and, where Redis
// says neither, from the environment's redis.maxmemory_policy, which the
// workers take for it: a Redis whose hidden policy is declared noeviction
// passed the workers' hold but failed doctor ("maxmemory-policy is \"\"").
func TestEvictionReadsAsTheWorkersRead(t *testing.T) {
	t.Parallel()
	var refused redis.Error = replyError("NOPERM User tidings has no permissions to run the 'config|get' command")
	for _, tt := range []struct {
		name     string
		m        node
		declared string
		status   string
		text     string
	}{
		{"INFO says noeviction", node{info: map[string]string{"maxmemory_policy": "noeviction"}}, "", Pass, "maxmemory-policy noeviction"},
		{"INFO says allkeys-lru, declared noeviction", node{info: map[string]string{"maxmemory_policy": "allkeys-lru"}}, "noeviction", Fail, `maxmemory-policy is "allkeys-lru"`},
		{"CONFIG GET says noeviction", node{info: map[string]string{}, config: map[string]string{"maxmemory-policy": "noeviction"}}, "", Pass, "maxmemory-policy noeviction"},
		{"CONFIG GET says volatile-lru", node{info: map[string]string{}, config: map[string]string{"maxmemory-policy": "volatile-lru"}}, "noeviction", Fail, `maxmemory-policy is "volatile-lru"`},
		{"hidden, undeclared", node{info: map[string]string{}, config: map[string]string{}, configErr: refused}, "", Fail, "cannot read maxmemory-policy (INFO memory does not say it; CONFIG GET refused: NOPERM"},
		{"hidden, declared", node{info: map[string]string{}, config: map[string]string{}, configErr: refused}, "noeviction", Pass, "declared noeviction (redis.maxmemory_policy)"},
		{"a replica not reached", node{replica: true, info: map[string]string{}, infoErr: errors.New("dial tcp: refused")}, "noeviction", Warn, "cannot read maxmemory-policy (INFO memory: dial tcp: refused)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := eviction(tt.m, tt.declared)
			if c.Status != tt.status || !strings.Contains(c.Message, tt.text) {
				t.Errorf("eviction = %s %q, want %s containing %q", c.Status, c.Message, tt.status, tt.text)
			}
		})
	}
}

// replyError is an error reply of Redis (a redis.Error).
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}
