package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/store"
)

// The -slowlog breakdown: Redis's slow log with a threshold of 0 records
// every command a client sent (not the commands a script calls), with its
// arguments and the microseconds it ran (what INFO commandstats adds up).
// Unlike commandstats it tells one script from another: EVALSHA's first
// argument is the script's SHA-1. Recording costs Redis a little CPU per
// command (outside the commands' own time), so the breakdown's round is
// not one to compare throughput or CPU with.

// slowlogStart empties node's slow log and makes it record every command.
func slowlogStart(ctx context.Context, node *redisNode) error {
	c := node.client
	if err := c.ConfigSet(ctx, "slowlog-max-len", "10000000").Err(); err != nil {
		return fmt.Errorf("slow log of redis on port %d: %w", node.port, err)
	}
	if err := c.ConfigSet(ctx, "slowlog-log-slower-than", "0").Err(); err != nil {
		return fmt.Errorf("slow log of redis on port %d: %w", node.port, err)
	}
	if err := c.SlowLogReset(ctx).Err(); err != nil {
		return fmt.Errorf("slow log of redis on port %d: %w", node.port, err)
	}
	return nil
}

// slowlogEnd stops node's slow log recording and returns what it recorded.
func slowlogEnd(ctx context.Context, node *redisNode) ([]redis.SlowLog, error) {
	c := node.client
	if err := c.ConfigSet(ctx, "slowlog-log-slower-than", "-1").Err(); err != nil {
		return nil, fmt.Errorf("slow log of redis on port %d: %w", node.port, err)
	}
	logs, err := c.SlowLogGet(ctx, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read the slow log of redis on port %d: %w", node.port, err)
	}
	if err := c.SlowLogReset(ctx).Err(); err != nil {
		return nil, fmt.Errorf("slow log of redis on port %d: %w", node.port, err)
	}
	return logs, nil
}

// commandLabel names a command of the slow log: its lower-case name, and
// for a script (EVALSHA, EVAL) the file of one of tidings' scripts
// (scripts: SHA-1 -> file) or, for another's (asynq's), its first key
// without the queue's name: "evalsha asynq:{}:pending".
func commandLabel(args []string, scripts map[string]string) string {
	if len(args) == 0 {
		return "?"
	}
	name := strings.ToLower(args[0])
	if (name != "evalsha" && name != "eval" && name != "evalsha_ro") || len(args) < 2 {
		return name
	}
	if f, ok := scripts[strings.ToLower(args[1])]; ok {
		return name + " " + f
	}
	if len(args) > 3 && args[2] != "0" {
		key := args[3]
		if i, j := strings.Index(key, "{"), strings.LastIndex(key, "}"); i >= 0 && j > i {
			key = key[:i+1] + key[j:]
		}
		if i := strings.Index(key, ":t:"); i >= 0 { // a task's key
			key = key[:i] + ":t:<task>"
		}
		return name + " " + key
	}
	return name + " " + args[1][:min(8, len(args[1]))]
}

// scriptClient is the client address the slow log gives the commands a
// script calls (Redis 7 records them too, each with its own time, which
// the script's time includes).
const scriptClient = "?:0"

// breakdown sums the slow log's entries of commands clients sent by
// commandLabel, per message of sent, largest time first, and counts the
// commands scripts called (inScripts, per message).
func breakdown(logs []redis.SlowLog, scripts map[string]string, sent int) (cmds []commandCost, usPerMsg, callsPerMsg, inScripts float64) {
	us, calls := map[string]float64{}, map[string]float64{}
	for _, l := range logs {
		if l.ClientAddr == scriptClient {
			inScripts++
			continue
		}
		k := commandLabel(l.Args, scripts)
		us[k] += float64(l.Duration.Microseconds())
		calls[k]++
	}
	for k := range us {
		c := commandCost{Name: k, UsPerMsg: us[k] / float64(sent), CallsPerMsg: calls[k] / float64(sent)}
		cmds = append(cmds, c)
		usPerMsg += c.UsPerMsg
		callsPerMsg += c.CallsPerMsg
	}
	slices.SortFunc(cmds, func(a, b commandCost) int {
		return cmp.Or(cmp.Compare(b.UsPerMsg, a.UsPerMsg), cmp.Compare(a.Name, b.Name))
	})
	return cmds, usPerMsg, callsPerMsg, inScripts / float64(sent)
}

// writeSlowlog writes logs to path, oldest first, one command a line:
// its time in µs, the client's address, its arguments (-keep keeps it).
func writeSlowlog(path string, logs []redis.SlowLog) error {
	var b strings.Builder
	for _, l := range slices.Backward(logs) {
		fmt.Fprintf(&b, "%d %s %q\n", l.Duration.Microseconds(), l.ClientAddr, l.Args)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write the slow log: %w", err)
	}
	return nil
}

// scriptFiles is store.ScriptFiles, for commandLabel.
var scriptFiles = store.ScriptFiles
