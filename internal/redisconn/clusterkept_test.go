package redisconn_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tidings-mail/tidings/internal/redisconn"
)

// TestClusterAcksKeepsWhatASilentMasterWasJudged: the masters a pass of
// ClusterReplicas names as silent (Silent: its *SilentErrors, joined)
// keep their last judgement (Kept), one per address (the one waiting for
// most when two nodes were judged there), with Changed and New false; a
// master never judged, or judged at another address, has none.
func TestClusterAcksKeepsWhatASilentMasterWasJudged(t *testing.T) {
	t.Parallel()
	m := func(addr, id string, replicas int) redisconn.MasterReplicas {
		return redisconn.MasterReplicas{Addr: addr, ID: id, Epoch: "1", Replicas: replicas}
	}
	silent := func(addrs ...string) error {
		var errs []error
		for _, a := range addrs {
			errs = append(errs, &redisconn.SilentError{Addr: a, Err: errors.New("i/o timeout")})
		}
		return errors.Join(errs...)
	}
	for _, tt := range []struct {
		name   string
		passes [][]redisconn.MasterReplicas // judged in turn, before the silent pass
		err    error
		want   string // Kept, as "addr=acks" each
	}{
		{"nothing silent", [][]redisconn.MasterReplicas{{m("a", "A", 2), m("b", "B", 1)}}, nil, "[]"},
		{"one silent", [][]redisconn.MasterReplicas{{m("a", "A", 2), m("b", "B", 1)}}, silent("b"), "[b=1]"},
		{"two silent, out of order", [][]redisconn.MasterReplicas{{m("a", "A", 2), m("b", "B", 1)}}, silent("b", "a"), "[a=2 b=1]"},
		{"never judged", [][]redisconn.MasterReplicas{{m("a", "A", 2)}}, silent("c"), "[]"},
		{"two nodes once at one address: the most", [][]redisconn.MasterReplicas{{m("a", "A", 3)}, {m("a", "A2", 1)}}, silent("a"), "[a=3]"},
		{"an error that names no master", [][]redisconn.MasterReplicas{{m("a", "A", 2)}}, errors.New("cluster down"), "[]"},
		{"wrapped once", [][]redisconn.MasterReplicas{{m("a", "A", 2)}}, fmt.Errorf("read: %w", silent("a")), "[a=2]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var j redisconn.ClusterAcks
			for _, ms := range tt.passes {
				j.Judge(ms)
			}
			var got []string
			for _, a := range j.Kept(redisconn.Silent(tt.err)) {
				if a.New || a.Changed {
					t.Errorf("Kept(%s): %+v is New or Changed", tt.err, a)
				}
				got = append(got, fmt.Sprintf("%s=%d", a.Addr, a.Acks))
			}
			if g := fmt.Sprint(got); g != tt.want {
				t.Errorf("Kept(Silent(%v)) = %s, want %s", tt.err, g, tt.want)
			}
		})
	}
}
