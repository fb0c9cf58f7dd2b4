package store

import (
	"context"
	"embed"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Lua scripts, one file each under lua/, with their KEYS, ARGV and
// result codes documented at the top of the file; lua/lib/ holds Lua
// they share.
//
//go:embed lua/*.lua lua/lib/*.lua
var luaFiles embed.FS

// includeLine is a script's line that loadScript replaces with the file
// lua/lib/<name>.lua: local functions several scripts share. Redis runs
// each script on its own (EVALSHA of the whole text; on Cluster, on the
// master of its keys' slot), so a script carries what it uses, and its
// SHA-1 is of the text with its includes.
var includeLine = regexp.MustCompile(`(?m)^-- include: ([a-z_]+)$`)

func loadScript(name string) *redis.Script { return redis.NewScript(scriptSource(name)) }

// scriptSource returns the text of lua/<name>.lua, its include lines
// replaced.
func scriptSource(name string) string {
	b, err := luaFiles.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic("store: missing script " + name) // embedded at build time
	}
	src := includeLine.ReplaceAllFunc(b, func(line []byte) []byte {
		lib := includeLine.FindSubmatch(line)[1]
		inc, err := luaFiles.ReadFile("lua/lib/" + string(lib) + ".lua")
		if err != nil {
			panic("store: script " + name + " includes a missing lua/lib/" + string(lib) + ".lua") // embedded at build time
		}
		return inc
	})
	return string(src)
}

var (
	stepScript       = loadScript("step")
	tickScript       = loadScript("tick")
	transitionScript = loadScript("transition")
	sweepScript      = loadScript("sweep_chunk")
	chunkEndScript   = loadScript("chunk_end")
	bumpGenScript    = loadScript("bump_gen")
	stageEndScript   = loadScript("stage_end")
	leaseScript      = loadScript("lease")
	stageKeepScript  = loadScript("stage_keep")
	turnScript       = loadScript("turn")
	checkInScript    = loadScript("checkin")
	aliveScript      = loadScript("alive")
	doubtedScript    = loadScript("doubted")
)

// eval runs script on the master that owns keys[0] and, when the store
// requires replica acknowledgements, WAITs for them on the same connection
// in the same round trip. It returns the script's answer and, with too few
// acknowledgements, ack: an *AckError (the script did run).
func (s *Store) eval(ctx context.Context, script *redis.Script, keys []string, args ...any) (res any, ack, err error) {
	if s.ReplicaAcks() == 0 && s.masters.Load() == nil {
		res, err = script.Run(ctx, s.rdb, keys, args...).Result()
		return res, nil, err
	}
	var ev *redis.Cmd
	ack, err = s.pipeWait(ctx, keys[0], func(p redis.Pipeliner) { ev = script.EvalSha(ctx, p, keys, args...) })
	if redis.HasErrorPrefix(err, "NOSCRIPT") { // not loaded on this master yet
		ack, err = s.pipeWait(ctx, keys[0], func(p redis.Pipeliner) { ev = script.Eval(ctx, p, keys, args...) })
	}
	if err != nil {
		return nil, nil, err
	}
	return ev.Val(), ack, nil
}

// pipeWait runs the commands queue adds in one pipeline on the master that
// owns key (with Redis Cluster, the master of key's slot) and, when the
// store requires replica acknowledgements (of that master: SetMasterAcks), WAIT after them on the same
// connection (WAIT counts the replicas of the node it is sent to, for the
// writes of its connection). With fewer acknowledgements, ack is an
// *AckError: the writes were made on the master, but a failover could
// lose them.
func (s *Store) pipeWait(ctx context.Context, key string, queue func(redis.Pipeliner)) (ack, err error) {
	acks := s.ReplicaAcks() // the same for the whole pipeline
	var c redis.Cmdable = s.rdb
	master := "" // its address, on Cluster
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		m, err := cc.MasterForKey(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("find the master of %s: %w", key, err)
		}
		master = m.Options().Addr
		c, acks = m, s.AcksFor(master) // that master's number (SetMasterAcks)
	}
	if cl, ok := c.(*redis.Client); ok && acks > 0 {
		c = s.waitClient(cl)
	}
	p := c.Pipeline()
	queue(p)
	var wait *redis.Cmd
	if acks > 0 {
		wait = p.Do(ctx, "WAIT", acks, s.cfg.AckTimeout.Milliseconds())
	}
	cmds, _ := p.Exec(ctx)
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil && cmd != wait {
			return nil, err
		}
	}
	if wait == nil {
		return nil, nil
	}
	n, err := wait.Int64()
	if err != nil {
		return nil, fmt.Errorf("wait for replicas: %w", err)
	}
	if n < int64(acks) {
		return &AckError{Got: int(n), Want: acks, Master: master}, nil
	}
	return nil, nil
}

// waitMargin is how much longer than WAIT's own timeout a client must be
// ready to wait for its answer: the round trip, and a busy master.
const waitMargin = time.Second

// waitClient returns cl, or a clone of it (sharing its connections) whose
// read timeout covers a WAIT of AckTimeout. A pipeline's replies are read
// under the client's read timeout (go-redis's default is 5s, some set 3s),
// and a WAIT longer than it would end in the client's "i/o timeout" and a
// retry of the writes, as if Redis were unreachable, rather than in WAIT's
// answer: the count of replicas that acknowledged, which an *AckError
// reports.
//
// The clones are cached by node address, each with the client it was made
// from, and replaced when that node's client is another: go-redis's
// cluster client closes a node's client and makes a new one when its
// topology is reloaded (failover, resharding), so a cache keyed by client
// would grow with every reload and hold closed clients. It holds one entry
// per address the store has written to.
func (s *Store) waitClient(cl *redis.Client) *redis.Client {
	rt := cl.Options().ReadTimeout // after go-redis's defaults: <= 0 is no deadline
	if rt <= 0 || rt >= s.cfg.AckTimeout+waitMargin {
		return cl
	}
	addr := cl.Options().Addr
	if e, ok := s.waits.Load(addr); ok && e.(waitEntry).base == cl {
		return e.(waitEntry).wait
	}
	e := waitEntry{base: cl, wait: cl.WithTimeout(s.cfg.AckTimeout + rt)}
	s.waits.Store(addr, e)
	return e.wait
}

// waitEntry is a clone that waitClient made (wait) and the node client it
// was made from (base).
type waitEntry struct{ base, wait *redis.Client }

// ScriptFiles returns the SHA-1 of every script the store runs (what
// EVALSHA names it by) and its file under lua/, e.g. "step.lua": for
// tools that read Redis's own records of the commands it ran (SLOWLOG,
// MONITOR).
func ScriptFiles() map[string]string {
	m := map[string]string{}
	entries, _ := luaFiles.ReadDir("lua") // embedded at build time
	for _, e := range entries {
		if e.IsDir() { // lua/lib: included, not run
			continue
		}
		m[loadScript(strings.TrimSuffix(e.Name(), ".lua")).Hash()] = e.Name()
	}
	return m
}
