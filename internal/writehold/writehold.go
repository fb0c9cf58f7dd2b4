// Package writehold finds, without writing, whether Redis refuses the
// writes of a campaign: the reason its workers hold it while it shows
// RUNNING (NOREPLICAS, READONLY, MISCONF, OOM), for status to say.
package writehold

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

// probe is a script that writes nothing but is not flagged no-writes:
// Redis (7.0 and later) checks it as it checks a write, before running
// it, and answers NOREPLICAS, READONLY, MISCONF or OOM as a write of the
// moment would be answered; it returns 1 when writes are accepted.
const probe = "#!lua\nreturn 1"

// reasons says, per error code Redis refuses writes with, why.
var reasons = map[string]string{
	"NOREPLICAS": "fewer replicas are connected and caught up (within min-replicas-max-lag) than its min-replicas-to-write",
	"READONLY":   "it is a replica, not the master",
	"MISCONF":    "its last snapshot to disk failed (stop-writes-on-bgsave-error)",
	"OOM":        "it is out of memory (maxmemory)",
}

// Line returns, for running campaign st, the line saying that Redis
// refuses its writes (asked on the master of the campaign's keys, without
// writing), why and what follows; "" when Redis accepts them, when the
// campaign is not running, or when Redis cannot tell (unreachable, older
// than 7.0): status then shows what it read, as before.
func Line(ctx context.Context, rdb redis.UniversalClient, st *store.Status, env string) string {
	if st.State != store.StateRunning {
		return ""
	}
	if r := refusal(ctx, rdb, st.Campaign); r != "" {
		return "held: " + r + next(env)
	}
	return ""
}

// With returns hint with, before it, Line of st (indented as status
// shows a hint under the state); hint as it is when Line is "".
func With(ctx context.Context, rdb redis.UniversalClient, st *store.Status, env, hint string) string {
	return statusview.Above(Line(ctx, rdb, st, env), hint)
}

// List returns, for the campaigns of all that are running and whose
// writes Redis refuses, one line per reason (per master on a Cluster)
// naming the campaigns it holds, in the order of all; none when Redis
// accepts them.
func List(ctx context.Context, rdb redis.UniversalClient, all []*store.Status, env string) []string {
	var order []string
	held := map[string][]string{}
	for _, st := range all {
		if st.State != store.StateRunning {
			continue
		}
		r := refusal(ctx, rdb, st.Campaign)
		if r == "" {
			continue
		}
		if _, ok := held[r]; !ok {
			order = append(order, r)
		}
		held[r] = append(held[r], st.Campaign)
	}
	lines := make([]string, 0, len(order))
	for _, r := range order {
		lines = append(lines, "held ("+strings.Join(held[r], ", ")+"): "+r+next(env))
	}
	return lines
}

// WriteList writes the lines of List, one a line, to w.
func WriteList(ctx context.Context, w io.Writer, rdb redis.UniversalClient, all []*store.Status, env string) {
	for _, l := range List(ctx, rdb, all, env) {
		fmt.Fprintln(w, l)
	}
}

// next is what follows a hold, and where to read more.
func next(env string) string {
	return "; workers resume by themselves when it accepts them; see `tidings doctor --env " + env + "`"
}

// refusal returns "Redis at ADDR refuses writes (CODE: why)" when the
// master of campaign c's keys refuses writes, "" otherwise.
func refusal(ctx context.Context, rdb redis.UniversalClient, c string) string {
	key := store.RateKey(c)
	cmd, addr := redis.Cmdable(rdb), "the Redis master"
	switch r := rdb.(type) {
	case *redis.ClusterClient:
		m, err := r.MasterForKey(ctx, key)
		if err != nil {
			return ""
		}
		cmd, addr = m, m.Options().Addr
	case *redis.Client:
		if a := r.Options().Addr; a != "FailoverClient" { // Sentinel: go-redis names no address
			addr = a
		}
	}
	err := cmd.Eval(ctx, probe, []string{key}).Err()
	if err == nil {
		return ""
	}
	code, _, _ := strings.Cut(err.Error(), " ")
	why, ok := reasons[code]
	if !ok {
		return ""
	}
	if code == "NOREPLICAS" {
		if good, all, ok := replicas(ctx, cmd); ok {
			why = fmt.Sprintf("%s (%s of %s connected caught up)", why, good, all)
		}
	}
	return fmt.Sprintf("Redis at %s refuses writes (%s: %s)", addr, code, why)
}

// replicas returns how many replicas INFO replication says are caught up
// (min_slaves_good_slaves: the count min-replicas-to-write is held
// against) and connected to the master c.
func replicas(ctx context.Context, c redis.Cmdable) (good, all string, ok bool) {
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return "", "", false
	}
	for _, l := range strings.Split(info, "\n") {
		l = strings.TrimSpace(l)
		if v, found := strings.CutPrefix(l, "connected_slaves:"); found {
			all = v
		}
		if v, found := strings.CutPrefix(l, "min_slaves_good_slaves:"); found {
			good = v
		}
	}
	return good, all, good != "" && all != ""
}
