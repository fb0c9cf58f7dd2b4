package writehold

import (
	"context"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/environment"
)

// sentinelWait bounds the asking of the Sentinels for the master's
// address: past it, the line says "the Redis master" (no address).
const sentinelWait = time.Second

// sentinelMaster is the address of environment e's master as the first
// of its Sentinels that answers reports it (SENTINEL
// GET-MASTER-ADDR-BY-NAME, with the Sentinels' user, password and TLS);
// "" when none answers within sentinelWait.
func sentinelMaster(ctx context.Context, e *environment.Environment) string {
	opts, err := e.RedisOptions()
	if err != nil || opts.MasterName == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, sentinelWait)
	defer cancel()
	for _, addr := range opts.Addrs {
		c := redis.NewSentinelClient(&redis.Options{Addr: addr, Username: opts.SentinelUsername, Password: opts.SentinelPassword, TLSConfig: opts.TLSConfig})
		hp, err := c.GetMasterAddrByName(ctx, opts.MasterName).Result()
		_ = c.Close()
		if err == nil && len(hp) == 2 {
			return net.JoinHostPort(hp[0], hp[1])
		}
	}
	return ""
}
