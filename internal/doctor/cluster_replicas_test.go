package doctor_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestDoctorReadsTheClusterReplicasAFailoverPromotes: 3 masters + 3
// replicas, every node with AOF, noeviction and min-replicas-to-write 1
// but one replica provisioned otherwise. CLUSTER FAILOVER puts the ledger
// of its master's slots on that replica, so doctor must judge it before
// the failover, naming it, as it names a replica Sentinel may promote.
//
// Found by a red team (3+3 on loopback, 2026-12-05): doctor read only the
// masters (ForEachMaster) and passed persistence, eviction and "at most
// once" with a replica at appendonly no, allkeys-lru and
// min-replicas-to-write 0.
func TestDoctorReadsTheClusterReplicasAFailoverPromotes(t *testing.T) {
	cl, masters, e := provisionedCluster(t)
	ctx := t.Context()
	var replica *redistest.Node
	for _, n := range cl.Nodes() {
		if !slices.Contains(masters, n) {
			replica = n
			break
		}
	}
	if replica == nil {
		t.Fatalf("no replica among %d nodes", len(cl.Nodes()))
	}
	rc := replica.Client()
	defer rc.Close()
	for _, tc := range []struct {
		set, good, value string
		check, status    string
	}{
		{"maxmemory-policy", "noeviction", "allkeys-lru", "redis eviction", doctor.Fail},
		{"appendonly", "yes", "no", "redis persistence", doctor.Fail},
		{"min-replicas-to-write", "1", "0", "at most once", doctor.Warn},
	} {
		t.Run(tc.set, func(t *testing.T) {
			if err := rc.ConfigSet(ctx, tc.set, tc.value).Err(); err != nil {
				t.Fatalf("CONFIG SET %s %s on the replica %s: %v", tc.set, tc.value, replica.Addr(), err)
			}
			defer func() {
				if err := rc.ConfigSet(ctx, tc.set, tc.good).Err(); err != nil {
					t.Fatalf("CONFIG SET %s %s on the replica %s: %v", tc.set, tc.good, replica.Addr(), err)
				}
			}()
			for _, c := range doctor.Redis(ctx, e) {
				if c.Name != tc.check {
					continue
				}
				if c.Status != tc.status || !strings.Contains(c.Message, replica.Addr()) && tc.check != "at most once" {
					t.Errorf("replica %s at %s %s: doctor says %s %q; want %s naming the replica: CLUSTER FAILOVER puts the ledger on it",
						replica.Addr(), tc.set, tc.value, c.Status, c.Message, tc.status)
				}
				return
			}
			t.Fatalf("no %q check in %+v", tc.check, doctor.Redis(ctx, e))
		})
	}
}
