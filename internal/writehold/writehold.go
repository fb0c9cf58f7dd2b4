// Package writehold finds, without writing, whether Redis refuses the
// writes of a campaign: the reason its workers hold it while it shows
// RUNNING (NOREPLICAS, READONLY, MISCONF, OOM), for status and the
// console to say.
//
// Each function asks once per master, however many campaigns it is given
// (one script call, and INFO replication when the answer is NOREPLICAS),
// and only of campaigns that run.
package writehold

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/environment"
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

// Hold is why Redis refuses the writes of a running campaign, as status
// --json gives it (field held).
type Hold struct {
	// Redis is the address of the master that refuses them (behind
	// Sentinel, as the Sentinels report it); "" (left out of the JSON)
	// when it is not known: no Sentinel answered.
	Redis string `json:"redis,omitempty"`
	// Code is the error code it answers writes with: NOREPLICAS,
	// READONLY, MISCONF or OOM.
	Code string `json:"code"`
	// Reason says why, in words.
	Reason string `json:"reason"`
}

// String is "Redis at ADDR refuses writes (CODE: reason)", or "the
// Redis master refuses writes (CODE: reason)" when its address is not
// known.
func (h *Hold) String() string {
	who := "the Redis master"
	if h.Redis != "" {
		who = "Redis at " + h.Redis
	}
	return fmt.Sprintf("%s refuses writes (%s: %s)", who, h.Code, h.Reason)
}

// Of returns why Redis refuses the writes of running campaign st (asked
// on the master of the campaign's keys, without writing) of environment
// e; nil when Redis accepts them, when the campaign is not running, or
// when Redis cannot tell (unreachable, older than 7.0).
func Of(ctx context.Context, rdb redis.UniversalClient, st *store.Status, e *environment.Environment) *Hold {
	return newAsker(rdb, e).of(ctx, st)
}

// Line returns, for running campaign st, the line saying that Redis
// refuses its writes (Of), why and what follows; "" when Of is nil:
// status then shows what it read, as before.
func Line(ctx context.Context, rdb redis.UniversalClient, st *store.Status, e *environment.Environment) string {
	if h := Of(ctx, rdb, st, e); h != nil {
		return "held: " + h.Says(e.Name)
	}
	return ""
}

// Says is h and what follows, in environment env: "Redis at ADDR refuses
// writes (CODE: reason); workers resume by themselves when it accepts
// them; see `tidings doctor --env ENV`".
func (h *Hold) Says(env string) string {
	return h.String() + next(env)
}

// With returns hint with, before it, Line of st (indented as status
// shows a hint under the state); hint as it is when Line is "".
func With(ctx context.Context, rdb redis.UniversalClient, st *store.Status, e *environment.Environment, hint string) string {
	return statusview.Above(Line(ctx, rdb, st, e), hint)
}

// OneLine is statusview.Line of st at now, with held="Redis at ADDR
// refuses writes (CODE: reason)" at its end while Redis refuses the
// writes of the running campaign (status --watch not to a terminal).
func OneLine(ctx context.Context, rdb redis.UniversalClient, st *store.Status, e *environment.Environment, now time.Time) string {
	l := statusview.Line(st, now)
	if h := Of(ctx, rdb, st, e); h != nil {
		l += fmt.Sprintf(" held=%q", h.String())
	}
	return l
}

// Doc is a campaign's status as status --json gives it: store.Status's
// fields, and held while Redis refuses the writes of the running campaign.
type Doc struct {
	*store.Status
	Held *Hold `json:"held,omitempty"`
}

// JSON returns st as status --json gives it (Doc).
func JSON(ctx context.Context, rdb redis.UniversalClient, st *store.Status, e *environment.Environment) Doc {
	return Doc{Status: st, Held: Of(ctx, rdb, st, e)}
}

// ListJSON returns docs (statusview.Missing.JSON) as status --json gives
// them: each campaign's status as a Doc, the rest as they are. Redis is
// asked (each master once) when it is encoded, so that a listing written
// as text asks only for its own lines.
func ListJSON(ctx context.Context, rdb redis.UniversalClient, docs []any, e *environment.Environment) json.Marshaler {
	return listJSON(func() []any {
		a := newAsker(rdb, e)
		out := make([]any, len(docs))
		for i, d := range docs {
			out[i] = d
			if st, ok := d.(*store.Status); ok {
				out[i] = Doc{Status: st, Held: a.of(ctx, st)}
			}
		}
		return out
	})
}

// listJSON is ListJSON's value: its docs, read when encoded.
type listJSON func() []any

