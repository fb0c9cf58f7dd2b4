package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestEachClusterMasterWaitsForItsOwnReplicas: on Redis Cluster a write
// waits for the number of the master serving its key's slot
// (SetMasterAcks), not one number for every master. Masters of unequal
// replica counts (a replica of m0 killed: 1 against 2): a write to m0's
// slot waiting for m0's 1 goes through although the others wait for 2
// (with one number, 2, it came short: 1 of 2); with m0's one replica
// paused it comes short, 0 of 1 (it waits for that replica, not none);
// and a write to m1's slot is judged by m1's number (2 of 3 when m1 is
// set to 3). A master not named waits for the others' number set with them.
// A master held (Held) comes short, and the error says so in words.
func TestEachClusterMasterWaitsForItsOwnReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: 2})
	cc := cl.ClusterClient()
	masters, err := cl.Masters(ctx)
	if err != nil || len(masters) != 3 {
		t.Fatalf("masters: %v %v", masters, err)
	}
	// A key in the slots of each master: keyOf[addr].
	keyOf := map[string]string{}
	for i := 0; len(keyOf) < len(masters) && i < 1000; i++ {
		k := fmt.Sprintf("tidings:{c%d}:x", i)
		m, err := cc.MasterForKey(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := keyOf[m.Options().Addr]; !ok {
			keyOf[m.Options().Addr] = k
		}
	}
	m0, m1 := masters[0], masters[1]
	var reps []string // m0's replicas
	for _, n := range cl.Nodes() {
		if raw, err := n.Client().Info(ctx, "replication").Result(); err == nil && strings.Contains(raw, "master_port:"+m0.Addr()[strings.LastIndex(m0.Addr(), ":")+1:]+"\r") {
			reps = append(reps, n.Addr())
		}
	}
	if len(reps) != 2 {
		t.Fatalf("replicas of %s: %v", m0.Addr(), reps)
	}
	cl.Node(reps[0]).Kill()
	wait.For(t, 30*time.Second, "m0 to lose a replica", func() bool {
		raw, _ := m0.Client().Info(ctx, "replication").Result()
		return strings.Contains(raw, "connected_slaves:1\r")
	})
	s := NewWithConfig(cc, Config{ReplicaAcks: 2, AckTimeout: 300 * time.Millisecond})
	write := func(key string) error {
		ack, err := s.pipeWait(ctx, key, func(p redis.Pipeliner) { p.Set(ctx, key, "v", 0) })
		return errors.Join(ack, err)
	}
	for _, tt := range []struct {
		name    string
		masters map[string]int // SetMasterAcks (nil: not called)
		pause   string         // a replica paused (SIGSTOP) during the write
		master  string         // whose slot is written
		want    string         // the error ("": none)
	}{
		{"one number for every master", nil, "", m0.Addr(), "1 of 2 required replicas acknowledged the write"},
		{"m0 waits for its 1", map[string]int{m0.Addr(): 1, m1.Addr(): 2}, "", m0.Addr(), ""},
		{"m0's replica paused", map[string]int{m0.Addr(): 1, m1.Addr(): 2}, reps[1], m0.Addr(), "0 of 1 required replicas acknowledged the write"},
		{"m1 waits for its 2", map[string]int{m0.Addr(): 1, m1.Addr(): 2}, "", m1.Addr(), ""},
		{"m1 set to 3", map[string]int{m0.Addr(): 1, m1.Addr(): 3}, "", m1.Addr(), "2 of 3 required replicas acknowledged the write"},
		{"m0 not named: the others' number", map[string]int{m1.Addr(): 2}, "", m0.Addr(), "1 of 2 required replicas acknowledged the write"},
		// Held (a master not judged, on Redis < 7): said in words, naming it, never as 65536.
		{"m1 held", map[string]int{m0.Addr(): 1, m1.Addr(): Held}, "", m1.Addr(), "held: master " + m1.Addr() + " is not judged yet, so no number of replica acknowledgements is enough (2 acknowledged the write); the write is tried again, and goes through once the worker has judged that master's replicas (if it lasts, check that the workers reach " + m1.Addr() + ")"},
	} {
		if tt.masters != nil {
			s.SetMasterAcks(tt.masters, 2)
		}
		if tt.pause != "" {
			if err := cl.Node(tt.pause).Pause(); err != nil {
				t.Fatal(err)
			}
		}
		err := write(keyOf[tt.master])
		if tt.pause != "" {
			if err := cl.Node(tt.pause).Continue(); err != nil {
				t.Fatal(err)
			}
		}
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: write to the slot of %s: %q, want %q", tt.name, tt.master, got, tt.want)
		}
	}
}
