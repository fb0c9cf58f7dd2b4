package doctor_test

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestDoctorNamesTheMasterThatRefusesWrites: a Cluster of 3 masters, each
// with one replica and min-replicas-to-write 1; one master is then set to
// want more replicas than it has (min-replicas-to-write 2), so it answers
// every write NOREPLICAS and the campaigns of its slots can be neither
// staged nor sent. doctor must fail naming that master (host:port), and
// say what to do with the exact settings: start or attach its replica,
// or lower min-replicas-to-write on it (and redis.min_replica_acks).
// Masters that take writes must not be named.
func TestDoctorNamesTheMasterThatRefusesWrites(t *testing.T) {
	_, masters, e := provisionedCluster(t)
	ctx := t.Context()
	writes := func() *doctor.Check {
		for _, c := range doctor.Redis(ctx, e) {
			if c.Name == "redis writes" {
				return &c
			}
		}
		return nil
	}
	for _, tc := range []struct {
		name, minWrite string
		refuses        bool
	}{
		{"enough replicas", "1", false},
		{"more wanted than connected", "2", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mc := masters[0].Client()
			if err := mc.ConfigSet(ctx, "min-replicas-to-write", tc.minWrite).Err(); err != nil {
				t.Fatal(err)
			}
			defer mc.ConfigSet(ctx, "min-replicas-to-write", "1")
			c := writes()
			if !tc.refuses {
				if c != nil && c.Status != doctor.Pass {
					t.Fatalf("every master has the replicas its min-replicas-to-write wants: doctor says %s %q", c.Status, c.Message)
				}
				return
			}
			if c == nil || c.Status != doctor.Fail {
				t.Fatalf("master %s refuses writes (NOREPLICAS: min-replicas-to-write 2, 1 replica): doctor's redis writes check is %+v, want FAIL", masters[0].Addr(), c)
			}
			for _, w := range []string{"master " + masters[0].Addr(), "NOREPLICAS", "only 1 of the 2 replicas its min-replicas-to-write", "start or attach", "CLUSTER REPLICATE", "CONFIG SET min-replicas-to-write 1", "redis.min_replica_acks"} {
				if !strings.Contains(c.Message, w) {
					t.Errorf("doctor says %q, want it to say %q", c.Message, w)
				}
			}
			for _, m := range masters[1:] {
				if strings.Contains(c.Message, m.Addr()) {
					t.Errorf("doctor says %q: master %s takes writes, it must not be named", c.Message, m.Addr())
				}
			}
		})
	}
}

// provisionedCluster starts a Cluster of 3 masters, each with a replica,
// every node with AOF, noeviction and min-replicas-to-write 1, and returns
// it, its masters, and an environment on it (redis.min_replica_acks auto).
func provisionedCluster(t *testing.T) (*redistest.Cluster, []*redistest.Node, *environment.Environment) {
	t.Helper()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{AppendOnly: true,
		ServerConfig: []string{"maxmemory-policy noeviction", "min-replicas-to-write 1"}})
	masters, err := cl.Masters(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	e := &environment.Environment{Name: "staging", Redis: environment.Redis{URL: "redis://127.0.0.1:6379/0", Cluster: cl.Addrs(), MinReplicaAcks: environment.ReplicaAcksAuto}, ClaimWindow: 16, Concurrency: 8}
	return cl, masters, e
}
