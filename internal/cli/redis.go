package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/worker"
)

type redisClient = redis.UniversalClient

// quietRedisLog silences go-redis's own logger, which otherwise prints
// every failed dial ("redis: ... pool.go: connection pool: failed to dial")
// to the process's standard error, next to and before tidings' own message
// about the unreachable Redis.
type quietRedisLog struct{}

func (quietRedisLog) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quietRedisLog{}) }

// redis connects to the environment's Redis and checks that it answers.
func (a *app) redis(ctx context.Context, env *environment.Environment) (redis.UniversalClient, error) {
	opts, err := env.RedisOptions()
	if err != nil {
		return nil, configError(err)
	}
	rdb := redis.NewUniversalClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, infraError(fmt.Errorf("redis for environment %s (%s) is unreachable: %w; check the environment's redis settings or TIDINGS_REDIS_URL, then run 'tidings doctor --env %s'",
			env.Name, doctor.Addrs(opts), err, env.Name))
	}
	return rdb, nil
}

// openStore loads environment envName and connects to its store. The
// caller closes the store's client.
func (a *app) openStore(ctx context.Context, envName string) (*store.Store, *environment.Environment, error) {
	e, err := a.loadEnv(envName)
	if err != nil {
		return nil, nil, err
	}
	st, err := a.storeOf(ctx, e)
	return st, e, err
}

// storeOf connects to the store of environment e, waiting for as many
// replica acknowledgements of its writes as the environment asks (auto: 1
// on Sentinel, Cluster, or a master with a replica).
func (a *app) storeOf(ctx context.Context, e *environment.Environment) (*store.Store, error) {
	rdb, err := a.redis(ctx, e)
	if err != nil {
		return nil, err
	}
	acks, err := worker.ReplicaAcks(ctx, rdb, e.Redis.MinReplicaAcks)
	if err != nil {
		rdb.Close()
		return nil, infraError(fmt.Errorf("redis for environment %s: %w", e.Name, err))
	}
	return store.NewWithConfig(rdb, store.Config{ReplicaAcks: acks, AckTimeout: e.Redis.ReplicaAckTimeout}), nil
}

// actor is who runs a command in environment e, for the audit log.
func actor(e *environment.Environment) store.Actor {
	who, host := actorName()
	return store.Actor{Who: who, Host: host, Env: e.Name}
}
