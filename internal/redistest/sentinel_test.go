package redistest

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestSentinelStartsAndStopsWithTheTest(t *testing.T) {
	t.Parallel()
	need(t, "redis-server", "redis-server") // here, not only in the subtest: the checks after it need the servers
	need(t, "redis-sentinel", "redis-sentinel")
	var nodes []*Node
	t.Run("running", func(t *testing.T) {
		s := StartSentinel(t, SentinelOptions{Replicas: 2, ServerConfig: []string{"min-replicas-to-write 1", "min-replicas-max-lag 10"}})
		nodes = append(s.Servers(), s.Sentinels()...)
		ctx := t.Context()
		if got := len(s.SentinelAddrs()); got != 3 {
			t.Fatalf("%d sentinels, want 3", got)
		}
		master, err := s.Master(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if master != s.Servers()[0] {
			t.Errorf("master is %s, want the first server %s", master.Name(), s.Servers()[0].Name())
		}
		replicas, err := s.Replicas(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(replicas) != 2 {
			t.Fatalf("%d replicas, want 2", len(replicas))
		}
		for _, n := range s.Servers() {
			v, err := n.Client().ConfigGet(ctx, "min-replicas-to-write").Result()
			if err != nil {
				t.Fatal(err)
			}
			if v["min-replicas-to-write"] != "1" {
				t.Errorf("%s: min-replicas-to-write = %q, want 1 (ServerConfig on every data node)", n.Name(), v["min-replicas-to-write"])
			}
			if v, _ := n.Client().ConfigGet(ctx, "appendonly").Result(); v["appendonly"] != "no" {
				t.Errorf("%s: appendonly = %q, want no by default", n.Name(), v["appendonly"])
			}
		}
		for _, sn := range s.Sentinels() {
			q, err := sn.sentinelClient().CkQuorum(ctx, MasterName).Result()
			if err != nil {
				t.Errorf("%s: CKQUORUM: %v", sn.Name(), err)
			} else {
				t.Logf("%s: %s", sn.Name(), q)
			}
		}
		// Replicas refuse writes: the client really goes to the master.
		if err := replicas[0].Client().Set(ctx, "k", "v", 0).Err(); err == nil {
			t.Errorf("a replica accepted a write")
		}
		if err := s.FailoverClient().Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Errorf("write through the failover client: %v", err)
		}
		// A failover that cannot finish says why, with every process's log.
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		if _, _, err := s.Failover(canceled); err == nil || !strings.Contains(err.Error(), "=== log of sentinel-2") {
			t.Errorf("Failover with a canceled context: %v; want an error with the logs", err)
		}
	})
	if len(nodes) != 6 {
		t.Fatalf("%d processes, want 6", len(nodes))
	}
	for _, n := range nodes {
		if n.Running() {
			t.Errorf("%s still runs after its test", n.Name())
		}
	}
}

// writeAcked writes key=value through c and has one replica acknowledge it:
// SET and WAIT in one pipeline, so on one connection (WAIT counts only the
// writes of its own connection).
func writeAcked(t *testing.T, c *redis.Client, key, value string) {
	t.Helper()
	var wait *redis.Cmd
	_, err := c.Pipelined(t.Context(), func(p redis.Pipeliner) error {
		p.Set(t.Context(), key, value, 0)
		wait = p.Do(t.Context(), "WAIT", 1, 5000)
		return nil
	})
	if err != nil {
		t.Fatalf("SET %s + WAIT 1: %v", key, err)
	}
	if n, err := wait.Int64(); err != nil || n < 1 {
		t.Fatalf("WAIT 1 acknowledged by %d replicas (%v)", n, err)
	}
}

// readBack checks that key holds value on node n and, eventually, through
// the failover client c (which must have moved to the new master).
func readBack(t *testing.T, s *Sentinel, c *redis.Client, newMaster, key, value string) {
	t.Helper()
	if got, err := s.Node(newMaster).Client().Get(t.Context(), key).Result(); err != nil || got != value {
		t.Errorf("GET %s on the new master %s = %q, %v; want %q", key, newMaster, got, err, value)
	}
	// The client learns of the switch asynchronously: its next write may
	// still reach the old master (READONLY) or a closed connection.
	after := key + ":after"
	err := poll(t.Context(), 30*time.Second, "a write through the failover client", func() error {
		return c.Set(t.Context(), after, value, 0).Err()
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, s.Logs())
	}
	if got, err := s.Node(newMaster).Client().Get(t.Context(), after).Result(); err != nil || got != value {
		t.Errorf("the write after the switch is not on the new master %s: %q, %v", newMaster, got, err)
	}
	if got, err := c.Get(t.Context(), key).Result(); err != nil || got != value {
		t.Errorf("GET %s through the failover client = %q, %v; want %q", key, got, err, value)
	}
}

func TestSentinelFailoverKeepsAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	s := StartSentinel(t, SentinelOptions{})
	c := s.FailoverClient()
	writeAcked(t, c, "before", "1")
	began := time.Now()
	old, nm, err := s.Failover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Failover settled in %s", time.Since(began).Round(time.Millisecond))
	if old == nm || old != s.Servers()[0].Addr() || nm != s.Servers()[1].Addr() {
		t.Fatalf("Failover() = %s, %s; want %s, %s", old, nm, s.Servers()[0].Addr(), s.Servers()[1].Addr())
	}
	readBack(t, s, c, nm, "before", "1")
	// The old master is now a replica of the new one, with the data.
	role, err := info(t.Context(), s.Node(old).Client(), "replication")
	if err != nil {
		t.Fatal(err)
	}
	if role["role"] != "slave" || role["master_port"] != portOf(t, nm) {
		t.Errorf("old master: role %s of port %s, want a replica of %s", role["role"], role["master_port"], nm)
	}
	// And back: a second planned failover right after the first.
	began = time.Now()
	old2, nm2, err := s.Failover(t.Context())
	t.Logf("second Failover settled in %s", time.Since(began).Round(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if old2 != nm || nm2 != old {
		t.Errorf("second Failover() = %s, %s; want %s, %s", old2, nm2, nm, old)
	}
	readBack(t, s, c, nm2, "before", "1")
}

func TestSentinelKillMasterPromotesAReplica(t *testing.T) {
	t.Parallel()
	s := StartSentinel(t, SentinelOptions{})
	c := s.FailoverClient()
	writeAcked(t, c, "before", "1")
	began := time.Now()
	old, nm, err := s.KillMaster(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("KillMaster settled in %s", time.Since(began).Round(time.Millisecond))
	if s.Node(old).Running() {
		t.Errorf("old master %s still running", old)
	}
	if m, err := s.MasterAddr(t.Context()); err != nil || m != nm {
		t.Errorf("MasterAddr() = %s, %v; want %s", m, err, nm)
	}
	readBack(t, s, c, nm, "before", "1")
	// The killed master comes back (empty: nothing persisted) and Sentinel
	// makes it a replica of the new master, which it copies.
	if err := s.Node(old).Restart(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	began = time.Now()
	if err := s.WaitSettled(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("restarted node settled as a replica in %s", time.Since(began).Round(time.Millisecond))
	if r, err := s.Replicas(t.Context()); err != nil || len(r) != 1 || r[0].Addr() != old {
		t.Fatalf("Replicas() = %v, %v; want the restarted %s", r, err, old)
	}
	if got, err := s.Node(old).Client().Get(t.Context(), "before").Result(); err != nil || got != "1" {
		t.Errorf("restarted old master has before = %q, %v; want its copy of the new master", got, err)
	}
	// A sentinel restarted from the file it rewrote rejoins the others.
	sn := s.Sentinels()[0]
	if err := sn.Restart(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitSettled(t.Context()); err != nil {
		t.Fatal(err)
	}
	if m, err := sentinelMaster(t.Context(), sn); err != nil || m != nm {
		t.Errorf("restarted %s names master %s, %v; want %s", sn.Name(), m, err, nm)
	}
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func TestStartFailureShowsTheLogs(t *testing.T) {
	t.Parallel()
	need(t, "redis-server", "redis-server") // the starts below report to a fake test, which would record a skip
	need(t, "redis-sentinel", "redis-sentinel")
	need(t, "redis-cli", "redis-tools")
	bad := []string{"no-such-directive yes"}
	for name, start := range map[string]func(testing.TB){
		"sentinel": func(t testing.TB) { StartSentinel(t, SentinelOptions{ServerConfig: bad}) },
		"cluster":  func(t testing.TB) { StartCluster(t, ClusterOptions{ServerConfig: bad}) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := &fakeTB{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				start(f)
			}()
			<-done
			for _, want := range []string{"=== log of ", "no-such-directive"} {
				if !strings.Contains(f.fatal, want) {
					t.Errorf("failure message lacks %q:\n%s", want, f.fatal)
				}
			}
		})
	}
}
