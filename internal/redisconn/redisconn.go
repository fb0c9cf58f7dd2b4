// Package redisconn connects to an environment's Redis: a client whose
// server answered, and the store that waits for as many replica
// acknowledgements of its writes as the environment asks. It names no
// command: its errors are typed, and the command line words them.
package redisconn

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/worker"
)

// quietLog silences go-redis's own logger, which otherwise prints every
// failed dial ("redis: ... pool.go: connection pool: failed to dial") to
// the process's standard error, next to and before tidings' own message
// about the unreachable Redis. Importing redisconn installs it.
type quietLog struct{}

func (quietLog) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quietLog{}) }

// PingTimeout bounds how long Dial waits for the server to answer.
const PingTimeout = 5 * time.Second

// UnreachableError says that an environment's Redis did not answer.
type UnreachableError struct {
	Env   string // the environment's name
	Where string // where its Redis was looked for (Addrs)
	Err   error
}

// Error says which Redis did not answer, and why.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("redis for environment %s (%s) is unreachable: %s", e.Env, e.Where, e.Err)
}

// Unwrap returns the client's error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// ReplicaAcksError says that the replica acknowledgements an environment
// asks for could not be resolved against its Redis.
type ReplicaAcksError struct {
	Env string // the environment's name
	Err error
}

// Error says which Redis, and why.
func (e *ReplicaAcksError) Error() string {
	return fmt.Sprintf("redis for environment %s: %s", e.Env, e.Err)
}

// Unwrap returns the underlying error.
func (e *ReplicaAcksError) Unwrap() error { return e.Err }

// Addrs describes where the Redis of opts is, for messages.
func Addrs(o *redis.UniversalOptions) string {
	if o.MasterName != "" {
		return fmt.Sprintf("sentinel master %s at %v", o.MasterName, o.Addrs)
	}
	return fmt.Sprint(o.Addrs)
}

// Dial connects to environment e's Redis and checks that it answers within
// PingTimeout. Errors: e's Redis settings' (Environment.RedisOptions), as
// they are, or an *UnreachableError. The caller closes the client.
func Dial(ctx context.Context, e *environment.Environment) (redis.UniversalClient, error) {
	opts, err := e.RedisOptions()
	if err != nil {
		return nil, err
	}
	rdb := redis.NewUniversalClient(opts)
	pctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, &UnreachableError{Env: e.Name, Where: Addrs(opts), Err: err}
	}
	return rdb, nil
}

// Open connects to environment e's store (Dial), waiting for as many
// replica acknowledgements of its writes as e asks (auto: 1 on Sentinel,
// Cluster, or a master with a replica). Errors: Dial's, or a
// *ReplicaAcksError. The caller closes the store's client.
func Open(ctx context.Context, e *environment.Environment) (*store.Store, error) {
	rdb, err := Dial(ctx, e)
	if err != nil {
		return nil, err
	}
	acks, err := worker.ReplicaAcks(ctx, rdb, e.Redis.MinReplicaAcks)
	if err != nil {
		rdb.Close()
		return nil, &ReplicaAcksError{Env: e.Name, Err: err}
	}
	return store.NewWithConfig(rdb, store.Config{ReplicaAcks: acks, AckTimeout: e.Redis.ReplicaAckTimeout}), nil
}
