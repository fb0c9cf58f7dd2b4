package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// CheckInWindow is how recently a worker must have said it is alive to
// count as alive (Alive), and how long a worker says so before it claims;
// every worker says so, and checks in, five times a window.
const CheckInWindow = 2 * time.Second

// StateKey names the state of campaign c whose control's At is at, as
// workers check their journals against it and check in (CheckIn):
// "<at ms>/<run id>", the run id of the Redis server process that answers
// (INFO; on Cluster, the master serving c's slot), so that a Redis
// restarted, restored or failed over is a new state. On Cluster a node
// that answers as a replica (the client's map of the slots is behind a
// failover) is an error, not the old master's run id. No run id from a
// Redis that refuses INFO (an embedded one; a managed one, or an ACL user,
// that forbids it): such a state matches any run id of the same at
// (Checked), so workers that may run INFO and workers that may not agree.
// Any other failure of INFO (Redis unreachable) is an error, not a state
// without a run id, which would match every process's.
func (s *Store) StateKey(ctx context.Context, c string, at time.Time) (string, error) {
	var info, role string
	var err error
	switch rdb := s.rdb.(type) {
	case *redis.Client:
		info, err = rdb.Info(ctx, "server").Result()
	case *redis.ClusterClient: // the master of c's slot as rdb's map of the slots has it: INFO server and replication in one round trip
		var node *redis.Client
		if node, err = rdb.MasterForKey(ctx, keysFor(c).control); err == nil {
			p := node.Pipeline()
			srv, repl := p.Info(ctx, "server"), p.Info(ctx, "replication")
			_, err = p.Exec(ctx)
			info, role = srv.Val(), infoField(repl.Val(), "role") // read only when err is nil
		}
	} // another client (none tidings makes): no info, so no run id
	return stateKeyOf(c, at, info, role, err)
}

// infoField returns the value of field name in an INFO reply ("" if none).
func infoField(info, name string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// refused reports whether err is Redis refusing INFO for good: a reply
// (the user may not run it, NOPERM; the server does not know it, or not
// its server section: an embedded Redis), not one of the replies of a
// server that cannot answer for now (BUSY with a script, LOADING its data,
// MASTERDOWN, TRYAGAIN, CLUSTERDOWN), nor a failure to reach it.
func refused(err error) bool {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return false
	}
	for _, now := range []string{"BUSY", "LOADING", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"} {
		if redis.HasErrorPrefix(err, now) {
			return false
		}
	}
	return true
}

// Checked reports whether a worker that checked state checked (StateKey;
// "*": it keeps no journal) has checked state need: the same at, and the
// same run id unless one of them knows none (checkin.lua's rule).
func Checked(checked, need string) bool {
	if checked == "*" || checked == need {
		return true
	}
	a1, r1, ok1 := strings.Cut(checked, "/")
	a2, r2, ok2 := strings.Cut(need, "/")
	return ok1 && ok2 && a1 == a2 && (r1 == "" || r2 == "")
}

// Awaited returns the workers of environment env alive now (Alive) that
// have not checked state key of campaign c within the window (CheckIn):
// what a chunk of c waits for before it claims. It writes nothing.
func (s *Store) Awaited(ctx context.Context, c, env, key string) ([]string, error) {
	p := s.rdb.Pipeline()
	nowC := p.Time(ctx)
	aliveC := p.HGetAll(ctx, WorkersKey(env))
	if _, err := p.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read the workers alive: %w", err)
	}
	checks, err := s.rdb.HGetAll(ctx, keysFor(c).checkins).Result()
	if err != nil {
		return nil, fmt.Errorf("read the journal checks of %s: %w", c, err)
	}
	now, win := nowC.Val().UnixMilli(), CheckInWindow.Milliseconds()
	var out []string
	for w, v := range aliveC.Val() {
		var first, seen int64
		if _, err := fmt.Sscanf(v, "%d %d", &first, &seen); err != nil || now-seen > win || seen > now {
			continue
		}
		at, checked, _ := strings.Cut(checks[w], " ")
		if t, err := strconv.ParseInt(at, 10, 64); err != nil || now-t > win || t > now || !Checked(checked, key) {
			out = append(out, w)
		}
	}
	slices.Sort(out)
	return out, nil
}

// WorkersKey is the registry of the live workers of environment env.
func WorkersKey(env string) string { return "tidings:workers:" + env }

// Alive records, in Redis's own time, that worker (of environment env) is
// alive, and returns whether it has said so without a gap longer than
// window for at least window (settled: every live worker has then said so
// too, even into a Redis that lost the registry), and the workers alive
// (seen within window). One key: safe on Cluster.
func (s *Store) Alive(ctx context.Context, env, worker string, window time.Duration) (settled bool, live []string, err error) {
	v, err := aliveScript.Run(ctx, s.rdb, []string{WorkersKey(env)}, worker, window.Milliseconds(), "1").Slice()
	if err != nil {
		return false, nil, fmt.Errorf("say worker %s is alive: %w", worker, err)
	}
	if len(v) != 2 {
		return false, nil, fmt.Errorf("say worker %s is alive: unexpected answer %v", worker, v)
	}
	return v[0] == int64(1), strs(v[1]), nil
}

// SayAlive records that worker is alive, as Alive, without listing the
// workers alive: what a worker does every CheckInWindow/5.
func (s *Store) SayAlive(ctx context.Context, env, worker string, window time.Duration) error {
	return wrapf(aliveScript.Run(ctx, s.rdb, []string{WorkersKey(env)}, worker, window.Milliseconds(), "0").Err(), "say worker %s is alive", worker)
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
	if errors.Is(err, redis.Nil) { // the script wrote nothing
		err = ErrNotFound
	}
	return strs(v), wrapf(err, "check in for %s", c)
}

// CheckIns checks worker in for every campaign of checked (campaign ->
// the state checked, as CheckIn) in one round trip (one per Cluster node),
// so that a worker with many active campaigns, or far from Redis, checks
// in for all of them well within the window. A campaign Redis no longer
// has is passed over; it returns the first other error, after checking in
// for the others.
func (s *Store) CheckIns(ctx context.Context, worker string, checked map[string]string, window time.Duration) error {
	// eval is the script's EvalSha, or its Eval (the source).
	run := func(eval func(context.Context, redis.Scripter, []string, ...any) *redis.Cmd) map[string]*redis.Cmd {
		p := s.rdb.Pipeline()
		cmds := make(map[string]*redis.Cmd, len(checked))
		for c, v := range checked {
			k := keysFor(c)
			cmds[c] = eval(ctx, p, []string{k.checkins, k.control}, worker, v, window.Milliseconds(), "")
		}
		_, _ = p.Exec(ctx) // each command holds its own error
		return cmds
	}
	cmds := run(checkInScript.EvalSha)
	for _, cmd := range cmds {
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") { // not loaded on this node yet
			cmds = run(checkInScript.Eval)
			break
		}
	}
	for c, cmd := range cmds {
		if err := cmd.Err(); err != nil && !errors.Is(err, redis.Nil) { // Nil: the campaign is gone
			return fmt.Errorf("check in for %s: %w", c, err)
		}
	}
	return nil
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
