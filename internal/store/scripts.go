package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Lua scripts, one file each under lua/, with their KEYS, ARGV and
// result codes documented at the top of the file.
//
//go:embed lua/*.lua
var luaFiles embed.FS

func loadScript(name string) *redis.Script {
	b, err := luaFiles.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic("store: missing script " + name) // embedded at build time
	}
	return redis.NewScript(string(b))
}

var (
	stepScript        = loadScript("step")
	tickScript        = loadScript("tick")
	transitionScript  = loadScript("transition")
	approveScript     = loadScript("approve")
	cancelChunkScript = loadScript("cancel_chunk")
	retryChunkScript  = loadScript("retry_chunk")
	chunkEndScript    = loadScript("chunk_end")
	bumpGenScript     = loadScript("bump_gen")
)

// eval runs script on the master that owns keys[0] and, when the store
// requires replica acknowledgements, WAITs for them on the same connection
// in the same round trip. It returns the script's answer and, with too few
// acknowledgements, ack: an *AckError (the script did run).
func (s *Store) eval(ctx context.Context, script *redis.Script, keys []string, args ...any) (res any, ack, err error) {
	if s.cfg.ReplicaAcks == 0 {
		res, err = script.Run(ctx, s.rdb, keys, args...).Result()
		return res, nil, err
	}
	// WAIT counts the replicas of the node it is sent to, for the writes
	// of its connection: send both to the master of the campaign's slot.
	c, err := s.node(ctx, keys[0])
	if err != nil {
		return nil, nil, err
	}
	res, acks, err := evalWait(ctx, c, script, keys, args, s.cfg.ReplicaAcks, s.cfg.AckTimeout)
	if err != nil {
		return nil, nil, err
	}
	if acks < int64(s.cfg.ReplicaAcks) {
		return res, &AckError{Got: int(acks), Want: s.cfg.ReplicaAcks}, nil
	}
	return res, nil, nil
}

// evalWait pipelines EVALSHA (EVAL when the script is not loaded yet) and
// WAIT on one connection.
func evalWait(ctx context.Context, c redis.Cmdable, script *redis.Script, keys []string, args []any, acks int, timeout time.Duration) (any, int64, error) {
	run := func(load bool) (any, int64, error) {
		p := c.Pipeline()
		var ev *redis.Cmd
		if load {
			ev = script.Eval(ctx, p, keys, args...)
		} else {
			ev = script.EvalSha(ctx, p, keys, args...)
		}
		w := p.Do(ctx, "WAIT", acks, timeout.Milliseconds())
		_, _ = p.Exec(ctx)
		if err := ev.Err(); err != nil {
			return nil, 0, err
		}
		n, err := w.Int64()
		if err != nil {
			return ev.Val(), 0, fmt.Errorf("wait for replicas: %w", err)
		}
		return ev.Val(), n, nil
	}
	res, n, err := run(false)
	if err != nil && isNoScript(err) {
		res, n, err = run(true)
	}
	return res, n, err
}

func isNoScript(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "NOSCRIPT")
}
