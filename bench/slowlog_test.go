package main

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestCommandLabel: a command of the slow log is named by its name; a
// script by its file when it is one of tidings', else by its first key
// with the hash tag's content and a task's id left out.
func TestCommandLabel(t *testing.T) {
	scripts := map[string]string{"83b9feca": "step.lua"}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"HMGET", "tidings:{c}:ledger", "a"}, "hmget"},
		{[]string{"evalsha", "83B9FECA", "13", "tidings:{c}:ledger"}, "evalsha step.lua"},
		{[]string{"evalsha", "a8153319", "2", "asynq:{tidings:bench}:pending", "x"}, "evalsha asynq:{}:pending"},
		{[]string{"evalsha", "98d28b42", "1", "asynq:{tidings:bench}:t:tidings:c:s:47:0"}, "evalsha asynq:{}:t:<task>"},
		{[]string{"evalsha", "0123456789abcdef", "0"}, "evalsha 01234567"},
		{nil, "?"},
	}
	for _, tt := range tests {
		if got := commandLabel(tt.args, scripts); got != tt.want {
			t.Errorf("commandLabel(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

// TestBreakdown: the commands clients sent are summed per message by
// label; those a script called (client "?:0") are counted apart, their
// time being in the script's.
func TestBreakdown(t *testing.T) {
	logs := []redis.SlowLog{
		{Args: []string{"evalsha", "83b9feca", "1", "k"}, Duration: 30 * time.Microsecond, ClientAddr: "127.0.0.1:5"},
		{Args: []string{"HSET", "k", "a", "1"}, Duration: 2 * time.Microsecond, ClientAddr: scriptClient},
		{Args: []string{"evalsha", "83b9feca", "1", "k"}, Duration: 10 * time.Microsecond, ClientAddr: "127.0.0.1:5"},
		{Args: []string{"INFO", "server"}, Duration: 4 * time.Microsecond, ClientAddr: "127.0.0.1:6"},
	}
	cmds, us, calls, inScripts := breakdown(logs, map[string]string{"83b9feca": "step.lua"}, 2)
	want := []commandCost{{Name: "evalsha step.lua", UsPerMsg: 20, CallsPerMsg: 1}, {Name: "info", UsPerMsg: 2, CallsPerMsg: 0.5}}
	if len(cmds) != len(want) {
		t.Fatalf("breakdown: %+v, want %+v", cmds, want)
	}
	for i := range want {
		if cmds[i] != want[i] {
			t.Errorf("breakdown[%d] = %+v, want %+v", i, cmds[i], want[i])
		}
	}
	if us != 22 || calls != 1.5 || inScripts != 0.5 {
		t.Errorf("breakdown: %v µs, %v commands, %v in scripts per message; want 22, 1.5, 0.5", us, calls, inScripts)
	}
}
