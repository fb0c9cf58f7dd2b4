package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestPauseInAClusterFailover is on-call's pause while the master of the
// campaign's slot fails over (Redis Cluster, min_replica_acks auto,
// cluster-node-timeout 2 s): planned (CLUSTER FAILOVER on its replica)
// and killed for good with two replicas (the new master keeps one). From
// the moment the old master stops being one (killed, or a replica),
// `tidings pause` is run until it exits 0: each run exits 0, or 3 with
// an infrastructure error that says to run it again, nothing else; once
// it said paused, the campaign is paused on the new master, the
// console's Pause (started before the failover) answers 200 (already
// paused), and nothing more reaches the SMTP server once the
// claims held at the pause end; resume then finishes the campaign with
// nobody mailed twice and every recipient sent or in doubt.
func TestPauseInAClusterFailover(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		replicas int
		failover func(ctx context.Context, cl *redistest.Cluster, key string) (string, string, error)
	}{
		{"planned", 1, func(ctx context.Context, cl *redistest.Cluster, key string) (string, string, error) {
			return cl.Failover(ctx, key)
		}},
		{"two replicas, master killed for good", 2, func(ctx context.Context, cl *redistest.Cluster, key string) (string, string, error) {
			return cl.KillMasterOf(ctx, key)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cl := redistest.StartCluster(t, redistest.ClusterOptions{
				Replicas:     tc.replicas,
				NodeTimeout:  2 * time.Second,
				ServerConfig: []string{"min-replicas-to-write 1", "min-replicas-max-lag 10"},
			})
			o := startOncall(t, fmt.Sprintf("cluster: [%s]", strings.Join(cl.Addrs(), ", ")), "e2e-oncall-cluster")
			e, name := o.e, o.name

			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			old, err := cl.MasterForSlotOf(ctx, "{"+name+"}")
			if err != nil {
				t.Fatal(err)
			}
			failed := make(chan error, 1)
			go func() {
				_, _, err := tc.failover(ctx, cl, "{"+name+"}")
				failed <- err
			}()
			// The pause goes once the old master has stopped serving the
			// slot (killed, or a replica now), before or as the new one
			// takes it.
			wait.For(t, time.Minute, "the old master to stop being one", func() bool {
				if !old.Running() {
					return true
				}
				info, err := old.Info(ctx, "replication")
				return err == nil && info["role"] != "master"
			})
			var refused []string
			wait.For(t, time.Minute, "`tidings pause` to exit 0", func() bool {
				r := e.run("pause", name, "--env", envName, "--reason", "e2e: errors climbing during a failover")
				switch {
				case r.code == 0:
					return true
				case r.code == 3 && strings.Contains(r.stderr, "run it again"):
					refused = append(refused, strings.TrimSpace(r.stderr))
					return false
				}
				t.Fatalf("pause during the failover: want exit 0, or 3 saying to run it again, got %s", r)
				return false
			})
			if err := <-failed; err != nil {
				t.Fatal(err)
			}
			if st := e.status(name); st.State != "paused" {
				t.Fatalf("`tidings pause` exited 0 during the failover, but after it the campaign is %s (%v)", st.State, st.Counts)
			}
			var answers []string
			wait.For(t, time.Minute, "the console's Pause to answer 200", func() bool {
				code, msg := consolePause(t, o.c, o.base, name, "e2e: the console too")
				answers = append(answers[max(len(answers)-4, 0):], fmt.Sprintf("%d %s", code, msg))
				if code != http.StatusOK && code != http.StatusServiceUnavailable {
					t.Fatalf("the console's Pause answered %d: %s", code, msg)
				}
				return code == http.StatusOK
			}, func() string { return strings.Join(answers, "\n") })
			held := o.pausedThenDone(t, cl.ClusterClient())
			t.Logf("pause refused %d time(s) during the failover (%q); console: %q; %d received when paused", len(refused), refused, answers, held)
		})
	}
}
