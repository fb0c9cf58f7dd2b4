package store

import (
	"testing"
	"time"
)

// TestNewWithConfigDefaults pins what NewWithConfig makes of a Config: no
// negative number of replica acknowledgements, and a WAIT timeout of
// 500ms when none (or a negative one) is given.
func TestNewWithConfigDefaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		cfg        Config
		acks       int
		ackTimeout time.Duration
	}{
		{"zero", Config{}, 0, 500 * time.Millisecond},
		{"negative", Config{ReplicaAcks: -1, AckTimeout: -time.Second}, 0, 500 * time.Millisecond},
		{"given", Config{ReplicaAcks: 2, AckTimeout: time.Second}, 2, time.Second},
	}
	for _, c := range cases {
		s := NewWithConfig(nil, c.cfg)
		if got := s.ReplicaAcks(); got != c.acks {
			t.Errorf("%s: ReplicaAcks() = %d, want %d", c.name, got, c.acks)
		}
		if got := s.AcksFor("any:1"); got != c.acks {
			t.Errorf("%s: AcksFor = %d, want %d", c.name, got, c.acks)
		}
		if s.cfg.AckTimeout != c.ackTimeout {
			t.Errorf("%s: AckTimeout = %s, want %s", c.name, s.cfg.AckTimeout, c.ackTimeout)
		}
	}
}
