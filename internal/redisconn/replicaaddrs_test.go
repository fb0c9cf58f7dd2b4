package redisconn_test

import (
	"slices"
	"testing"

	"github.com/tidings-mail/tidings/internal/redisconn"
)

// TestReplicaAddrs: the replicas of a master's INFO replication, IPv6 in
// brackets, other fields and malformed lines skipped.
func TestReplicaAddrs(t *testing.T) {
	for _, tt := range []struct {
		name, info string
		want       []string
	}{
		{"none", "role:master\r\nconnected_slaves:0\r\n", nil},
		{"two, sorted", "connected_slaves:2\r\nslave1:ip=10.0.0.5,port=6379,state=online,offset=1,lag=0\r\nslave0:ip=10.0.0.4,port=6380,state=online,offset=1,lag=1\r\nslave_read_repl_offset:1\r\n",
			[]string{"10.0.0.4:6380", "10.0.0.5:6379"}},
		{"ipv6", "slave0:ip=::1,port=6379,state=online\r\n", []string{"[::1]:6379"}},
		{"no port", "slave0:ip=10.0.0.4,state=online\r\n", nil},
		{"a field of the master, not a replica", "slave_repl_offset:10\r\nslave_expires_tracked_keys:0\r\n", nil},
	} {
		if got := redisconn.ReplicaAddrs(redisconn.ParseInfo(tt.info)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
