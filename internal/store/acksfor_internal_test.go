package store

import "testing"

// TestAcksForReadsOneJudgement: on Cluster a write to a master named by
// SetMasterAcks waits for its number, a write to any other master for the
// others' number set in the same call (one value: never the map of one
// judgement with the number of another), and before any call for
// ReplicaAcks. Negative numbers are 0.
func TestAcksForReadsOneJudgement(t *testing.T) {
	t.Parallel()
	type set struct {
		acks   map[string]int
		others int
	}
	for _, tt := range []struct {
		name string
		sets []set // SetMasterAcks, in turn
		want map[string]int
	}{
		{"never set: ReplicaAcks", nil, map[string]int{"a": 4, "b": 4}},
		{"named and not", []set{{map[string]int{"a": 1}, 3}}, map[string]int{"a": 1, "b": 3}},
		{"a later judgement replaces both", []set{{map[string]int{"a": 1, "b": 2}, 2}, {map[string]int{"a": 5}, 5}}, map[string]int{"a": 5, "b": 5, "c": 5}},
		{"a later judgement may lower the others", []set{{map[string]int{"a": 3}, 3}, {map[string]int{"a": 1, "b": 1}, 1}}, map[string]int{"a": 1, "b": 1, "c": 1}},
		{"negative: 0", []set{{map[string]int{"a": -1}, -2}}, map[string]int{"a": 0, "b": 0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewWithConfig(nil, Config{ReplicaAcks: 4})
			for _, st := range tt.sets {
				s.SetMasterAcks(st.acks, st.others)
			}
			for addr, want := range tt.want {
				if got := s.AcksFor(addr); got != want {
					t.Errorf("AcksFor(%s) = %d, want %d", addr, got, want)
				}
			}
		})
	}
}
