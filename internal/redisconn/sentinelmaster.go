package redisconn

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// UnknownMasterError says that the Sentinels answered, but none of them
// monitors a master of the name an environment gives
// (redis.sentinel.master): a setting to change, not a server to wait for.
type UnknownMasterError struct {
	Env       string   // the environment's name
	Master    string   // the name it gives
	Sentinels []string // the Sentinels' addresses
	// Monitored lists the names the Sentinels that answered do monitor
	// (SENTINEL MASTERS), sorted; empty when they monitor none or could
	// not be asked.
	Monitored []string
}

// Error names the master, the names the Sentinels monitor and the setting
// to change. It does not wrap go-redis's error: that one says the
// Sentinels are unreachable, which they are not.
func (e *UnknownMasterError) Error() string {
	monitored := "they monitor no master (SENTINEL MASTERS is empty): add one to their configuration (sentinel monitor NAME HOST PORT QUORUM) or point redis.sentinel.addrs at the Sentinels of your Redis"
	if len(e.Monitored) > 0 {
		monitored = fmt.Sprintf("they monitor %s: set it to the one of your Redis", strings.Join(e.Monitored, ", "))
	}
	return fmt.Sprintf("redis for environment %s: no Sentinel knows a master named %q (Sentinels at %v); check redis.sentinel.master / TIDINGS_REDIS_SENTINEL_MASTER: %s",
		e.Env, e.Master, e.Sentinels, monitored)
}

// monitoredMasters asks each Sentinel of opts for the masters it monitors
// (SENTINEL MASTERS, with the Sentinels' user, password and TLS) and
// returns their names, sorted and once each; a Sentinel that does not
// answer in time adds none.
func monitoredMasters(ctx context.Context, opts *redis.UniversalOptions) []string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	var (
		mu    sync.Mutex
		names []string
		wg    sync.WaitGroup
	)
	for _, addr := range opts.Addrs {
		wg.Go(func() {
			c := redis.NewSentinelClient(&redis.Options{Addr: addr, Username: opts.SentinelUsername, Password: opts.SentinelPassword, TLSConfig: opts.TLSConfig})
			defer c.Close()
			cmd := redis.NewMapStringStringSliceCmd(ctx, "sentinel", "masters")
			_ = c.Process(ctx, cmd)
			masters, _ := cmd.Result()
			mu.Lock()
			defer mu.Unlock()
			for _, m := range masters {
				if n := m["name"]; n != "" {
					names = append(names, n)
				}
			}
		})
	}
	wg.Wait()
	slices.Sort(names)
	return slices.Compact(names)
}
