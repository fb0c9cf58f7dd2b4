package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// WorkersKey is the registry of the live workers of environment env.
func WorkersKey(env string) string { return "tidings:workers:" + env }

// Alive records, in Redis's own time, that worker (of environment env) is
// alive, and returns whether it has said so without a gap longer than
// window for at least window (settled: every live worker has then said so
// too, even into a Redis that lost the registry), and the workers alive
// (seen within window). One key: safe on Cluster.
func (s *Store) Alive(ctx context.Context, env, worker string, window time.Duration) (settled bool, live []string, err error) {
	v, err := aliveScript.Run(ctx, s.rdb, []string{WorkersKey(env)}, worker, window.Milliseconds()).Slice()
	if err != nil {
		return false, nil, fmt.Errorf("say worker %s is alive: %w", worker, err)
	}
	if len(v) != 2 {
		return false, nil, fmt.Errorf("say worker %s is alive: unexpected answer %v", worker, v)
	}
	return v[0] == int64(1), strs(v[1]), nil
}

// CheckIn records, in Redis's own time, that worker has checked its
// delivery journals against state checked of campaign c ("*": it keeps
// no journal, so has nothing to check). With need set, it returns which of
// the workers live (Alive) have not checked need within window: a worker
// that holds deliveries a restored Redis forgot is heard from before
// anyone claims them again, whatever its journal directory. Nothing is
// written for a campaign Redis no longer has (ErrNotFound). The campaign's
// own keys: safe on Cluster.
func (s *Store) CheckIn(ctx context.Context, c, worker, checked, need string, live []string, window time.Duration) (behind []string, err error) {
	args := []any{worker, checked, window.Milliseconds(), need}
	for _, l := range live {
		args = append(args, l)
	}
	k := keysFor(c)
	v, err := checkInScript.Run(ctx, s.rdb, []string{k.checkins, k.control}, args...).Slice()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("check in for %s: %w", c, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("check in for %s: %w", c, err)
	}
	return strs(v), nil
}

// strs returns the strings of a script's array answer v.
func strs(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, x := range a {
		if x, ok := x.(string); ok {
			out = append(out, x)
		}
	}
	return out
}
