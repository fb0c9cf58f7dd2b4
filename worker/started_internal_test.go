package worker

import (
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestStarted: the control loop wakes the dispatch loop and the journal
// check when a campaign runs that did not at its last read (staged,
// resumed, approved), or runs a new staging; not for one that kept
// running, nor for one that stopped.
func TestStarted(t *testing.T) {
	run := func(stage string) store.Probe { return store.Probe{State: store.StateRunning, Stage: stage} }
	paused := store.Probe{State: store.StatePaused, Stage: "s1"}
	later := func(p store.Probe) store.Probe { p.At = p.At.Add(time.Second); return p }
	for _, tt := range []struct {
		name        string
		last, now   map[string]store.Probe
		wantStarted bool
	}{
		{"staged", map[string]store.Probe{}, map[string]store.Probe{"a": run("s1")}, true},
		{"resumed", map[string]store.Probe{"a": paused}, map[string]store.Probe{"a": run("s1")}, true},
		{"staged anew", map[string]store.Probe{"a": run("s1")}, map[string]store.Probe{"a": run("s2")}, true},
		{"another started beside one running", map[string]store.Probe{"a": run("s1")}, map[string]store.Probe{"a": run("s1"), "b": run("s1")}, true},
		{"kept running", map[string]store.Probe{"a": run("s1")}, map[string]store.Probe{"a": run("s1")}, false},
		{"paused and resumed between two reads", map[string]store.Probe{"a": run("s1")}, map[string]store.Probe{"a": later(run("s1"))}, true},
		{"paused", map[string]store.Probe{"a": run("s1")}, map[string]store.Probe{"a": paused}, false},
		{"gone", map[string]store.Probe{"a": run("s1")}, map[string]store.Probe{}, false},
		{"staged paused", map[string]store.Probe{}, map[string]store.Probe{"a": paused}, false},
	} {
		if got := started(tt.last, tt.now); got != tt.wantStarted {
			t.Errorf("%s: started = %v, want %v", tt.name, got, tt.wantStarted)
		}
		// Woken: the dispatch loop and the journal check, each once.
		w := &Worker{tick: make(chan struct{}, 1), recheck: make(chan struct{}, 1)}
		w.wakeStarted(tt.last, tt.now)
		w.wakeStarted(tt.last, tt.now) // a second ask while the first waits: no block
		if len(w.tick) == 1 != tt.wantStarted || len(w.recheck) == 1 != tt.wantStarted {
			t.Errorf("%s: woken tick %d, journal check %d; want both %v", tt.name, len(w.tick), len(w.recheck), tt.wantStarted)
		}
	}
}