// MarshalJSON encodes the docs l reads.
func (l listJSON) MarshalJSON() ([]byte, error) {
	return json.Marshal(l())
}

// List returns, for the campaigns of all that are running and whose
// writes Redis refuses, one line per reason (per master on a Cluster)
// naming the campaigns it holds, in the order of all; none when Redis
// accepts them.
func List(ctx context.Context, rdb redis.UniversalClient, all []*store.Status, e *environment.Environment) []string {
	a := newAsker(rdb, e)
	var order []string
	held := map[string][]string{}
	for _, st := range all {
		h := a.of(ctx, st)
		if h == nil {
			continue
		}
		r := h.String()
		if _, ok := held[r]; !ok {
			order = append(order, r)
		}
		held[r] = append(held[r], st.Campaign)
	}
	lines := make([]string, 0, len(order))
	for _, r := range order {
		lines = append(lines, "held ("+strings.Join(held[r], ", ")+"): "+r+next(e.Name))
	}
	return lines
}

// WriteList writes the lines of List, one a line, to w.
func WriteList(ctx context.Context, w io.Writer, rdb redis.UniversalClient, all []*store.Status, e *environment.Environment) {
	for _, l := range List(ctx, rdb, all, e) {
		fmt.Fprintln(w, l)
	}
}

// next is what follows a hold, and where to read more.
func next(env string) string {
	return "; workers resume by themselves when it accepts them; see `tidings doctor --env " + env + "`"
}

// asker asks the masters of environment e's Redis, each once, whether
// they refuse writes.
type asker struct {
	rdb   redis.UniversalClient
	e     *environment.Environment
	asked map[string]*Hold // by master: "" for the one of a Redis or Sentinel
}

func newAsker(rdb redis.UniversalClient, e *environment.Environment) *asker {
	return &asker{rdb: rdb, e: e, asked: map[string]*Hold{}}
}

// of returns why the master of running campaign st's keys refuses
// writes; nil when it accepts them, cannot tell, or st is not running.
func (a *asker) of(ctx context.Context, st *store.Status) *Hold {
	if st.State != store.StateRunning {
		return nil
	}
	key := store.RateKey(st.Campaign)
	cmd, addr := master(a.rdb), ""
	if c, ok := a.rdb.(*redis.ClusterClient); ok {
		m, err := c.MasterForKey(ctx, key)
		if err != nil {
			return nil
		}
		cmd, addr = m, m.Options().Addr
	}
	h, ok := a.asked[addr]
	if !ok {
		h = a.refusal(ctx, cmd, key, addr)
		a.asked[addr] = h
	}
	return h
}

// once is a command go-redis sends once: it retries NOREPLICAS and
// READONLY answers (MaxRetries, 3 by default, with a backoff), which would
// ask a master that refuses writes four times, and wait, every time.
type once struct{ *redis.Cmd }

// NoRetry is true: see once.
func (once) NoRetry() bool { return true }

// master is what refusal asks: a client of one master.
type master interface {
	Process(ctx context.Context, cmd redis.Cmder) error
	Info(ctx context.Context, section ...string) *redis.StringCmd
}

// refusal asks cmd, the master of key (addr: its address on a Cluster,
// "" otherwise), once, whether it refuses writes.
func (a *asker) refusal(ctx context.Context, cmd master, key, addr string) *Hold {
	err := cmd.Process(ctx, once{redis.NewCmd(ctx, "eval", probe, 1, key)})
	if err == nil {
		return nil
	}
	code, _, _ := strings.Cut(err.Error(), " ")
	why, ok := reasons[code]
	if !ok {
		return nil
	}
	if code == "NOREPLICAS" {
		if good, all, ok := replicas(ctx, cmd); ok {
			why = fmt.Sprintf("%s (%s of %s connected caught up)", why, good, all)
		}
	}
	if addr == "" {
		addr = a.address(ctx)
	}
	return &Hold{Redis: addr, Code: code, Reason: why}
}

// address is the address of the master of a Redis or Sentinel client:
// its own, or behind Sentinel the one the Sentinels report; "" when not
// known.
func (a *asker) address(ctx context.Context) string {
	c, ok := a.rdb.(*redis.Client)
	if !ok {
		return ""
	}
	if addr := c.Options().Addr; addr != "FailoverClient" {
		return addr
	}
	return sentinelMaster(ctx, a.e)
}

// replicas returns how many replicas INFO replication says are caught up
// (min_slaves_good_slaves: the count min-replicas-to-write is held
// against) and connected to the master c.
func replicas(ctx context.Context, c master) (good, all string, ok bool) {
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
